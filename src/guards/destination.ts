/**
 * Allow and deny lists. Deny wins; when the allowlist has entries for a kind of check (URLs,
 * servers, e-mail recipients, JIDs), everything of that kind that matches none is blocked.
 */
import type { Policy } from '../config/schema.ts';
import type { Constraint } from '../contract.ts';
import { endpointFor } from '../target/endpoint.ts';
import { appliesTo, classifyPattern, matchAddress, matchServer, matchUrl, type Pattern } from '../target/patterns.ts';
import type { Target } from '../target/parse.ts';
import type { Message } from '../message/types.ts';
import { block, pass, type Guard } from './types.ts';

const compiled = new WeakMap<readonly string[], Pattern[]>();

/** Patterns are validated at policy load; this cache keeps the hook's hot path free of re-parsing. */
export function compilePatterns(list: readonly string[]): Pattern[] {
  let patterns = compiled.get(list);
  if (!patterns) {
    patterns = list.map(classifyPattern);
    compiled.set(list, patterns);
  }
  return patterns;
}

type Check = { kind: 'url'; url: URL } | { kind: 'server'; host: string; port: number } | { kind: 'mailto' | 'xmpp'; address: string };

function describe(check: Check): string {
  if (check.kind === 'url') return check.url.href;
  if (check.kind === 'server') return `${check.host}:${check.port}`;
  return check.kind === 'mailto' ? check.address : `xmpp:${check.address}`;
}

function matches(pattern: Pattern, check: Check): boolean {
  switch (check.kind) {
    case 'url':
      return matchUrl(pattern, check.url);
    case 'server':
      return matchServer(pattern, check.host, check.port);
    default:
      return matchAddress(pattern, check.address, check.kind);
  }
}

/** Recipients of a mail: the destination's addresses plus the message's to / cc / bcc. */
export function mailRecipients(target: Target, message: Message): string[] {
  const fromMessage = message.protocol === 'smtp' ? [...message.to, ...message.cc, ...message.bcc] : [];
  return [...new Set([...target.addresses, ...fromMessage.map((address) => address.toLowerCase())])];
}

export function checksFor(target: Target, message: Message, policy: Policy): Check[] {
  switch (target.protocol) {
    case 'http':
      return [{ kind: 'url', url: target.url! }];
    case 'smtp': {
      const recipients = mailRecipients(target, message).map((address) => ({ kind: 'mailto' as const, address }));
      // An smtp:// destination names its server; e-mail addresses go through the policy's own smtp.server,
      // which the operator chose (a host allowlist for webhooks must not block it).
      if (target.kind !== 'url') return recipients;
      const endpoint = endpointFor(target, policy);
      return [{ kind: 'server', host: endpoint.host, port: endpoint.port }, ...recipients];
    }
    case 'xmpp':
      return [{ kind: 'xmpp', address: target.jid!.bare }];
  }
}

export function evaluateLists(checks: Check[], policy: Policy): Constraint[] {
  const deny = compilePatterns(policy.destinations.deny);
  const allow = compilePatterns(policy.destinations.allow);
  const passed: string[] = [];
  for (const check of checks) {
    const denied = deny.find((pattern) => matches(pattern, check));
    if (denied) return [block('destination', 'DESTINATION_DENIED', `${describe(check)} matches the deny list entry "${denied.source}"`, { entry: denied.source })];
    const relevant = allow.filter((pattern) => appliesTo(pattern, check.kind));
    if (relevant.length === 0) continue;
    const allowed = relevant.find((pattern) => matches(pattern, check));
    if (!allowed) {
      return [block('destination', 'DESTINATION_NOT_ALLOWED', `${describe(check)} is not on the allowlist (destinations.allow); ask the user to add it to the policy if it should be reachable`)];
    }
    passed.push(`${describe(check)} (${allowed.source})`);
  }
  return passed.length ? [pass('destination', 'DESTINATION_ALLOWED', `allowlisted: ${passed.join(', ')}`)] : [];
}

export const destinationGuard: Guard = {
  name: 'destination',
  check(context) {
    const target = context.target!;
    const { policy } = context;
    const results = evaluateLists(checksFor(target, context.request.message, policy), policy);
    if (results.some((constraint) => constraint.result === 'block')) return results;
    const ports = policy.network.allowed_ports;
    if (ports.length > 0) {
      const { port } = endpointFor(target, policy);
      if (!ports.includes(port)) {
        return [...results, block('destination', 'PORT_NOT_ALLOWED', `port ${port} is not in network.allowed_ports (${ports.join(', ')})`)];
      }
    }
    return results;
  },
};
