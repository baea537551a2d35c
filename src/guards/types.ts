import type { Policy } from '../config/schema.ts';
import type { Constraint, Protocol } from '../contract.ts';
import type { Message } from '../message/types.ts';
import type { Lookup, ResolveOverrides } from '../network/resolve.ts';
import type { Target } from '../target/parse.ts';
import type { HostKind } from '../target/host.ts';

export interface SendRequest {
  skill: 'send' | 'xmpp_send';
  protocol: Protocol;
  destination: string;
  message: Message;
}

export interface GuardDeps {
  lookup: Lookup;
  overrides: ResolveOverrides;
  now: () => Date;
}

/** Where a transport will connect, and the vetted addresses it may use (and no others). */
export interface Endpoint {
  host: string;
  hostKind: HostKind;
  port: number;
  addresses: string[];
}

/** Guards run in order over one context; earlier guards fill in what later ones need. */
export interface GuardContext {
  request: SendRequest;
  policy: Policy;
  deps: GuardDeps;
  target?: Target;
  endpoint?: Endpoint;
}

export interface Guard {
  name: string;
  check(context: GuardContext): Promise<Constraint[]> | Constraint[];
}

export function pass(guard: string, code: Constraint['code'], reason: string, detail?: Record<string, unknown>): Constraint {
  return detail ? { code, guard, result: 'pass', reason, detail } : { code, guard, result: 'pass', reason };
}

export function block(guard: string, code: Constraint['code'], reason: string, detail?: Record<string, unknown>): Constraint {
  return detail ? { code, guard, result: 'block', reason, detail } : { code, guard, result: 'block', reason };
}

export function warn(guard: string, code: Constraint['code'], reason: string, detail?: Record<string, unknown>): Constraint {
  return detail ? { code, guard, result: 'warn', reason, detail } : { code, guard, result: 'warn', reason };
}
