/**
 * A `lookup` for net/tls.connect that answers only with the addresses the network guard vetted,
 * so the connection goes exactly where the check said (no second DNS answer, no rebinding).
 */
import { isIP, type LookupFunction } from 'node:net';

export function pinnedLookup(host: string, addresses: readonly string[]): LookupFunction {
  const answers = addresses.map((address) => ({ address, family: isIP(address) || 4 }));
  return ((hostname: string, options: { all?: boolean; family?: number | string } | number, callback: (...args: unknown[]) => void) => {
    const bare = hostname.replace(/^\[(.*)\]$/, '$1').toLowerCase().replace(/\.$/, '');
    if (bare !== host) {
      callback(Object.assign(new Error(`pinned lookup refused ${hostname}: only ${host} was checked`), { code: 'ENOTFOUND' }));
      return;
    }
    const opts = typeof options === 'object' && options !== null ? options : {};
    const family = opts.family === 'IPv4' ? 4 : opts.family === 'IPv6' ? 6 : Number(opts.family ?? 0);
    const usable = family === 4 || family === 6 ? answers.filter((answer) => answer.family === family) : answers;
    if (usable.length === 0) {
      callback(Object.assign(new Error(`no vetted IPv${family} address for ${host}`), { code: 'ENOTFOUND' }));
      return;
    }
    if (opts.all) callback(null, usable);
    else callback(null, usable[0]!.address, usable[0]!.family);
  }) as LookupFunction;
}
