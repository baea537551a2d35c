/**
 * `send` command line -> SendInput. Validation only; no policy, no I/O beyond reading --message-file.
 */
import { PROTOCOLS, type Protocol } from '../contract.ts';
import { UsageError } from '../errors.ts';
import { parseResolveFlags } from '../network/resolve.ts';
import { parseCommandLine, parseIntegerFlag, parseJsonFlag, readTextArgument } from './args.ts';
import type { Format } from './output.ts';

export const SEND_HELP = `Usage: send.mjs --destination D --protocol http|smtp|xmpp (--message JSON|TEXT | --message-file F|-) [options]

Send one message through sendgate's guards: destination and network checks, payload (secret/PII)
inspection, rate limits and human approval; then checkpoint, deliver with confirmation, and audit.

Required:
  --destination D        URL (https://hooks.example.com/x), host[:port], smtp://host:587,
                         mailto:/e-mail address, or JID (xmpp:user@domain, room@conference.domain)
  --protocol P           http | smtp | xmpp
  --message M            the message: text, or JSON
                           http: any JSON is sent as the JSON body; or an envelope
                                 {"method","headers","body"|"json","content_type"}
                           smtp: {"to","cc","bcc","subject","body","html"}
                           xmpp: text, or {"body","type":"chat"|"groupchat"}
  --message-file F       read the message from a file, or - for stdin

Options:
  --approval-token T     the token the user approved (from approve.mjs or Claude Code's prompt)
  --checkpoint-ref C     resume the checkpoint C (an earlier, interrupted send of the same message)
  --constraints JSON     per-call limits, e.g. '{"rate_limit":"100/hour","max_bytes":2048}'
  --timeout MS           per-attempt timeout in milliseconds
  --retry-policy JSON    '{"max_attempts":3,"base_delay_ms":500,"max_delay_ms":10000}'
  --policy FILE          policy file (else $SENDGATE_POLICY, $CLAUDE_PROJECT_DIR/.claude/sendgate.yaml,
                         ~/.config/sendgate/policy.yaml; none = secure defaults)
  --resolve HOST=ADDR[,ADDR...]   use these addresses for HOST instead of DNS (repeatable)
  --dry-run              run every guard, send nothing, consume no approval, count toward no limit
  --format yaml|json     output format (default yaml)
  -h, --help             this help

Exit codes: 0 sent/queued/draft/dry-run passed; 1 delivery failed; 2 blocked by policy;
3 approval or confirmation required; 64 bad usage; 78 bad configuration.
Never work around a block: tell the user what was blocked and why, and ask them to approve
or change the policy.
`;

export interface RetryPolicy {
  max_attempts: number;
  base_delay_ms: number;
  max_delay_ms: number;
}

export interface CallConstraints {
  rate_limit?: { count: number; windowMs: number; text: string };
  max_bytes?: number;
}

export interface SendInput {
  destination: string;
  protocol: Protocol;
  message: string;
  approvalToken?: string | undefined;
  checkpointRef?: string | undefined;
  constraints: CallConstraints;
  timeoutMs?: number | undefined;
  retryPolicy?: Partial<RetryPolicy> | undefined;
  policyFile?: string | undefined;
  resolve: Map<string, string[]>;
  dryRun: boolean;
  format: Format;
}

const options = {
  destination: { type: 'string' },
  protocol: { type: 'string' },
  message: { type: 'string' },
  'message-file': { type: 'string' },
  'approval-token': { type: 'string' },
  'checkpoint-ref': { type: 'string' },
  constraints: { type: 'string' },
  timeout: { type: 'string' },
  'retry-policy': { type: 'string' },
  policy: { type: 'string' },
  resolve: { type: 'string', multiple: true },
  'dry-run': { type: 'boolean' },
  format: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

export function parseFormat(value: string | undefined): Format {
  if (value === undefined || value === 'yaml' || value === 'json') return value ?? 'yaml';
  throw new UsageError(`--format ${value}: expected yaml or json`);
}

export function parseSendArgs(argv: string[]): SendInput | 'help' {
  const { values } = parseCommandLine(argv, options, 'send');
  if (values.help) return 'help';
  if (!values.destination) throw new UsageError('send: --destination is required (a URL, host, e-mail address or JID)');
  if (!values.protocol) throw new UsageError('send: --protocol is required (http, smtp or xmpp)');
  const protocol = values.protocol.toLowerCase();
  if (!(PROTOCOLS as readonly string[]).includes(protocol)) throw new UsageError(`send: --protocol ${values.protocol}: expected one of ${PROTOCOLS.join(', ')}`);
  if (values.message !== undefined && values['message-file'] !== undefined) throw new UsageError('send: give --message or --message-file, not both');
  const message = values.message ?? (values['message-file'] !== undefined ? readTextArgument(values['message-file'], '--message-file') : undefined);
  if (message === undefined) throw new UsageError('send: --message (or --message-file) is required');
  if (values['approval-token'] !== undefined && !/^[A-Za-z0-9._-]{10,400}$/.test(values['approval-token'])) {
    throw new UsageError('send: --approval-token is malformed (copy it exactly as approve.mjs printed it)');
  }
  if (values['checkpoint-ref'] !== undefined && !/^[A-Za-z0-9_-]{6,100}$/.test(values['checkpoint-ref'])) {
    throw new UsageError('send: --checkpoint-ref is malformed (copy the checkpoint_ref of an earlier output)');
  }
  return {
    destination: values.destination,
    protocol: protocol as Protocol,
    message,
    approvalToken: values['approval-token'],
    checkpointRef: values['checkpoint-ref'],
    constraints: parseConstraints(values.constraints),
    timeoutMs: parseIntegerFlag(values.timeout, '--timeout', 100, 600_000),
    retryPolicy: parseRetryPolicy(values['retry-policy']),
    policyFile: values.policy,
    resolve: parseResolveFlags(values.resolve ?? []),
    dryRun: values['dry-run'] ?? false,
    format: parseFormat(values.format),
  };
}

const WINDOWS: Record<string, number> = { second: 1_000, minute: 60_000, hour: 3_600_000, day: 86_400_000 };

export function parseRateLimit(text: string, flag = '--constraints rate_limit'): { count: number; windowMs: number; text: string } {
  const match = /^\s*(\d{1,6})\s*\/\s*(second|minute|hour|day|s|m|h|d)\s*$/i.exec(text);
  if (!match) throw new UsageError(`${flag} "${text}": expected N/minute, N/hour or N/day (e.g. "100/hour")`);
  const unit = match[2]!.toLowerCase();
  const full = Object.keys(WINDOWS).find((key) => key === unit || key[0] === unit)!;
  const count = Number(match[1]);
  if (count < 1) throw new UsageError(`${flag} "${text}": the count must be at least 1`);
  return { count, windowMs: WINDOWS[full]!, text: `${count}/${full}` };
}

function parseConstraints(value: string | undefined): CallConstraints {
  const json = parseJsonFlag(value, '--constraints');
  if (json === undefined) return {};
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new UsageError('--constraints must be a JSON object, e.g. {"rate_limit":"100/hour"}');
  const constraints: CallConstraints = {};
  for (const [key, item] of Object.entries(json)) {
    if (key === 'rate_limit') {
      if (typeof item !== 'string') throw new UsageError('--constraints rate_limit must be a string such as "100/hour"');
      constraints.rate_limit = parseRateLimit(item);
    } else if (key === 'max_bytes') {
      if (!Number.isInteger(item) || (item as number) < 1) throw new UsageError('--constraints max_bytes must be a positive integer');
      constraints.max_bytes = item as number;
    } else {
      throw new UsageError(`--constraints: unknown key "${key}" (known: rate_limit, max_bytes)`);
    }
  }
  return constraints;
}

function parseRetryPolicy(value: string | undefined): Partial<RetryPolicy> | undefined {
  const json = parseJsonFlag(value, '--retry-policy');
  if (json === undefined) return undefined;
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new UsageError('--retry-policy must be a JSON object');
  const limits: Record<keyof RetryPolicy, [number, number]> = { max_attempts: [1, 10], base_delay_ms: [0, 60_000], max_delay_ms: [0, 300_000] };
  const result: Partial<RetryPolicy> = {};
  for (const [key, item] of Object.entries(json)) {
    const range = limits[key as keyof RetryPolicy];
    if (!range) throw new UsageError(`--retry-policy: unknown key "${key}" (known: ${Object.keys(limits).join(', ')})`);
    if (!Number.isInteger(item) || (item as number) < range[0] || (item as number) > range[1]) {
      throw new UsageError(`--retry-policy ${key}: expected an integer ${range[0]}..${range[1]}`);
    }
    result[key as keyof RetryPolicy] = item as number;
  }
  return result;
}
