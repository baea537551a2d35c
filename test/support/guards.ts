/**
 * Shared helpers for the guard tests: a fake DNS (never the real one), a policy built through the
 * real schema, and one call that runs the real guard chain the sender and the hook run.
 */
import { policySchema, type Policy, type PolicyInput } from '../../src/config/schema.ts';
import type { Constraint, Protocol } from '../../src/contract.ts';
import { runGuards, STATELESS_GUARDS } from '../../src/guards/index.ts';
import type { Guard, GuardContext } from '../../src/guards/types.ts';
import { parseMessage } from '../../src/message/parse.ts';
import type { Lookup } from '../../src/network/resolve.ts';

export type DnsTable = Record<string, readonly string[] | Error>;

/** A lookup that answers from a table ('*' answers any other name), records every question, and fails closed for unknown names. */
export function fakeDns(table: DnsTable = {}) {
  const calls: string[] = [];
  const lookup: Lookup = async (host) => {
    calls.push(host);
    const answer = table[host] ?? table['*'];
    if (answer instanceof Error) throw answer;
    if (!answer) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
    return [...answer];
  };
  return { lookup, calls };
}

export function makePolicy(input: Omit<PolicyInput, 'version'> = {}): Policy {
  return policySchema.parse({ version: 1, ...input });
}

const MESSAGES: Record<Protocol, string> = {
  http: 'hello from the tests',
  smtp: JSON.stringify({ subject: 'test', body: 'hello from the tests' }),
  xmpp: 'hello from the tests',
};

export interface GuardOptions {
  policy?: Policy;
  dns?: DnsTable;
  overrides?: Record<string, string[]>;
  message?: string;
  guards?: readonly Guard[];
}

export interface GuardOutcome {
  blocked: boolean;
  constraints: Constraint[];
  /** The first blocking constraint's code, or null when every guard passed. */
  code: string | null;
  reason: string;
  lookups: string[];
  context: GuardContext;
}

export async function guard(destination: string, protocol: Protocol, options: GuardOptions = {}): Promise<GuardOutcome> {
  const dns = fakeDns(options.dns);
  const context: GuardContext = {
    request: { skill: 'send', protocol, destination, message: parseMessage(options.message ?? MESSAGES[protocol], protocol) },
    policy: options.policy ?? makePolicy(),
    deps: { lookup: dns.lookup, overrides: new Map(Object.entries(options.overrides ?? {})), now: () => new Date('2026-01-01T00:00:00Z') },
  };
  const run = await runGuards(context, options.guards ?? STATELESS_GUARDS);
  const blocking = run.constraints.find((constraint) => constraint.result === 'block');
  return {
    blocked: run.blocked,
    constraints: run.constraints,
    code: blocking?.code ?? null,
    reason: blocking?.reason ?? '',
    lookups: dns.calls,
    context,
  };
}
