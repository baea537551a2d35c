/**
 * Parse what an agent passes as a destination into one Target. Anything that cannot be read with
 * certainty is rejected with a reason; nothing is allowed because it could not be parsed.
 */
import type { Protocol } from '../contract.ts';
import { normalizeHost, type HostKind } from './host.ts';

export interface Jid {
  local: string | null;
  domain: string;
  resource: string | null;
  /** local@domain (or domain), lower-cased: what allowlists and rate limits key on. */
  bare: string;
}

export interface Target {
  protocol: Protocol;
  raw: string;
  /** url: http(s) URL or smtp(s) server; email: recipient addresses; jid: an XMPP address. */
  kind: 'url' | 'email' | 'jid';
  scheme: string;
  /** Host of the destination itself (URL host, e-mail domain, JID domain). */
  host: string;
  hostKind: HostKind;
  /** Explicit or scheme-default port; null for e-mail addresses and JIDs (the server is configured). */
  port: number | null;
  url: URL | null;
  addresses: string[];
  jid: Jid | null;
  /** The normalised spelling used in output, audit records, approvals and rate-limit keys. */
  display: string;
}

export type ParseResult =
  | { ok: true; target: Target }
  | { ok: false; code: 'DESTINATION_INVALID' | 'PROTOCOL_MISMATCH' | 'SCHEME_NOT_ALLOWED'; reason: string };

const SCHEMES_BY_PROTOCOL: Record<Protocol, readonly string[]> = {
  http: ['http', 'https'],
  smtp: ['smtp', 'smtps', 'mailto'],
  xmpp: ['xmpp'],
};
const NETWORK_SCHEMES = new Set(['http', 'https', 'smtp', 'smtps', 'mailto', 'xmpp', 'ws', 'wss', 'ftp', 'ftps', 'sftp', 'ssh', 'irc', 'ircs', 'tcp', 'udp']);
const DEFAULT_PORTS: Record<string, number> = { http: 80, https: 443, smtp: 587, smtps: 465 };

const EMAIL_LOCAL = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$/;
// RFC 7622 forbids these in a JID localpart.
const JID_LOCAL_FORBIDDEN = /["&'/:<>@\s\u0000-\u001f\u007f]/;

const fail = (code: 'DESTINATION_INVALID' | 'PROTOCOL_MISMATCH' | 'SCHEME_NOT_ALLOWED', reason: string): ParseResult => ({ ok: false, code, reason });

export function parseDestination(input: string, protocol: Protocol): ParseResult {
  const raw = input;
  const text = input.trim();
  if (!text) return fail('DESTINATION_INVALID', 'the destination is empty');
  if (text.length > 2048) return fail('DESTINATION_INVALID', 'the destination is longer than 2048 characters');
  if (/[\u0000-\u001f\u007f]/.test(text)) return fail('DESTINATION_INVALID', 'the destination contains control characters');

  if (/\\/.test(text.split('?')[0] ?? '')) {
    // Parsers disagree about backslashes (WHATWG reads them as "/", curl does not): refuse the ambiguity.
    return fail('DESTINATION_INVALID', 'the destination contains a backslash; write the URL with forward slashes');
  }
  // A bare IPv6 literal ("::1", "fe80::1%eth0") is a host, not "scheme:".
  const bareV6 = /^[0-9A-Fa-f:.]+(%[^/]*)?$/.test(text) && (text.match(/:/g)?.length ?? 0) >= 2;
  const schemeMatch = bareV6 ? null : /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(text);
  const scheme = schemeMatch?.[1]?.toLowerCase();
  // "host:port" also matches the scheme pattern; only treat it as a scheme when it is not a port.
  const looksLikeHostPort = schemeMatch !== null && /^[^:/?#]+:\d+([/?#].*)?$/.test(text);
  if (scheme && !looksLikeHostPort) {
    if (!SCHEMES_BY_PROTOCOL[protocol].includes(scheme)) {
      if (!NETWORK_SCHEMES.has(scheme)) {
        return fail('SCHEME_NOT_ALLOWED', `"${scheme}:" is not a network destination sendgate sends to (use ${SCHEMES_BY_PROTOCOL[protocol].join(', ')})`);
      }
      return fail('PROTOCOL_MISMATCH', `"${scheme}:" does not match --protocol ${protocol} (expected ${SCHEMES_BY_PROTOCOL[protocol].join(', ')})`);
    }
    if (scheme === 'mailto') return parseMailto(raw, text);
    if (scheme === 'xmpp') return parseJid(raw, text.slice('xmpp:'.length).replace(/^\/\//, '//'), 'xmpp');
    return parseServerUrl(raw, text, protocol, scheme);
  }

  switch (protocol) {
    case 'http':
      // Only the authority matters: "@" in a path or query ("/users/@me") is not userinfo.
      if (/^[^/?#]*@/.test(text)) return fail('DESTINATION_INVALID', 'an HTTP destination must not contain "@" before the path (credentials belong in the environment, not the URL)');
      return parseServerUrl(raw, `https://${bracketBareV6(text)}`, protocol, 'https');
    case 'smtp':
      if (text.includes('@')) return parseEmailList(raw, text, 'mailto');
      return parseServerUrl(raw, `smtp://${bracketBareV6(text)}`, protocol, 'smtp');
    case 'xmpp':
      return parseJid(raw, text, 'xmpp');
  }
}

function bracketBareV6(text: string): string {
  const hostPart = text.split('/')[0] ?? '';
  return !hostPart.startsWith('[') && (hostPart.match(/:/g)?.length ?? 0) >= 2 ? `[${hostPart}]${text.slice(hostPart.length)}` : text;
}

function parseServerUrl(raw: string, text: string, protocol: Protocol, scheme: string): ParseResult {
  if (/^[a-z][a-z0-9+.-]*:(?!\/\/)/i.test(text)) return fail('DESTINATION_INVALID', `expected ${scheme}://host[:port]/...`);
  let url: URL;
  try {
    // smtp:// is not a WHATWG "special" scheme; parse it as http to get the same host normalisation.
    url = new URL(scheme.startsWith('smtp') ? text.replace(/^smtps?:/i, 'http:') : text);
  } catch {
    return fail('DESTINATION_INVALID', `"${truncate(raw)}" is not a valid ${scheme} URL`);
  }
  if (url.username || url.password) {
    return fail('DESTINATION_INVALID', 'the URL carries credentials (user:password@); put them in the environment, never in the destination');
  }
  if (!url.hostname) return fail('DESTINATION_INVALID', 'the destination has no host');
  const normalized = normalizeHost(url.hostname);
  if (!normalized) return fail('DESTINATION_INVALID', `"${truncate(url.hostname)}" is not a valid host name or address`);
  if (/:0*$/.test(url.host) || /:0+(?:\/|$)/.test(text.replace(/^[a-z]+:\/\//i, '').split('/')[0] ?? '')) {
    return fail('DESTINATION_INVALID', 'port 0 is not a valid port');
  }
  // smtp(s):// is parsed as http://, which drops an explicit ":80" as that scheme's default port.
  const explicitPort = /:(\d+)$/.exec(text.replace(/^[a-z][a-z0-9+.-]*:\/\//i, '').split(/[/?#]/)[0] ?? '')?.[1];
  const port = url.port ? Number(url.port) : explicitPort !== undefined ? Number(explicitPort) : DEFAULT_PORTS[scheme]!;
  let display: string;
  let finalUrl: URL | null = null;
  const hostForUrl = normalized.kind === 'ipv6' ? `[${normalized.host}]` : normalized.host;
  if (protocol === 'http') {
    url.hostname = hostForUrl;
    url.hash = '';
    finalUrl = url;
    display = url.href;
  } else {
    if (url.pathname !== '/' && url.pathname !== '' ) return fail('DESTINATION_INVALID', `an ${scheme} server destination is ${scheme}://host[:port] with no path`);
    display = `${scheme}://${hostForUrl}:${port}`;
  }
  return {
    ok: true,
    target: { protocol, raw, kind: 'url', scheme, host: normalized.host, hostKind: normalized.kind, port, url: finalUrl, addresses: [], jid: null, display },
  };
}

function parseMailto(raw: string, text: string): ParseResult {
  const [rest = '', query = ''] = text.slice('mailto:'.length).split('?');
  // RFC 6068 lets ?to= / ?cc= / ?bcc= add recipients; they would bypass the recipient checks, so refuse them.
  if ([...new URLSearchParams(query).keys()].some((key) => /^(to|cc|bcc)$/i.test(key))) {
    return fail('DESTINATION_INVALID', 'mailto: recipients in ?to= / ?cc= / ?bcc= are not supported; list the addresses after "mailto:" or in the message\'s to / cc / bcc');
  }
  let decoded: string;
  try {
    decoded = decodeURIComponent(rest);
  } catch {
    return fail('DESTINATION_INVALID', 'the mailto: address has broken percent-encoding');
  }
  return parseEmailList(raw, decoded, 'mailto');
}

function parseEmailList(raw: string, text: string, scheme: string): ParseResult {
  const parts = text.split(',').map((part) => part.trim()).filter(Boolean);
  if (parts.length === 0) return fail('DESTINATION_INVALID', 'no e-mail address given');
  const addresses: string[] = [];
  let firstHost: { host: string; kind: HostKind } | null = null;
  for (const part of parts) {
    const address = normalizeEmail(part);
    if (!address) return fail('DESTINATION_INVALID', `"${truncate(part)}" is not a valid e-mail address`);
    addresses.push(address.address);
    firstHost ??= address.domain;
  }
  return {
    ok: true,
    target: {
      protocol: 'smtp', raw, kind: 'email', scheme, host: firstHost!.host, hostKind: firstHost!.kind, port: null,
      url: null, addresses, jid: null, display: `mailto:${addresses.join(',')}`,
    },
  };
}

export function normalizeEmail(text: string): { address: string; domain: { host: string; kind: HostKind } } | null {
  const at = text.lastIndexOf('@');
  if (at <= 0 || at === text.length - 1) return null;
  const local = text.slice(0, at);
  if (local.length > 64 || !EMAIL_LOCAL.test(local)) return null;
  // normalizeHost would drop a default ":80"; an address has no port.
  const domain = text.includes(':', at) ? null : normalizeHost(text.slice(at + 1));
  if (!domain || domain.kind !== 'name' || !domain.host.includes('.')) return null;
  return { address: `${local.toLowerCase()}@${domain.host}`, domain };
}

function parseJid(raw: string, text: string, scheme: string): ParseResult {
  if (text.startsWith('//')) return fail('DESTINATION_INVALID', 'xmpp:// authority URIs are not supported; use xmpp:user@domain');
  const jid = normalizeJid(text.split('?')[0] ?? '');
  if (!jid) return fail('DESTINATION_INVALID', `"${truncate(text)}" is not a valid JID (expected user@domain, room@conference.domain or domain)`);
  return {
    ok: true,
    target: {
      protocol: 'xmpp', raw, kind: 'jid', scheme, host: jid.domain, hostKind: 'name', port: null, url: null,
      addresses: [], jid, display: `xmpp:${jid.bare}${jid.resource ? `/${jid.resource}` : ''}`,
    },
  };
}

export function normalizeJid(text: string): Jid | null {
  let decoded = text;
  try {
    decoded = decodeURIComponent(text);
  } catch {
    return null;
  }
  const slash = decoded.indexOf('/');
  const resource = slash >= 0 ? decoded.slice(slash + 1) : null;
  const bareText = slash >= 0 ? decoded.slice(0, slash) : decoded;
  if (resource !== null && (resource.length === 0 || resource.length > 1023 || /[\u0000-\u001f\u007f]/.test(resource))) return null;
  const at = bareText.indexOf('@');
  const local = at >= 0 ? bareText.slice(0, at) : null;
  const domainText = at >= 0 ? bareText.slice(at + 1) : bareText;
  if (local !== null && (local.length === 0 || local.length > 1023 || JID_LOCAL_FORBIDDEN.test(local))) return null;
  const domain = domainText.includes(':') ? null : normalizeHost(domainText);
  if (!domain || domain.kind !== 'name') return null;
  const bare = local ? `${local.toLowerCase()}@${domain.host}` : domain.host;
  return { local: local?.toLowerCase() ?? null, domain: domain.host, resource, bare };
}

function truncate(text: string, max = 80): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}
