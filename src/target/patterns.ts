/**
 * Allow/deny list entries, classified once into what they can match (see the table in
 * references/policy.md): URL prefixes, host patterns, SMTP servers, recipient addresses, JIDs.
 */
import { hostMatchesPattern, normalizeHost } from './host.ts';
import { normalizeEmail, normalizeJid, type Jid } from './parse.ts';

export type Pattern =
  | { kind: 'url-prefix'; source: string; prefix: string }
  | { kind: 'host'; source: string; host: string; port: number | null; scheme: 'any' | 'smtp' }
  | { kind: 'address'; source: string; local: string; domain: string; for: 'any' | 'mailto' | 'xmpp' }
  | { kind: 'jid-domain'; source: string; domain: string }
  | { kind: 'invalid'; source: string; reason: string };

export function classifyPattern(source: string): Pattern {
  const text = source.trim();
  const lower = text.toLowerCase();
  if (/^https?:\/\//.test(lower)) {
    try {
      const url = new URL(text);
      if (url.username || url.password) return { kind: 'invalid', source, reason: 'URL patterns must not carry credentials' };
      // The same host spelling the destination parser produces (no trailing dot, canonical IPv6).
      const host = normalizeHost(url.hostname);
      if (!host) return { kind: 'invalid', source, reason: 'not a valid URL prefix (bad host)' };
      url.hostname = host.kind === 'ipv6' ? `[${host.host}]` : host.host;
      url.hash = '';
      return { kind: 'url-prefix', source, prefix: url.href };
    } catch {
      return { kind: 'invalid', source, reason: 'not a valid URL prefix' };
    }
  }
  if (/^smtps?:\/\//.test(lower)) {
    const hostPort = hostPattern(text.replace(/^smtps?:\/\//i, '').replace(/\/$/, ''));
    return hostPort ? { ...hostPort, kind: 'host', source, scheme: 'smtp' } : { kind: 'invalid', source, reason: 'not a valid smtp://host[:port] pattern' };
  }
  if (lower.startsWith('mailto:')) return addressPattern(source, text.slice(7), 'mailto');
  if (lower.startsWith('xmpp:')) {
    const rest = text.slice(5);
    if (!rest.includes('@')) {
      const host = hostPattern(rest);
      return host && host.port === null ? { kind: 'jid-domain', source, domain: host.host } : { kind: 'invalid', source, reason: 'not a valid JID domain' };
    }
    return addressPattern(source, rest, 'xmpp');
  }
  if (text.includes('@')) return addressPattern(source, text, 'any');
  const host = hostPattern(text);
  return host ? { kind: 'host', source, ...host, scheme: 'any' } : { kind: 'invalid', source, reason: 'not a host, *.domain, URL prefix, e-mail address or JID' };
}

function hostPattern(text: string): { host: string; port: number | null } | null {
  // A bare IPv6 literal ("2001:db8::1") has no port; only "[v6]:port" carries one.
  const bareV6 = !text.startsWith('[') && (text.match(/:/g)?.length ?? 0) >= 2;
  const match = bareV6 ? /^()(.+)()$/.exec(text) : /^(\*\.)?(.+?)(?::(\d{1,5}))?$/.exec(text);
  if (!match) return null;
  const normalized = normalizeHost(match[2]!);
  if (!normalized) return null;
  if (match[1] && normalized.kind !== 'name') return null;
  const port = match[3] ? Number(match[3]) : null;
  if (port !== null && (port < 1 || port > 65_535)) return null;
  return { host: `${match[1] ?? ''}${normalized.host}`, port };
}

function addressPattern(source: string, text: string, forWhat: 'any' | 'mailto' | 'xmpp'): Pattern {
  const at = text.lastIndexOf('@');
  const local = text.slice(0, at);
  const domainText = text.slice(at + 1);
  const domain = domainText.startsWith('*.') ? hostPattern(domainText) : hostPattern(domainText);
  if (!domain || domain.port !== null) return { kind: 'invalid', source, reason: 'not a valid address domain' };
  if (local === '*') return { kind: 'address', source, local: '*', domain: domain.host, for: forWhat };
  const check = forWhat === 'xmpp' ? normalizeJid(text) : normalizeEmail(text.replace(/^\*\./, 'x.'));
  if (!check) return { kind: 'invalid', source, reason: 'not a valid e-mail address or JID' };
  return { kind: 'address', source, local: local.toLowerCase(), domain: domain.host, for: forWhat };
}

export function matchUrl(pattern: Pattern, url: URL): boolean {
  if (pattern.kind === 'url-prefix') {
    const href = url.href;
    if (!href.startsWith(pattern.prefix)) return false;
    // "https://a.com/hooks" must not admit "https://a.com/hooks-evil": the prefix ends at a boundary.
    const next = href.charAt(pattern.prefix.length);
    return pattern.prefix.endsWith('/') || next === '' || next === '/' || next === '?' || next === '#';
  }
  if (pattern.kind === 'host' && pattern.scheme === 'any') {
    const port = url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80;
    const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
    return hostMatchesPattern(host, pattern.host) && (pattern.port === null || pattern.port === port);
  }
  return false;
}

export function matchServer(pattern: Pattern, host: string, port: number): boolean {
  return pattern.kind === 'host' && hostMatchesPattern(host, pattern.host) && (pattern.port === null || pattern.port === port);
}

export function matchAddress(pattern: Pattern, address: string, use: 'mailto' | 'xmpp'): boolean {
  if (pattern.kind === 'jid-domain') return use === 'xmpp' && hostMatchesPattern(address.slice(address.lastIndexOf('@') + 1), pattern.domain);
  if (pattern.kind !== 'address' || (pattern.for !== 'any' && pattern.for !== use)) return false;
  const at = address.lastIndexOf('@');
  // A domain JID ("example.com", the server itself) has no local part: only a JID-domain entry admits it.
  if (at < 0) return false;
  const local = address.slice(0, at);
  const domain = address.slice(at + 1);
  return hostMatchesPattern(domain, pattern.domain) && (pattern.local === '*' || pattern.local === local);
}

/** Which list entries speak about this kind of check: when none do, the list is "not defined" for it. */
export function appliesTo(pattern: Pattern, check: 'url' | 'server' | 'mailto' | 'xmpp'): boolean {
  switch (check) {
    case 'url':
      return pattern.kind === 'url-prefix' || (pattern.kind === 'host' && pattern.scheme === 'any');
    case 'server':
      return pattern.kind === 'host';
    case 'mailto':
      return pattern.kind === 'address' && pattern.for !== 'xmpp';
    case 'xmpp':
      return (pattern.kind === 'address' && pattern.for !== 'mailto') || pattern.kind === 'jid-domain';
  }
}

export type { Jid };
