import { describe, expect, it } from 'vitest';
import type { Protocol } from '../../src/contract.ts';
import { normalizeHost } from '../../src/target/host.ts';
import { normalizeJid, parseDestination } from '../../src/target/parse.ts';

interface Parsed {
  kind?: 'url' | 'email' | 'jid';
  host: string;
  hostKind?: 'name' | 'ipv4' | 'ipv6';
  port?: number | null;
  display?: string;
  addresses?: string[];
}
type Expectation = Parsed | 'DESTINATION_INVALID' | 'PROTOCOL_MISMATCH' | 'SCHEME_NOT_ALLOWED';
type Row = readonly [input: string, protocol: Protocol, expected: Expectation];

const ROWS: readonly Row[] = [
  // full URLs in any case; scheme default ports; fragments dropped
  ['https://hooks.example.com/services/T0/B0', 'http', { kind: 'url', host: 'hooks.example.com', hostKind: 'name', port: 443, display: 'https://hooks.example.com/services/T0/B0' }],
  ['HTTPS://Hooks.EXAMPLE.com/Services', 'http', { host: 'hooks.example.com', port: 443, display: 'https://hooks.example.com/Services' }],
  ['HtTp://api.example.com', 'http', { host: 'api.example.com', port: 80, display: 'http://api.example.com/' }],
  ['https://api.example.com:443/a?b=1#frag', 'http', { host: 'api.example.com', port: 443, display: 'https://api.example.com/a?b=1' }],
  ['http://api.example.com:80/', 'http', { host: 'api.example.com', port: 80, display: 'http://api.example.com/' }],
  ['https://api.example.com:8443/x', 'http', { host: 'api.example.com', port: 8443, display: 'https://api.example.com:8443/x' }],
  ['https://api.example.com:65535/', 'http', { host: 'api.example.com', port: 65535 }],
  ['https://api.example.com:1/', 'http', { host: 'api.example.com', port: 1 }],
  ['  https://api.example.com/  ', 'http', { host: 'api.example.com', port: 443 }],
  ['https:///api.example.com/three-slashes', 'http', { host: 'api.example.com' }],
  ['https://api.example.com/users/@me', 'http', { host: 'api.example.com', display: 'https://api.example.com/users/@me' }],
  ['https://api.example.com/hooks/../admin', 'http', { host: 'api.example.com', display: 'https://api.example.com/admin' }],
  // trailing dots
  ['https://api.example.com./x', 'http', { host: 'api.example.com', display: 'https://api.example.com/x' }],
  ['api.example.com.', 'http', { host: 'api.example.com' }],
  ['http://127.0.0.1./', 'http', { host: '127.0.0.1', hostKind: 'ipv4' }],
  ['http://localhost./', 'http', { host: 'localhost', hostKind: 'name' }],
  // bare host, host:port (an agent usually means https)
  ['api.example.com', 'http', { kind: 'url', host: 'api.example.com', port: 443, display: 'https://api.example.com/' }],
  ['api.example.com:8080', 'http', { host: 'api.example.com', port: 8080, display: 'https://api.example.com:8080/' }],
  ['api.example.com:8080/hooks?x=1', 'http', { host: 'api.example.com', port: 8080, display: 'https://api.example.com:8080/hooks?x=1' }],
  ['api.example.com:8443?x=1', 'http', { host: 'api.example.com', port: 8443, display: 'https://api.example.com:8443/?x=1' }],
  ['mail.example.com:2525', 'http', { host: 'mail.example.com', port: 2525 }],
  ['api.example.com/users/@me', 'http', { host: 'api.example.com', display: 'https://api.example.com/users/@me' }],
  ['localhost:3000', 'http', { host: 'localhost', port: 3000 }],
  ['LOCALHOST', 'http', { host: 'localhost' }],
  ['a_b.example.com', 'http', { host: 'a_b.example.com' }],
  // IPv4 in every spelling getaddrinfo and the URL parser accept
  ['http://2130706433/', 'http', { host: '127.0.0.1', hostKind: 'ipv4', port: 80 }],
  ['http://0x7f000001/', 'http', { host: '127.0.0.1', hostKind: 'ipv4' }],
  ['http://0X7F.0.0.1/', 'http', { host: '127.0.0.1', hostKind: 'ipv4' }],
  ['http://0177.0.0.1/', 'http', { host: '127.0.0.1', hostKind: 'ipv4' }],
  ['http://00000177.0.0.1/', 'http', { host: '127.0.0.1', hostKind: 'ipv4' }],
  ['http://017700000001/', 'http', { host: '127.0.0.1', hostKind: 'ipv4' }],
  ['http://127.1/', 'http', { host: '127.0.0.1', hostKind: 'ipv4' }],
  ['http://127.0.1/', 'http', { host: '127.0.0.1', hostKind: 'ipv4' }],
  ['http://10.65535/', 'http', { host: '10.0.255.255', hostKind: 'ipv4' }],
  ['http://0x0a.0x0.0x0.0x1/', 'http', { host: '10.0.0.1', hostKind: 'ipv4' }],
  ['http://169.254.43518/', 'http', { host: '169.254.169.254', hostKind: 'ipv4' }],
  ['http://0xA9.0xFE.0xA9.0xFE/', 'http', { host: '169.254.169.254', hostKind: 'ipv4' }],
  ['http://2852039166/', 'http', { host: '169.254.169.254', hostKind: 'ipv4' }],
  ['http://0/', 'http', { host: '0.0.0.0', hostKind: 'ipv4' }],
  ['http://0x/', 'http', { host: '0.0.0.0', hostKind: 'ipv4' }],
  ['2130706433', 'http', { host: '127.0.0.1', hostKind: 'ipv4', port: 443 }],
  ['127.1:8080', 'http', { host: '127.0.0.1', hostKind: 'ipv4', port: 8080 }],
  // percent-encoding, fullwidth and other Unicode digits and dots (IDNA mapping)
  ['http://%31%32%37.0.0.1/', 'http', { host: '127.0.0.1', hostKind: 'ipv4' }],
  ['http://127%2E0%2E0%2E1/', 'http', { host: '127.0.0.1', hostKind: 'ipv4' }],
  ['http://ex%41mple.com/', 'http', { host: 'example.com', hostKind: 'name' }],
  ['http://１２７.０.０.１/', 'http', { host: '127.0.0.1', hostKind: 'ipv4' }],
  ['http://１０．０．０．２/', 'http', { host: '10.0.0.2', hostKind: 'ipv4' }],
  ['http://127。0。0。1/', 'http', { host: '127.0.0.1', hostKind: 'ipv4' }],
  ['http://①②⑦.0.0.1/', 'http', { host: '127.0.0.1', hostKind: 'ipv4' }],
  ['http://ｌｏｃａｌｈｏｓｔ/', 'http', { host: 'localhost', hostKind: 'name' }],
  ['http://loc\u00adalhost/', 'http', { host: 'localhost', hostKind: 'name' }],
  // IDN
  ['https://münchen.example/', 'http', { host: 'xn--mnchen-3ya.example', hostKind: 'name' }],
  ['https://MÜNCHEN.example/', 'http', { host: 'xn--mnchen-3ya.example', hostKind: 'name' }],
  ['https://xn--mnchen-3ya.example/', 'http', { host: 'xn--mnchen-3ya.example', hostKind: 'name' }],
  // IPv6: bare, bracketed, with port, with an embedded IPv4, upper case
  ['::1', 'http', { host: '::1', hostKind: 'ipv6', port: 443, display: 'https://[::1]/' }],
  ['[::1]', 'http', { host: '::1', hostKind: 'ipv6' }],
  ['[::1]:8080', 'http', { host: '::1', hostKind: 'ipv6', port: 8080 }],
  ['http://[::1]:8080/x', 'http', { host: '::1', hostKind: 'ipv6', port: 8080, display: 'http://[::1]:8080/x' }],
  ['http://[0:0:0:0:0:0:0:1]/', 'http', { host: '::1', hostKind: 'ipv6' }],
  ['http://[::ffff:127.0.0.1]/', 'http', { host: '::ffff:7f00:1', hostKind: 'ipv6' }],
  ['::ffff:169.254.169.254', 'http', { host: '::ffff:a9fe:a9fe', hostKind: 'ipv6' }],
  ['2001:DB8::1', 'http', { host: '2001:db8::1', hostKind: 'ipv6' }],
  ['https://[2606:4700:4700::1111]/dns-query', 'http', { host: '2606:4700:4700::1111', hostKind: 'ipv6', port: 443 }],
  // SMTP servers
  ['smtp://mail.example.com', 'smtp', { kind: 'url', host: 'mail.example.com', port: 587, display: 'smtp://mail.example.com:587' }],
  ['smtps://mail.example.com', 'smtp', { host: 'mail.example.com', port: 465, display: 'smtps://mail.example.com:465' }],
  ['SMTP://Mail.Example.com:25', 'smtp', { host: 'mail.example.com', port: 25, display: 'smtp://mail.example.com:25' }],
  ['smtp://mail.example.com:80', 'smtp', { host: 'mail.example.com', port: 80, display: 'smtp://mail.example.com:80' }],
  ['smtps://mail.example.com:443', 'smtp', { host: 'mail.example.com', port: 443 }],
  ['smtp://[2001:db8::25]:2525', 'smtp', { host: '2001:db8::25', hostKind: 'ipv6', port: 2525, display: 'smtp://[2001:db8::25]:2525' }],
  ['smtp://0x7f.1', 'smtp', { host: '127.0.0.1', hostKind: 'ipv4', port: 587 }],
  ['mail.example.com', 'smtp', { kind: 'url', host: 'mail.example.com', port: 587 }],
  ['mail.example.com:465', 'smtp', { kind: 'url', host: 'mail.example.com', port: 465 }],
  // mailto: and e-mail addresses
  ['mailto:ops@example.com', 'smtp', { kind: 'email', host: 'example.com', port: null, addresses: ['ops@example.com'], display: 'mailto:ops@example.com' }],
  ['MAILTO:Ops@Example.COM', 'smtp', { kind: 'email', host: 'example.com', addresses: ['ops@example.com'] }],
  ['mailto:a@example.com,b@example.org', 'smtp', { kind: 'email', host: 'example.com', addresses: ['a@example.com', 'b@example.org'] }],
  ['mailto:a@example.com,%20b@example.org', 'smtp', { kind: 'email', addresses: ['a@example.com', 'b@example.org'], host: 'example.com' }],
  ['mailto:a%40example.com', 'smtp', { kind: 'email', host: 'example.com', addresses: ['a@example.com'] }],
  ['mailto:a@example.com?subject=hello', 'smtp', { kind: 'email', host: 'example.com', addresses: ['a@example.com'] }],
  ['ops@example.com', 'smtp', { kind: 'email', host: 'example.com', addresses: ['ops@example.com'] }],
  ['a@example.com, b@mail.example.org', 'smtp', { kind: 'email', host: 'example.com', addresses: ['a@example.com', 'b@mail.example.org'] }],
  ['first.last+tag@example.com', 'smtp', { kind: 'email', host: 'example.com', addresses: ['first.last+tag@example.com'] }],
  ['user@münchen.example', 'smtp', { kind: 'email', host: 'xn--mnchen-3ya.example', addresses: ['user@xn--mnchen-3ya.example'] }],
  ['user@example.com.', 'smtp', { kind: 'email', host: 'example.com', addresses: ['user@example.com'] }],
  // JIDs and xmpp: URIs
  ['alice@example.com', 'xmpp', { kind: 'jid', host: 'example.com', port: null, display: 'xmpp:alice@example.com' }],
  ['Alice@Example.COM/Phone', 'xmpp', { kind: 'jid', host: 'example.com', display: 'xmpp:alice@example.com/Phone' }],
  ['alice@example.com/res/with/slash', 'xmpp', { kind: 'jid', host: 'example.com', display: 'xmpp:alice@example.com/res/with/slash' }],
  ['alice@example.com/res@at', 'xmpp', { kind: 'jid', host: 'example.com', display: 'xmpp:alice@example.com/res@at' }],
  ['room@conference.example.com', 'xmpp', { kind: 'jid', host: 'conference.example.com', display: 'xmpp:room@conference.example.com' }],
  ['room@conference.example.com/nick', 'xmpp', { kind: 'jid', host: 'conference.example.com', display: 'xmpp:room@conference.example.com/nick' }],
  ['xmpp:alice@example.com', 'xmpp', { kind: 'jid', host: 'example.com', display: 'xmpp:alice@example.com' }],
  ['XMPP:alice@example.com/home', 'xmpp', { kind: 'jid', host: 'example.com', display: 'xmpp:alice@example.com/home' }],
  ['xmpp:room@conference.example.com?join', 'xmpp', { kind: 'jid', host: 'conference.example.com', display: 'xmpp:room@conference.example.com' }],
  ['xmpp:alice@example.com?message;body=hi', 'xmpp', { kind: 'jid', host: 'example.com', display: 'xmpp:alice@example.com' }],
  ['xmpp:nasty%20guy@example.com', 'xmpp', 'DESTINATION_INVALID'],
  ['example.com', 'xmpp', { kind: 'jid', host: 'example.com', display: 'xmpp:example.com' }],
  ['alice@example.com.', 'xmpp', { kind: 'jid', host: 'example.com' }],

  // userinfo and backslash tricks
  ['http://user:pass@example.com/', 'http', 'DESTINATION_INVALID'],
  ['http://evil.example@127.0.0.1/', 'http', 'DESTINATION_INVALID'],
  ['http://127.0.0.1:80@evil.example/', 'http', 'DESTINATION_INVALID'],
  ['http://:@example.com/', 'http', { host: 'example.com' }],
  ['evil.example@127.0.0.1', 'http', 'DESTINATION_INVALID'],
  ['http://evil.example\\@127.0.0.1/', 'http', 'DESTINATION_INVALID'],
  ['http://127.0.0.1\\evil.example/', 'http', 'DESTINATION_INVALID'],
  ['http:\\\\127.0.0.1\\', 'http', 'DESTINATION_INVALID'],
  // broken URLs and hosts
  ['http:example.com', 'http', 'DESTINATION_INVALID'],
  ['http:/example.com', 'http', 'DESTINATION_INVALID'],
  ['http://', 'http', 'DESTINATION_INVALID'],
  ['http:///', 'http', 'DESTINATION_INVALID'],
  ['https://:443/', 'http', 'DESTINATION_INVALID'],
  ['http://x..example.com/', 'http', 'DESTINATION_INVALID'],
  ['http://.example.com/', 'http', 'DESTINATION_INVALID'],
  ['http://-bad.example.com/', 'http', 'DESTINATION_INVALID'],
  ['http://exa mple.com/', 'http', 'DESTINATION_INVALID'],
  ['http://example.com:80:80/', 'http', 'DESTINATION_INVALID'],
  ['http://1.2.3.4.5/', 'http', 'DESTINATION_INVALID'],
  ['http://256.0.0.1/', 'http', 'DESTINATION_INVALID'],
  ['http://example.123/', 'http', 'DESTINATION_INVALID'],
  ['http://[::1/', 'http', 'DESTINATION_INVALID'],
  ['http://[::1]x/', 'http', 'DESTINATION_INVALID'],
  ['http://[fe80::1%25eth0]/', 'http', 'DESTINATION_INVALID'],
  ['fe80::1%eth0', 'http', 'DESTINATION_INVALID'],
  ['http://%5B::1%5D/', 'http', 'DESTINATION_INVALID'],
  ['http://exa%00mple.com/', 'http', 'DESTINATION_INVALID'],
  ['http://\u00a0example.com/', 'http', 'DESTINATION_INVALID'],
  [`http://${'a'.repeat(64)}.example.com/`, 'http', 'DESTINATION_INVALID'],
  [`https://example.com/${'a'.repeat(2100)}`, 'http', 'DESTINATION_INVALID'],
  // ports 0 and out of range
  ['http://example.com:0/', 'http', 'DESTINATION_INVALID'],
  ['http://example.com:00/', 'http', 'DESTINATION_INVALID'],
  ['example.com:0', 'http', 'DESTINATION_INVALID'],
  ['http://[::1]:0/', 'http', 'DESTINATION_INVALID'],
  ['http://example.com:65536/', 'http', 'DESTINATION_INVALID'],
  ['http://example.com:99999/', 'http', 'DESTINATION_INVALID'],
  ['http://example.com:-1/', 'http', 'DESTINATION_INVALID'],
  ['smtp://mail.example.com:0', 'smtp', 'DESTINATION_INVALID'],
  ['smtp://mail.example.com:65536', 'smtp', 'DESTINATION_INVALID'],
  // empty, whitespace, control characters
  ['', 'http', 'DESTINATION_INVALID'],
  ['   ', 'http', 'DESTINATION_INVALID'],
  ['\t\n', 'smtp', 'DESTINATION_INVALID'],
  ['http://example.com/\u0000', 'http', 'DESTINATION_INVALID'],
  ['http://exam\nple.com/', 'http', 'DESTINATION_INVALID'],
  ['http://example.com/\r\nHost: evil', 'http', 'DESTINATION_INVALID'],
  ['alice@example.com/\u0007', 'xmpp', 'DESTINATION_INVALID'],
  ['ops@exa\u007fmple.com', 'smtp', 'DESTINATION_INVALID'],
  // e-mail addresses that are not addresses
  ['mailto:', 'smtp', 'DESTINATION_INVALID'],
  ['mailto:ops', 'smtp', 'DESTINATION_INVALID'],
  ['mailto:ops@', 'smtp', 'DESTINATION_INVALID'],
  ['mailto:@example.com', 'smtp', 'DESTINATION_INVALID'],
  ['mailto:ops@localhost', 'smtp', 'DESTINATION_INVALID'],
  ['mailto:ops@[127.0.0.1]', 'smtp', 'DESTINATION_INVALID'],
  ['mailto:ops@127.0.0.1', 'smtp', 'DESTINATION_INVALID'],
  ['mailto:a@example.com,,b@', 'smtp', 'DESTINATION_INVALID'],
  ['mailto:a@example.com?cc=boss@example.org', 'smtp', 'DESTINATION_INVALID'],
  ['mailto:?to=a@example.com', 'smtp', 'DESTINATION_INVALID'],
  ['mailto:a%ZZ@example.com', 'smtp', 'DESTINATION_INVALID'],
  ['"quoted"@example.com', 'smtp', 'DESTINATION_INVALID'],
  ['a..b@example.com', 'smtp', 'DESTINATION_INVALID'],
  [`${'a'.repeat(65)}@example.com`, 'smtp', 'DESTINATION_INVALID'],
  ['evil.example@10.0.0.1', 'smtp', 'DESTINATION_INVALID'],
  ['ops@example.com:25', 'smtp', 'DESTINATION_INVALID'],
  // JIDs that are not JIDs
  ['@example.com', 'xmpp', 'DESTINATION_INVALID'],
  ['alice@', 'xmpp', 'DESTINATION_INVALID'],
  ['alice@example.com/', 'xmpp', 'DESTINATION_INVALID'],
  ['ali"ce@example.com', 'xmpp', 'DESTINATION_INVALID'],
  ['a@b@example.com', 'xmpp', 'DESTINATION_INVALID'],
  ['alice@127.0.0.1', 'xmpp', 'DESTINATION_INVALID'],
  ['alice@[::1]', 'xmpp', 'DESTINATION_INVALID'],
  ['alice@example.com:5222', 'xmpp', 'DESTINATION_INVALID'],
  ['xmpp://example.com/alice@example.com', 'xmpp', 'DESTINATION_INVALID'],
  ['xmpp:alice%ZZ@example.com', 'xmpp', 'DESTINATION_INVALID'],
  // a scheme that does not match --protocol
  ['https://example.com/', 'smtp', 'PROTOCOL_MISMATCH'],
  ['https://example.com/', 'xmpp', 'PROTOCOL_MISMATCH'],
  ['smtp://mail.example.com', 'http', 'PROTOCOL_MISMATCH'],
  ['mailto:ops@example.com', 'http', 'PROTOCOL_MISMATCH'],
  ['mailto:ops@example.com', 'xmpp', 'PROTOCOL_MISMATCH'],
  ['xmpp:alice@example.com', 'http', 'PROTOCOL_MISMATCH'],
  ['xmpp:alice@example.com', 'smtp', 'PROTOCOL_MISMATCH'],
  ['ws://example.com/socket', 'http', 'PROTOCOL_MISMATCH'],
  ['wss://example.com/socket', 'http', 'PROTOCOL_MISMATCH'],
  ['ftp://example.com/file', 'http', 'PROTOCOL_MISMATCH'],
  ['ssh://example.com', 'http', 'PROTOCOL_MISMATCH'],
  ['alice@example.com', 'http', 'DESTINATION_INVALID'],
  // non-network schemes
  ['file:///etc/passwd', 'http', 'SCHEME_NOT_ALLOWED'],
  ['FILE://localhost/etc/passwd', 'http', 'SCHEME_NOT_ALLOWED'],
  ['gopher://127.0.0.1:70/_', 'http', 'SCHEME_NOT_ALLOWED'],
  ['dict://127.0.0.1:11211/stat', 'http', 'SCHEME_NOT_ALLOWED'],
  ['ldap://example.com/', 'http', 'SCHEME_NOT_ALLOWED'],
  ['tftp://example.com/x', 'http', 'SCHEME_NOT_ALLOWED'],
  ['jar:http://example.com!/', 'http', 'SCHEME_NOT_ALLOWED'],
  ['javascript:alert(1)', 'http', 'SCHEME_NOT_ALLOWED'],
  ['data:text/plain,hello', 'http', 'SCHEME_NOT_ALLOWED'],
  ['netdoc:///etc/passwd', 'http', 'SCHEME_NOT_ALLOWED'],
  ['file:///etc/passwd', 'smtp', 'SCHEME_NOT_ALLOWED'],
  ['gopher://example.com/', 'xmpp', 'SCHEME_NOT_ALLOWED'],
  ['smtp://mail.example.com/path', 'smtp', 'DESTINATION_INVALID'],
];

describe('parseDestination', () => {
  it.each(ROWS)('%j (--protocol %s)', (input, protocol, expected) => {
    const result = parseDestination(input, protocol);
    if (typeof expected === 'string') {
      expect(result.ok ? `accepted as ${result.target.display}` : result.code).toBe(expected);
      if (!result.ok) {
        // one line that says what is wrong
        expect(result.reason.length).toBeGreaterThan(10);
        expect(result.reason).not.toMatch(/\n/);
      }
      return;
    }
    if (!result.ok) throw new Error(`expected ${input} to parse, got ${result.code}: ${result.reason}`);
    const target = result.target;
    expect(target.protocol).toBe(protocol);
    expect(target.raw).toBe(input);
    expect(target.host).toBe(expected.host);
    if (expected.kind) expect(target.kind).toBe(expected.kind);
    if (expected.hostKind) expect(target.hostKind).toBe(expected.hostKind);
    if (expected.port !== undefined) expect(target.port).toBe(expected.port);
    if (expected.display) expect(target.display).toBe(expected.display);
    if (expected.addresses) expect(target.addresses).toEqual(expected.addresses);
  });

  it('has a wide table', () => {
    expect(ROWS.length).toBeGreaterThan(150);
  });

  it('parses its own display form back to the same target (display is canonical)', () => {
    for (const [input, protocol, expected] of ROWS) {
      if (typeof expected === 'string') continue;
      const first = parseDestination(input, protocol);
      if (!first.ok) continue;
      const second = parseDestination(first.target.display, protocol);
      expect(second.ok && second.target.display, input).toBe(first.target.display);
    }
  });

  it('keeps the URL for http targets only, the JID for xmpp only', () => {
    const http = parseDestination('https://example.com/x', 'http');
    const jid = parseDestination('xmpp:room@conference.example.com/nick', 'xmpp');
    expect(http.ok && http.target.url?.href).toBe('https://example.com/x');
    expect(jid.ok && jid.target.jid).toEqual({ local: 'room', domain: 'conference.example.com', resource: 'nick', bare: 'room@conference.example.com' });
    expect(jid.ok && jid.target.url).toBeNull();
  });
});

describe('normalizeHost', () => {
  it.each([
    ['Example.COM', 'example.com', 'name'],
    ['example.com.', 'example.com', 'name'],
    ['0x7f.1', '127.0.0.1', 'ipv4'],
    ['[::1]', '::1', 'ipv6'],
    ['::1', '::1', 'ipv6'],
    ['ＥＸＡＭＰＬＥ.com', 'example.com', 'name'],
    ['999', '0.0.3.231', 'ipv4'],
  ] as const)('%j -> %s (%s)', (input, host, kind) => {
    expect(normalizeHost(input)).toEqual({ host, kind });
  });

  it.each(['', ' ', 'a b', 'example.com:8080', 'user@example.com', 'a/b', 'a\\b', 'a?b', 'a#b', '..', '.', 'example.com..', '[::1]:8080', '1.2.3.4.5', 'x.1', 'a@example.com:80'])(
    '%j is not a host (a default port like ":80" is dropped by the URL parser; callers split ports off first)',
    (input) => {
      expect(normalizeHost(input)).toBeNull();
    },
  );
});

describe('normalizeJid', () => {
  it('lower-cases local part and domain, keeps the resource as written', () => {
    expect(normalizeJid('Bob@Example.ORG/Desk Top')).toEqual({ local: 'bob', domain: 'example.org', resource: 'Desk Top', bare: 'bob@example.org' });
  });
  it('accepts a domain JID', () => {
    expect(normalizeJid('example.org')).toEqual({ local: null, domain: 'example.org', resource: null, bare: 'example.org' });
  });
  it.each(['', '@x.org', 'a@', 'a@x.org/', 'a<b@x.org', "a'b@x.org", 'a:b@x.org', 'a@1.2.3.4'])('rejects %j', (input) => {
    expect(normalizeJid(input)).toBeNull();
  });
});
