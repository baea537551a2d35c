/**
 * The payload inspection guard: secrets (payload.secrets) and personal data (payload.pii, per
 * kind) in every part of the message that leaves (HTTP header lines and body, mail subject, text
 * and HTML, XMPP body), whatever wrapping they are in (see src/secrets/normalize.ts).
 *
 * Reasons and details name the rule ids and masked excerpts only ("github-token ghp_…(40 chars)");
 * the value itself never reaches output, errors, logs or the audit record. E-mail and phone
 * detection ignores the message's own sender and recipients.
 */
import type { Policy } from '../config/schema.ts';
import type { Constraint } from '../contract.ts';
import { payloadText } from '../message/payload.ts';
import { describeFindings, scanPayload, type Finding } from '../secrets/scan.ts';
import type { Target } from '../target/parse.ts';
import { block, pass, warn, type Guard, type SendRequest } from './types.ts';

/** The message's own addresses: recipients (mail to/cc/bcc, the destination's, the XMPP target) and the configured senders. */
export function ownAddresses(request: SendRequest, policy: Policy, target: Target | undefined): string[] {
  const addresses: string[] = [];
  const { message } = request;
  if (message.protocol === 'smtp') addresses.push(...message.to, ...message.cc, ...message.bcc);
  if (target) {
    addresses.push(...target.addresses);
    if (target.jid) addresses.push(target.jid.bare);
  }
  if (policy.smtp.from) addresses.push(policy.smtp.from);
  if (policy.xmpp.jid) addresses.push(policy.xmpp.jid);
  // "Name <addr@host>" -> addr@host; JIDs lose their resource.
  return [...new Set(addresses.map((address) => (/<([^<>]+)>/.exec(address)?.[1] ?? address).trim().replace(/\/.*$/, '').toLowerCase()).filter(Boolean))];
}

function summary(findings: readonly Finding[]): Array<Record<string, string>> {
  return findings.slice(0, 20).map((finding) => ({
    rule: finding.ruleId,
    kind: finding.piiKind ?? finding.kind,
    masked: finding.masked,
    action: finding.action,
    view: finding.view,
  }));
}

function constraintFor(code: 'SECRET_IN_PAYLOAD' | 'PII_IN_PAYLOAD', findings: readonly Finding[], setting: string): Constraint {
  const blocking = findings.filter((finding) => finding.action === 'block');
  const what = code === 'SECRET_IN_PAYLOAD' ? (findings.length === 1 ? 'a secret' : `${findings.length} secrets`) : findings.length === 1 ? 'personal data' : `${findings.length} pieces of personal data`;
  const reason = `the message contains ${what}: ${describeFindings(findings)} (${setting})`;
  const detail = { findings: summary(findings), count: findings.length };
  return blocking.length > 0 ? block('payload', code, reason, detail) : warn('payload', code, reason, detail);
}

function piiSetting(policy: Policy): string {
  const pii = policy.payload.pii;
  if (typeof pii === 'string') return `payload.pii: ${pii}`;
  return `payload.pii: ${Object.entries(pii)
    .map(([kind, mode]) => `${kind}=${mode}`)
    .join(', ')}`;
}

export const secretsGuard: Guard = {
  name: 'payload',
  check({ request, policy, target }) {
    const secrets = policy.payload.secrets;
    const pii = policy.payload.pii;
    const piiOff = typeof pii === 'string' ? pii === 'off' : Object.values(pii).every((mode) => mode === 'off');
    if (secrets === 'off' && piiOff) {
      return [pass('payload', 'PAYLOAD_CLEAN', 'secret and personal-data scanning are off (payload.secrets: off, payload.pii: off)')];
    }
    const findings = scanPayload(payloadText(request.message), {
      secrets,
      pii,
      ignoreAddresses: ownAddresses(request, policy, target),
      maxFindings: 100,
    });
    const found = { secret: findings.filter((f) => f.kind === 'secret'), pii: findings.filter((f) => f.kind === 'pii') };
    const constraints: Constraint[] = [];
    if (found.secret.length > 0) constraints.push(constraintFor('SECRET_IN_PAYLOAD', found.secret, `payload.secrets: ${secrets}`));
    if (found.pii.length > 0) constraints.push(constraintFor('PII_IN_PAYLOAD', found.pii, piiSetting(policy)));
    if (constraints.length === 0) {
      const checked = [secrets !== 'off' ? 'secrets' : null, !piiOff ? 'personal data' : null].filter(Boolean).join(' or ');
      constraints.push(pass('payload', 'PAYLOAD_CLEAN', `no ${checked} found in the message`));
    }
    // A block first, so the pipeline stops on it and the reason shown is the blocking one.
    return constraints.sort((a, b) => Number(b.result === 'block') - Number(a.result === 'block'));
  },
};
