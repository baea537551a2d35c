/**
 * The PreToolUse path for a sendgate invocation (`node ".../scripts/send.mjs" ...`): the same
 * guards the sender runs; a block becomes "deny" with the code; a send that passes but needs
 * approval becomes "ask" with what / where / why, and the command is rewritten (updatedInput) to
 * carry an approval token bound to exactly this protocol, destination and payload, so the
 * sender's own approval check passes only when the human said yes in Claude Code's prompt.
 *
 * Loaded lazily by the hook (it pulls in the policy loader, the guards and the state store).
 */
import { isAbsolute, resolve } from 'node:path';
import { preview } from '../audit/preview.ts';
import { parseSendArgs, type SendInput } from '../cli/send-args.ts';
import { loadPolicy } from '../config/load.ts';
import type { Policy } from '../config/schema.ts';
import { isSendgateError } from '../errors.ts';
import { runGuards, STATELESS_GUARDS } from '../guards/index.ts';
import type { GuardContext } from '../guards/types.ts';
import { parseMessage } from '../message/parse.ts';
import { payloadBytes, payloadText, sendDigest } from '../message/payload.ts';
import { systemLookup, type Lookup } from '../network/resolve.ts';
import { needsApproval } from '../pipeline/send.ts';
import { mintToken, openRequest, verifyToken } from '../state/approvals.ts';
import { stateDir } from '../state/paths.ts';
import { StateStore } from '../state/store.ts';
import { parseCommandLine, SUBST, UNKNOWN, type SimpleCommand } from '../egress/shell.ts';
import type { PreToolUseDecision } from './types.ts';
import type { SendgateInvocation } from './recognise.ts';

export interface SendDecisionContext {
  env: NodeJS.ProcessEnv;
  cwd: string;
  lookup?: Lookup;
  now?: () => Date;
  loadPolicy?: (flag: string | undefined) => Policy;
}

export interface SendDecision {
  decision: PreToolUseDecision;
  /** For the hook's audit record. */
  audit?: { protocol: string; destination: string; digest?: string; approvalId?: string; result: string; code?: string };
  policy?: Policy;
}

const deny = (reason: string, audit?: SendDecision['audit'], policy?: Policy): SendDecision => ({ decision: { decision: 'deny', reason: `sendgate: ${reason}` }, ...(audit ? { audit } : {}), ...(policy ? { policy } : {}) });

export async function decideSendInvocation(invocation: SendgateInvocation, commandText: string, toolInput: Record<string, unknown>, ctx: SendDecisionContext): Promise<SendDecision> {
  const { command, scriptIndex } = invocation;
  if (invocation.skill !== 'send') {
    // xmpp-send has its own contact rules (first-contact confirmation) that only the sender can apply.
    return { decision: null };
  }
  const args = command.argv.slice(scriptIndex + 1);
  if (args.some((arg) => arg.includes(UNKNOWN) || arg.includes(SUBST))) {
    return deny('the send\'s arguments must be written out literally (no $VARIABLES or $(...) in them), so the hook can check exactly what will be sent');
  }
  // The message read from stdin: only a here-document / here-string on the command itself is known.
  const resolved: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const value = arg.startsWith('--message-file=') ? arg.slice('--message-file='.length) : arg === '--message-file' ? args[i + 1] : undefined;
    const policyValue = arg.startsWith('--policy=') ? arg.slice('--policy='.length) : arg === '--policy' ? args[i + 1] : undefined;
    if (value !== undefined) {
      if (arg === '--message-file') i++;
      if (value === '-') {
        const doc = command.redirects.find((r) => (r.fd === null || r.fd === 0) && (r.op === '<<' || r.op === '<<-' || r.op === '<<<'));
        const file = command.redirects.find((r) => (r.fd === null || r.fd === 0) && r.op === '<');
        if (doc) resolved.push('--message', `${doc.text ?? ''}\n`);
        else if (file) resolved.push('--message-file', absolute(file.target, ctx.cwd));
        else return deny('with --message-file - the message must come from a here-document or a file redirect on the same command, so the hook can check it (or pass --message / --message-file FILE)');
      } else resolved.push('--message-file', absolute(value, ctx.cwd));
      continue;
    }
    if (policyValue !== undefined) {
      if (arg === '--policy') i++;
      resolved.push('--policy', absolute(policyValue, ctx.cwd));
      continue;
    }
    resolved.push(arg);
  }

  let input: SendInput | 'help';
  try {
    input = parseSendArgs(resolved);
  } catch (error) {
    // Bad usage: the sender refuses it too (exit 64) and sends nothing.
    if (isSendgateError(error)) return { decision: null };
    throw error;
  }
  if (input === 'help' || input.dryRun) return { decision: null };

  let policy: Policy;
  try {
    policy = ctx.loadPolicy ? ctx.loadPolicy(input.policyFile) : loadPolicy({ flag: input.policyFile, env: ctx.env }).policy;
  } catch (error) {
    if (isSendgateError(error)) return deny(`${error.code}: ${error.message}`);
    throw error;
  }
  let message;
  try {
    message = parseMessage(input.message, input.protocol);
  } catch (error) {
    if (isSendgateError(error)) return { decision: null, policy };
    throw error;
  }

  const context: GuardContext = {
    request: { skill: 'send', protocol: input.protocol, destination: input.destination, message },
    policy,
    deps: { lookup: ctx.lookup ?? systemLookup, overrides: input.resolve, now: ctx.now ?? (() => new Date()) },
  };
  let run;
  try {
    run = await runGuards(context, STATELESS_GUARDS);
  } catch (error) {
    if (isSendgateError(error)) return deny(`${error.code}: ${error.message}`, undefined, policy);
    throw error;
  }
  const destination = context.target?.display ?? preview(input.destination, 200);
  if (run.blocked) {
    const blocked = run.constraints.find((constraint) => constraint.result === 'block')!;
    return deny(`${blocked.code}: ${blocked.reason}. Do not retry or work around this; tell the user.`, { protocol: input.protocol, destination, result: 'denied', code: blocked.code }, policy);
  }
  const target = context.target!;
  if (policy.mode === 'draft' || !needsApproval(policy, target)) return { decision: null, policy, audit: { protocol: input.protocol, destination, result: 'passed' } };

  const now = (ctx.now ?? (() => new Date()))();
  const store = new StateStore(stateDir(ctx.env));
  const key = await store.hmacKey();
  const digest = sendDigest(input.protocol, target.display, message);
  if (input.approvalToken) {
    // A token must be one this installation issued for exactly this message; anything else is refused here.
    const check = verifyToken(key, input.approvalToken, digest, now);
    if (!check.ok) return deny(`APPROVAL_INVALID: ${check.reason}. Run the same command without --approval-token to ask the user.`, { protocol: input.protocol, destination, digest, result: 'denied', code: 'APPROVAL_INVALID' }, policy);
    return { decision: null, policy, audit: { protocol: input.protocol, destination, digest, approvalId: check.id, result: 'token_valid' } };
  }

  const text = payloadText(message);
  const request = await store.transaction(['approvals'], (state) =>
    openRequest(state.approvals, { digest, skill: 'send', protocol: input.protocol, destination: target.display, summary: preview(text, 300), reason: 'asked in Claude Code\'s permission prompt', kind: 'approval' }, now, policy.approval.ttl_seconds),
  );
  const expiresAt = new Date(Math.min(Date.parse(request.expires_at), now.getTime() + policy.approval.ttl_seconds * 1000));
  const token = mintToken(key, request.id, digest, expiresAt);
  const passed = run.constraints.filter((constraint) => constraint.result === 'pass').map((constraint) => constraint.guard);
  const reason =
    `sendgate: approve this send? ${input.protocol.toUpperCase()} to ${target.display} — ${payloadBytes(message)} bytes: "${preview(text, 160)}". ` +
    `Checks passed: ${[...new Set(passed)].join(', ') || 'all'}. Why ask: the policy requires a human's approval (approval.required). ` +
    `Yes sends exactly this message once (approval ${request.id}, valid until ${expiresAt.toISOString()}); No sends nothing.`;
  const rewritten = insertToken(commandText, invocation, token);
  const audit = { protocol: input.protocol, destination, digest, approvalId: request.id, result: 'asked' };
  if (!rewritten) {
    // The command could not be rewritten safely: ask anyway; the sender will then ask for approve.mjs.
    return { decision: { decision: 'ask', reason: `${reason} (The approval could not be attached to this command; if the send then asks for approval, the user runs approve.mjs.)` }, policy, audit };
  }
  return { decision: { decision: 'ask', reason, updatedInput: { ...toolInput, command: rewritten } }, policy, audit };
}

function absolute(path: string, cwd: string): string {
  return isAbsolute(path) ? path : resolve(cwd, path);
}

/**
 * Inserts `--approval-token T` right after the script path, then proves the result is the same
 * command with exactly that one addition (same words, same redirections); otherwise null.
 */
export function insertToken(commandText: string, invocation: SendgateInvocation, token: string): string | null {
  const script = invocation.command.argv[invocation.scriptIndex]!;
  const name = script.slice(script.lastIndexOf('/') + 1);
  const pattern = new RegExp(`${escapeRegExp(name)}(["']?)(?=\\s|$)`, 'g');
  const matches = [...commandText.matchAll(pattern)];
  if (matches.length !== 1) return null;
  const match = matches[0]!;
  const at = match.index! + match[0].length;
  const rewritten = `${commandText.slice(0, at)} --approval-token ${token}${commandText.slice(at)}`;
  const before = parseCommandLine(commandText).commands.filter((c) => c.argv.length > 0);
  const after = parseCommandLine(rewritten).commands.filter((c) => c.argv.length > 0);
  if (before.length !== 1 || after.length !== 1) return null;
  const expected = [...before[0]!.argv.slice(0, invocation.scriptIndex + 1), '--approval-token', token, ...before[0]!.argv.slice(invocation.scriptIndex + 1)];
  if (!sameCommand(after[0]!, { ...before[0]!, argv: expected })) return null;
  return rewritten;
}

function sameCommand(a: SimpleCommand, b: SimpleCommand): boolean {
  return (
    JSON.stringify(a.argv) === JSON.stringify(b.argv) &&
    JSON.stringify(a.assignments) === JSON.stringify(b.assignments) &&
    JSON.stringify(a.redirects) === JSON.stringify(b.redirects)
  );
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
