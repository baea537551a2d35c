/**
 * The network guard: resolve the endpoint the transport will connect to, classify every address,
 * and block when any one is not globally reachable (unless the operator opened its range). The
 * vetted addresses are handed on so the transport connects to exactly these (pinning).
 */
import { classifyAddress, inAllowedPrivate } from '../network/classify.ts';
import { resolveHost } from '../network/resolve.ts';
import { internalName } from '../network/special-names.ts';
import { endpointFor } from '../target/endpoint.ts';
import type { Policy } from '../config/schema.ts';
import type { Constraint } from '../contract.ts';
import type { HostKind } from '../target/host.ts';
import type { Message } from '../message/types.ts';
import type { Target } from '../target/parse.ts';
import { mailRecipients } from './destination.ts';
import { block, pass, type Guard, type GuardDeps } from './types.ts';

export interface AddressVerdict {
  ok: boolean;
  constraint: Constraint;
  addresses: string[];
}

/** Classify a host (name or literal) the way every transport and the hook must. */
export async function checkHost(host: string, hostKind: HostKind, policy: Policy, deps: Pick<GuardDeps, 'lookup' | 'overrides'>): Promise<AddressVerdict> {
  let addresses: string[];
  try {
    addresses = (await resolveHost(host, hostKind, deps.overrides, deps.lookup)).addresses;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    return { ok: false, addresses: [], constraint: block('network', 'DNS_FAILED', `cannot resolve ${host} (${code}); nothing is sent to a name that does not resolve`) };
  }
  const nameReason = hostKind === 'name' ? internalName(host) : null;
  const opened: string[] = [];
  for (const address of addresses) {
    let verdict;
    try {
      verdict = classifyAddress(address);
    } catch {
      return { ok: false, addresses, constraint: block('network', 'NETWORK_INTERNAL', `${host} resolved to "${address}", which is not an IP address`) };
    }
    const openedBy = inAllowedPrivate(verdict.address, policy.network.allow_private) ?? inAllowedPrivate(address, policy.network.allow_private);
    if (openedBy) {
      opened.push(`${address} (${openedBy})`);
      continue;
    }
    if (!verdict.global) {
      const via = address === host ? '' : ` (${host} resolves to ${address})`;
      return {
        ok: false,
        addresses,
        constraint: block('network', 'NETWORK_INTERNAL', `${address} is a ${verdict.range} address${via}: only public destinations are reachable unless the operator opens the range in network.allow_private`, { address, range: verdict.range }),
      };
    }
    if (nameReason) {
      return {
        ok: false,
        addresses,
        constraint: block('network', 'NETWORK_INTERNAL', `${host} is a ${nameReason}: internal by name, whatever it resolves to`, { range: 'internal-name' }),
      };
    }
  }
  if (opened.length > 0) {
    return { ok: true, addresses, constraint: pass('network', 'NETWORK_PRIVATE_ALLOWED', `${host} -> ${opened.join(', ')}: opened by network.allow_private`) };
  }
  return { ok: true, addresses, constraint: pass('network', 'NETWORK_PUBLIC', `${host} -> ${addresses.join(', ')}: public`) };
}

function internalRecipientDomain(target: Target, message: Message): Constraint | null {
  const domains =
    target.protocol === 'xmpp' ? [target.jid!.domain] : target.protocol === 'smtp' ? mailRecipients(target, message).map((address) => address.slice(address.lastIndexOf('@') + 1)) : [];
  for (const domain of new Set(domains)) {
    const reason = internalName(domain.toLowerCase().replace(/\.$/, ''));
    if (reason) {
      return block('network', 'NETWORK_INTERNAL', `the recipient domain ${domain} is a ${reason}: the server would deliver it inside its own network; only public recipients are reachable unless the operator opens the server's range in network.allow_private`, { range: 'internal-name', domain });
    }
  }
  return null;
}

export const networkGuard: Guard = {
  name: 'network',
  async check(context) {
    const endpoint = endpointFor(context.target!, context.policy);
    const verdict = await checkHost(endpoint.host, endpoint.hostKind, context.policy, context.deps);
    if (!verdict.ok) return [verdict.constraint];
    // Mail and XMPP servers relay onwards to the recipients' domains: a domain that is internal by name
    // (localhost, *.local, *.internal, single labels, ...) would be reached from inside the server's
    // network. Only an operator who runs an internal server on purpose (allow_private) sends there.
    if (verdict.constraint.code !== 'NETWORK_PRIVATE_ALLOWED') {
      const blocked = internalRecipientDomain(context.target!, context.request.message);
      if (blocked) return [blocked];
    }
    context.endpoint = { host: endpoint.host, hostKind: endpoint.hostKind, port: endpoint.port, addresses: verdict.addresses };
    return [verdict.constraint];
  },
};
