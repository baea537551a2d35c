/**
 * Host normalisation: one spelling for every way a host can be written. The WHATWG URL host parser
 * does the heavy lifting (IDNA, fullwidth digits, percent-decoding, and the decimal / octal / hex /
 * short IPv4 forms that getaddrinfo also accepts), so what we classify is what a client connects to.
 */

export type HostKind = 'name' | 'ipv4' | 'ipv6';

export interface NormalizedHost {
  /** Lower-case ASCII name without a trailing dot, dotted-quad IPv4, or IPv6 without brackets. */
  host: string;
  kind: HostKind;
}

const DNS_NAME = /^(?=.{1,253}$)([a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?)(\.[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?)*$/;

/** Returns null when the text is not a usable host. `text` may be bracketed IPv6. */
export function normalizeHost(text: string): NormalizedHost | null {
  if (!text || /[\s\u0000-\u001f\u007f/?#@\\]/.test(text)) return null;
  let candidate = text;
  // A bare IPv6 literal (two or more colons, no brackets) is bracketed for the URL parser.
  if (!candidate.startsWith('[') && (candidate.match(/:/g)?.length ?? 0) >= 2) candidate = `[${candidate}]`;
  let hostname: string;
  try {
    const url = new URL(`http://${candidate}/`);
    if (url.port !== '' || url.username || url.password) return null;
    hostname = url.hostname;
  } catch {
    return null;
  }
  if (hostname.startsWith('[')) return { host: hostname.slice(1, -1), kind: 'ipv6' };
  const host = hostname.endsWith('.') ? hostname.slice(0, -1) : hostname;
  if (!host || host.endsWith('.')) return null;
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(host)) return { host, kind: 'ipv4' };
  if (!DNS_NAME.test(host)) return null;
  // A name whose last label is all digits would have been parsed as IPv4 if it were one.
  if (/\.\d+$/.test(host) || /^\d+$/.test(host)) return null;
  return { host, kind: 'name' };
}

/** `*.example.com` matches sub.example.com (any depth) but not example.com itself. */
export function hostMatchesPattern(host: string, pattern: string): boolean {
  const p = pattern.toLowerCase().replace(/\.$/, '');
  if (p.startsWith('*.')) return host.endsWith(p.slice(1)) && host.length > p.length - 1;
  return host === p;
}
