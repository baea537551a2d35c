/**
 * `xmpp-send` command line -> the inputs of one XMPP send. Validation only (plus reading
 * --body-file); the credentials never come from here: they are in the environment or a 0600 file.
 */
import { UsageError } from '../errors.ts';
import { invalidXmlCharIndex } from '../message/attribution.ts';
import { parseCommandLine, readTextArgument } from './args.ts';
import type { Format } from './output.ts';
import { parseFormat } from './send-args.ts';

export const XMPP_SEND_HELP = `Usage: xmpp-send.mjs --to JID (--body TEXT | --body-file F|-) [options]

Send one XMPP message to a contact or a room, on the user's behalf, through sendgate's guards:
contact allowlist (explicit, roster, mutual subscription only), first-contact confirmation, rate
limits (per minute, per hour, per contact) with cooldown, secret/PII scan, body size limit; then
checkpoint, deliver with confirmation (server ack, XEP-0184 receipt) and audit.

Required:
  --to JID               bob@example.com, or a room: ops@conference.example.com (with --type groupchat)
  --body TEXT            the message text
  --body-file F          read the message text from a file, or - for stdin

Options:
  --type chat|groupchat  chat (default) to a person; groupchat to a room (joined under xmpp.nick)
  --approval-token T     the token the user gave you after confirming (approve.mjs / Claude Code prompt)
  --policy FILE          policy file (else $SENDGATE_POLICY, $CLAUDE_PROJECT_DIR/.claude/sendgate.yaml,
                         ~/.config/sendgate/policy.yaml; none = secure defaults)
  --dry-run              run every guard, send nothing, consume no approval, count toward no limit
  --format yaml|json     output format (default yaml)
  -h, --help             this help

The account is xmpp.jid in the policy; its password comes from the environment variable named by
xmpp.password_env (default SENDGATE_XMPP_PASSWORD) or the 0600 file named by xmpp.password_file.

Exit codes: 0 sent/draft/dry-run passed; 1 delivery failed (the XMPP condition is in delivery.error);
2 blocked by policy; 3 confirmation or approval required (show the user the drafted message and ask:
yes, no, or always for this contact); 64 bad usage; 78 bad configuration.
Never work around a block, and never approve or confirm on the user's behalf.
`;

export interface XmppSendInput {
  to: string;
  body: string;
  type: 'chat' | 'groupchat';
  approvalToken?: string | undefined;
  policyFile?: string | undefined;
  dryRun: boolean;
  format: Format;
}

const options = {
  to: { type: 'string' },
  body: { type: 'string' },
  'body-file': { type: 'string' },
  type: { type: 'string' },
  'approval-token': { type: 'string' },
  policy: { type: 'string' },
  'dry-run': { type: 'boolean' },
  format: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

export function parseXmppSendArgs(argv: string[]): XmppSendInput | 'help' {
  const { values } = parseCommandLine(argv, options, 'xmpp-send');
  if (values.help) return 'help';
  if (!values.to) throw new UsageError('xmpp-send: --to is required (a JID such as bob@example.com, or a room with --type groupchat)');
  if (values.body !== undefined && values['body-file'] !== undefined) throw new UsageError('xmpp-send: give --body or --body-file, not both');
  const body = values.body ?? (values['body-file'] !== undefined ? readTextArgument(values['body-file'], '--body-file') : undefined);
  if (body === undefined) throw new UsageError('xmpp-send: --body (or --body-file) is required');
  if (body.trim() === '') throw new UsageError('xmpp-send: the message body is empty');
  const bad = invalidXmlCharIndex(body);
  if (bad >= 0) throw new UsageError(`xmpp-send: the message has a character XMPP cannot carry (U+${body.charCodeAt(bad).toString(16).toUpperCase().padStart(4, '0')} at position ${bad}); remove control characters`);
  const type = values.type ?? 'chat';
  if (type !== 'chat' && type !== 'groupchat') throw new UsageError(`xmpp-send: --type ${type}: expected chat or groupchat`);
  if (values['approval-token'] !== undefined && !/^[A-Za-z0-9._-]{10,400}$/.test(values['approval-token'])) {
    throw new UsageError('xmpp-send: --approval-token is malformed (copy it exactly as approve.mjs printed it)');
  }
  return {
    to: values.to,
    body,
    type,
    approvalToken: values['approval-token'],
    policyFile: values.policy,
    dryRun: values['dry-run'] ?? false,
    format: parseFormat(values.format),
  };
}
