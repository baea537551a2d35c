/**
 * Name resolution through the same lookup the transports use (dns.lookup, every address), with
 * curl-style --resolve overrides and `localhost` answered locally. The addresses returned here are
 * the only ones a transport may connect to (pinning), so a second, different answer (DNS rebinding)
 * is never used.
 */
import { lookup as dnsLookup } from 'node:dns/promises';
import { UsageError } from '../errors.ts';
import { normalizeHost, type HostKind } from '../target/host.ts';

export type Lookup = (host: string) => Promise<string[]>;

/** host -> addresses, keyed by the normalised host. */
export type ResolveOverrides = ReadonlyMap<string, readonly string[]>;

export const systemLookup: Lookup = async (host) => {
  const answers = await dnsLookup(host, { all: true, verbatim: true });
  return answers.map((answer) => answer.address);
};

export interface Resolution {
  addresses: string[];
  source: 'literal' | 'override' | 'localhost' | 'dns';
}

export async function resolveHost(
  host: string,
  kind: HostKind,
  overrides: ResolveOverrides,
  lookup: Lookup = systemLookup,
): Promise<Resolution> {
  if (kind !== 'name') return { addresses: [host], source: 'literal' };
  const override = overrides.get(host);
  if (override) return { addresses: [...override], source: 'override' };
  if (host === 'localhost' || host.endsWith('.localhost')) return { addresses: ['127.0.0.1', '::1'], source: 'localhost' };
  const addresses = await lookup(host);
  if (addresses.length === 0) throw new Error(`no addresses for ${host}`);
  return { addresses, source: 'dns' };
}

/** Parse `--resolve HOST=ADDR[,ADDR...]` (HOST may carry a :port, which is ignored, as curl users write it). */
export function parseResolveFlags(values: readonly string[]): Map<string, string[]> {
  const map = new Map<string, string[]>();
  for (const value of values) {
    const eq = value.indexOf('=');
    const hostPart = eq > 0 ? value.slice(0, eq) : '';
    const addrPart = eq > 0 ? value.slice(eq + 1) : '';
    const hostOnly = hostPart.replace(/:\d+$/, '');
    const host = normalizeHost(hostOnly);
    if (!host || host.kind !== 'name') {
      throw new UsageError(`--resolve ${value}: expected HOST=ADDR[,ADDR...] with a host name, e.g. --resolve api.example.com=203.0.113.7`);
    }
    const addresses = addrPart.split(',').map((a) => a.trim().replace(/^\[(.*)\]$/, '$1'));
    for (const address of addresses) {
      const normalized = normalizeHost(address);
      if (!normalized || normalized.kind === 'name' || !/^[0-9a-fA-F:.]+$/.test(address)) {
        throw new UsageError(`--resolve ${value}: "${address}" is not an IP address`);
      }
    }
    map.set(host.host, addresses.map((a) => normalizeHost(a)!.host));
  }
  return map;
}
