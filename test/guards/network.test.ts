/**
 * The destinations table: every notation of the issue through the real guard chain (target ->
 * destination -> payload -> network) with a fake DNS. Nothing here touches the real resolver.
 */
import { describe, expect, it } from 'vitest';
import type { Protocol } from '../../src/contract.ts';
import type { PolicyInput } from '../../src/config/schema.ts';
import { guard, makePolicy, type DnsTable } from '../support/guards.ts';

const PUBLIC_V4 = '93.184.215.14';
const PUBLIC_V6 = '2606:2800:21f:cb07:6820:80da:af6b:8b2c';

const DNS: DnsTable = {
  'example.com': [PUBLIC_V4],
  'www.example.com': [PUBLIC_V4],
  'api.example.com': [PUBLIC_V4],
  'a_b.example.com': [PUBLIC_V4],
  'xn--mnchen-3ya.example.com': ['151.101.1.69'],
  'dual.example.com': [PUBLIC_V4, PUBLIC_V6],
  'v6.example.com': ['2606:4700::6810:85e5'],
  'many-public.example.com': ['151.101.1.69', '151.101.65.69', '151.101.129.69', '2a04:4e42::644'],
  '127.0.0.1.example.com': [PUBLIC_V4],
  'localhost.example.com': [PUBLIC_V4],
  'internal.example.com': [PUBLIC_V4],
  'metadata.example.com': [PUBLIC_V4],
  'local.example.com': [PUBLIC_V4],
  'smtp.example.net': ['185.199.108.153'],
  'example.net': ['185.199.108.154'],
  // names that answer with something internal
  'private.example.com': ['10.0.0.5'],
  'mixed-v4.example.com': [PUBLIC_V4, '192.168.1.10'],
  'mixed-order.example.com': ['192.168.1.10', PUBLIC_V4],
  'mixed-v6.example.com': ['2606:4700::1', '::1'],
  'mixed-family.example.com': [PUBLIC_V4, 'fe80::1'],
  'meta.example.com': ['169.254.169.254'],
  'mapped.example.com': ['::ffff:10.0.0.1'],
  'cgn.example.com': ['100.64.1.1'],
  'zeroes.example.com': ['0.0.0.0'],
  'ula.example.com': ['fd12::1'],
  'loop.example.com': ['127.0.0.1'],
  'nat64.example.com': ['64:ff9b::7f00:1'],
  'many.example.com': ['151.101.1.69', '151.101.65.69', '151.101.129.69', '151.101.193.69', '172.17.0.2'],
  '127.0.0.1.nip.io': ['127.0.0.1'],
  'bogus-answer.example.com': ['not-an-ip'],
  'servfail.example.com': Object.assign(new Error('queryA ESERVFAIL servfail.example.com'), { code: 'ESERVFAIL' }),
  'empty.example.com': [],
  // internal by name, whatever they resolve to
  'metadata.google.internal': ['169.254.169.254'],
  'metadata.goog': ['8.8.8.8'],
  metadata: ['169.254.169.254'],
  'instance-data.ec2.internal': ['169.254.169.254'],
  'api.internal': [PUBLIC_V4],
  'host.local': [PUBLIC_V4],
  'router.lan': ['192.168.0.1'],
  'svc.corp': [PUBLIC_V4],
  'box.home.arpa': [PUBLIC_V4],
  'x.test': [PUBLIC_V4],
  'x.example': [PUBLIC_V4],
  'hidden.onion': [PUBLIC_V4],
  '1.0.0.127.in-addr.arpa': [PUBLIC_V4],
  intranet: [PUBLIC_V4],
  'db.localdomain': [PUBLIC_V4],
  'kubernetes.default.svc': [PUBLIC_V4],
  'kubernetes.default.svc.cluster.local': ['10.96.0.1'],
  'mail.internal': [PUBLIC_V4],
  'mail.local': [PUBLIC_V4],
  'chat.internal': [PUBLIC_V4],
};

const BASE: Omit<PolicyInput, 'version'> = { smtp: { server: 'smtp://smtp.example.net:587' }, xmpp: { jid: 'agent@example.net' } };

type Expect = 'allowed' | 'NETWORK_INTERNAL' | 'DNS_FAILED' | 'DESTINATION_INVALID' | 'PROTOCOL_MISMATCH' | 'SCHEME_NOT_ALLOWED';
interface Row {
  destination: string;
  protocol?: Protocol;
  expect: Expect;
  policy?: Omit<PolicyInput, 'version'>;
  resolve?: Record<string, string[]>;
  message?: string;
}
const row = (destination: string, expect: Expect, extra: Omit<Row, 'destination' | 'expect'> = {}): Row => ({ destination, expect, ...extra });
const I = 'NETWORK_INTERNAL' as const;
const INVALID = 'DESTINATION_INVALID' as const;

const BLOCKED: readonly Row[] = [
  // IPv4 literals in every non-global range
  row('http://127.0.0.1/', I),
  row('http://127.0.0.2:8080/', I),
  row('http://127.255.255.255/', I),
  row('http://0.0.0.0/', I),
  row('http://0.0.0.0:8000/', I),
  row('http://10.0.0.1/', I),
  row('http://10.255.255.255/', I),
  row('http://10.10.10.10:9200/_cat/indices', I),
  row('http://172.16.0.0/', I),
  row('http://172.16.0.1/', I),
  row('http://172.20.3.4/', I),
  row('http://192.168.0.1/', I),
  row('http://192.168.255.255/', I),
  row('http://192.168.1.254/admin', I),
  row('http://169.254.169.254/latest/meta-data/', I),
  row('http://169.254.169.254/computeMetadata/v1/', I),
  row('http://169.254.0.1/', I),
  row('http://169.254.255.255/', I),
  row('http://169.254.169.253/', I),
  row('http://100.64.0.0/', I),
  row('http://100.64.0.1/', I),
  row('http://100.100.100.100/', I),
  row('http://192.0.0.1/', I),
  row('http://192.0.0.255/', I),
  row('http://192.0.2.1/', I),
  row('http://198.51.100.1/', I),
  row('http://203.0.113.1/', I),
  row('http://198.18.0.1/', I),
  row('http://198.19.0.1/', I),
  row('http://224.0.0.1/', I),
  row('http://239.255.255.250:1900/', I),
  row('http://240.0.0.1/', I),
  row('http://255.255.255.255/', I),
  row('http://192.88.99.1/', I),
  // IPv4 in every spelling the URL parser and getaddrinfo accept
  row('http://2130706433/', I),
  row('http://0x7f000001/', I),
  row('http://0x7F.1/', I),
  row('http://0177.0.0.1/', I),
  row('http://017700000001/', I),
  row('http://00000177.0.0.1/', I),
  row('http://127.1/', I),
  row('http://127.0.1/', I),
  row('http://0x0a.0x0.0x0.0x1/', I),
  row('http://10.65535/', I),
  row('http://169.254.43518/', I),
  row('http://0xA9.0xFE.0xA9.0xFE/', I),
  row('http://2852039166/', I),
  row('http://0.0/', I),
  row('http://%31%32%37.0.0.1/', I),
  row('http://127%2E0%2E0%2E1/', I),
  row('http://１２７.０.０.１/', I),
  row('http://127。0。0。1/', I),
  row('http://①②⑦.0.0.1/', I),
  row('http://127.0.0.1./', I),
  row('http://10.0.0.1.:8080/', I),
  row('http://0x7f.0.0.1:80/', I),
  row('http://192.168.0x1.1/', I),
  row('2130706433', I),
  row('127.1:8080', I),
  row('10.0.0.1', I),
  row('192.168.1.1:443/path', I),
  // IPv6 literals
  row('http://[::1]/', I),
  row('http://[::1]:8080/', I),
  row('http://[0:0:0:0:0:0:0:1]/', I),
  row('http://[::]:80/', I),
  row('http://[fe80::1]/', I),
  row('http://[febf::1]/', I),
  row('http://[fc00::1]/', I),
  row('http://[fd00::1]/', I),
  row('http://[fd00:ec2::23]/', I),
  row('http://[fef0::1]/', I),
  row('http://[ff05::2]/', I),
  row('http://[2001:db8::1]/', I),
  row('http://[100::1]/', I),
  row('http://[2001:2::1]/', I),
  row('http://[3fff::1]/', I),
  row('http://[64:ff9b:1::1]/', I),
  row('http://[4000::1]/', I),
  row('http://[FE80::ABCD:1]/', I),
  row('::1', I),
  row('[::1]:3000', I),
  row('fd00::dead:beef', I),
  // IPv4 embedded in IPv6
  row('http://[::ffff:127.0.0.1]/', I),
  row('http://[::ffff:7f00:1]/', I),
  row('http://[::ffff:10.0.0.1]/', I),
  row('http://[::ffff:169.254.169.254]/', I),
  row('http://[0:0:0:0:0:ffff:192.168.1.1]/', I),
  row('http://[::ffff:0:127.0.0.1]/', I),
  row('http://[::127.0.0.1]/', I),
  row('http://[::7f00:1]/', I),
  row('http://[64:ff9b::127.0.0.1]/', I),
  row('http://[64:ff9b::a9fe:a9fe]/', I),
  row('http://[2002:7f00:2::1]/', I),
  row('http://[2002:a9fe:a9fe::1]/', I),
  row('http://[2002:c0a8:0101:0:0:0:0:1]/', I),
  row('http://[2001:0:4136:e378:8000:63bf:3f57:fefe]/', I),
  row('http://[2001:0:4136:e378:8000:63bf:80ff:fffe]/', I),
  row('::ffff:127.0.0.1', I),
  row('[::ffff:a00:1]:8080', I),
  // localhost and *.localhost: loopback without asking DNS
  row('http://localhost/', I),
  row('http://LOCALHOST:8080/', I),
  row('http://localhost./', I),
  row('http://foo.localhost/', I),
  row('http://a.b.localhost:3000/', I),
  row('localhost:5432', I),
  row('http://ｌｏｃａｌｈｏｓｔ/', I),
  // internal by name: metadata names, special-use and private-use domains, single labels
  row('http://metadata.google.internal/computeMetadata/v1/', I),
  row('http://metadata/', I),
  row('http://metadata.goog/', I),
  row('http://instance-data.ec2.internal/latest/', I),
  row('http://api.internal/', I),
  row('http://host.local/', I),
  row('http://router.lan/', I),
  row('http://svc.corp/', I),
  row('http://box.home.arpa/', I),
  row('http://x.test/', I),
  row('http://x.example/', I),
  row('http://hidden.onion/', I),
  row('http://1.0.0.127.in-addr.arpa/', I),
  row('http://intranet/', I),
  row('http://db.localdomain/', I),
  row('http://kubernetes.default.svc/', I),
  row('http://kubernetes.default.svc.cluster.local/', I),
  // names that resolve to something internal: one internal answer blocks
  row('http://private.example.com/', I),
  row('http://mixed-v4.example.com/', I),
  row('http://mixed-order.example.com/', I),
  row('http://mixed-v6.example.com/', I),
  row('http://mixed-family.example.com/', I),
  row('http://meta.example.com/', I),
  row('http://mapped.example.com/', I),
  row('http://cgn.example.com/', I),
  row('http://zeroes.example.com/', I),
  row('http://ula.example.com/', I),
  row('http://loop.example.com/', I),
  row('http://nat64.example.com/', I),
  row('http://many.example.com/', I),
  row('http://127.0.0.1.nip.io/', I),
  row('http://bogus-answer.example.com/', I),
  // resolution failures are blocks
  row('http://nxdomain.example.com/', 'DNS_FAILED'),
  row('http://servfail.example.com/', 'DNS_FAILED'),
  row('http://empty.example.com/', 'DNS_FAILED'),
  // userinfo, backslash, fragment and query tricks
  row('http://user:pw@example.com/', INVALID),
  row('http://example.com@127.0.0.1/', INVALID),
  row('http://127.0.0.1:80@example.com/', INVALID),
  row('http://example.com\\@127.0.0.1/', INVALID),
  row('example.com@127.0.0.1', INVALID),
  row('http://127.0.0.1#@example.com/', I),
  row('http://127.0.0.1?@example.com/', I),
  row('http://127.0.0.1/@example.com', I),
  row('http://127.0.0.1\\.example.com/', INVALID),
  // schemes
  row('file://localhost/etc/hosts', 'SCHEME_NOT_ALLOWED'),
  row('gopher://127.0.0.1:6379/_INFO', 'SCHEME_NOT_ALLOWED'),
  row('dict://127.0.0.1:11211/stat', 'SCHEME_NOT_ALLOWED'),
  row("javascript:fetch('//x')", 'SCHEME_NOT_ALLOWED'),
  row('ftp://example.com/', 'PROTOCOL_MISMATCH'),
  row('smtp://smtp.example.net', 'PROTOCOL_MISMATCH'),
  row('mailto:ops@example.com', 'PROTOCOL_MISMATCH'),
  // malformed
  row('', INVALID),
  row('   ', INVALID),
  row('https://', INVALID),
  row('http://exa mple.com/', INVALID),
  row('http://example.com:0/', INVALID),
  row('http://example.com:70000/', INVALID),
  row('http://\u0000127.0.0.1/', INVALID),
  // SMTP servers
  row('smtp://localhost:25', I, { protocol: 'smtp' }),
  row('smtp://[::1]:587', I, { protocol: 'smtp' }),
  row('smtp://0x7f.1', I, { protocol: 'smtp' }),
  row('smtp://192.168.1.25:2525', I, { protocol: 'smtp' }),
  row('smtps://10.0.0.1', I, { protocol: 'smtp' }),
  row('smtp://mail.internal:25', I, { protocol: 'smtp' }),
  row('mail.local:25', I, { protocol: 'smtp' }),
  row('ops@[10.0.0.1]', INVALID, { protocol: 'smtp' }),
  row('https://example.com/', 'PROTOCOL_MISMATCH', { protocol: 'smtp' }),
  row('mailto:ops@example.com', I, { protocol: 'smtp', policy: { smtp: { server: 'smtp://10.0.0.25:25' } } }),
  row('ops@example.com', I, { protocol: 'smtp', policy: { smtp: { server: 'smtps://localhost' } } }),
  // the server relays to the recipients' domains: internal ones are reached from inside its network
  row('ops@internal.corp', I, { protocol: 'smtp' }),
  row('mailto:ops@example.com,root@mail.localhost', I, { protocol: 'smtp' }),
  row('smtp://smtp.example.net', I, { protocol: 'smtp', message: JSON.stringify({ to: 'admin@printer.local', body: 'x' }) }),
  row('xmpp:admin@localhost', I, { protocol: 'xmpp' }),
  row('room@conference.localhost', I, { protocol: 'xmpp' }),
  row('bob@chat.internal/desk', I, { protocol: 'xmpp' }),
  row('xmpp:bob@intranet', I, { protocol: 'xmpp' }),
  // XMPP: the account's server is where the connection goes
  row('alice@[::1]', INVALID, { protocol: 'xmpp' }),
  row('xmpp:alice@example.com', I, { protocol: 'xmpp', policy: { xmpp: { jid: 'agent@example.net', service: 'xmpp://10.0.0.5:5222' } } }),
  row('room@conference.example.com', I, { protocol: 'xmpp', policy: { xmpp: { jid: 'agent@chat.internal' } } }),
  row('xmpp:alice@example.com', I, { protocol: 'xmpp', policy: { xmpp: { jid: 'agent@localhost' } } }),
  // --resolve overrides beat DNS, and do not make an internal name public
  row('http://api.example.com/', I, { resolve: { 'api.example.com': ['10.0.0.9'] } }),
  row('http://api.example.com/', I, { resolve: { 'api.example.com': [PUBLIC_V4, '::1'] } }),
  row('http://localhost/', I, { resolve: { localhost: [PUBLIC_V4] } }),
  row('http://metadata.google.internal/', I, { resolve: { 'metadata.google.internal': ['8.8.8.8'] } }),
  // allow_private opens exactly the named range
  row('http://10.0.1.0/', I, { policy: { network: { allow_private: ['10.0.0.0/24'] } } }),
  row('http://127.0.0.1/', I, { policy: { network: { allow_private: ['10.0.0.0/24'] } } }),
  row('http://private.example.com/', I, { policy: { network: { allow_private: ['10.0.0.4/32'] } } }),
  row('http://mixed-v4.example.com/', I, { policy: { network: { allow_private: ['10.0.0.0/8'] } } }),
  row('http://localhost/', I, { policy: { network: { allow_private: ['127.0.0.1/32'] } } }),
  row('http://[64:ff9b::a00:1]/', I, { policy: { network: { allow_private: ['10.0.0.0/8'] } } }),
];

const ALLOWED: readonly Row[] = [
  row('https://example.com/', 'allowed'),
  row('https://EXAMPLE.COM/Path', 'allowed'),
  row('example.com', 'allowed'),
  row('example.com:8443/x', 'allowed'),
  row('https://www.example.com./', 'allowed'),
  row('https://a_b.example.com/', 'allowed'),
  row('http://example.com:65535/', 'allowed'),
  row('http://93.184.215.14/', 'allowed'),
  row('http://8.8.4.4/', 'allowed'),
  // just outside each range
  row('http://100.63.255.255/', 'allowed'),
  row('http://100.128.0.0/', 'allowed'),
  row('http://172.15.255.254/', 'allowed'),
  row('http://172.32.0.0/', 'allowed'),
  row('http://192.167.255.255/', 'allowed'),
  row('http://192.169.0.0/', 'allowed'),
  row('http://169.253.255.255/', 'allowed'),
  row('http://198.17.255.255/', 'allowed'),
  row('http://198.51.101.1/', 'allowed'),
  row('http://203.0.112.255/', 'allowed'),
  row('http://223.255.255.255/', 'allowed'),
  row('http://9.255.255.255/', 'allowed'),
  row('http://11.0.0.0/', 'allowed'),
  row('http://192.0.3.1/', 'allowed'),
  // IPv6
  row('http://[2001:4860:4860::8888]/', 'allowed'),
  row('http://[2606:4700:4700::1001]:8080/', 'allowed'),
  row('[2001:4860:4860::8844]', 'allowed'),
  row('2001:4860:4860::8844', 'allowed'),
  row('http://[2a00:1450:4001:0830:0000:0000:0000:200e]/', 'allowed'),
  row('http://[::ffff:93.184.215.14]/', 'allowed'),
  row('http://[64:ff9b::5db8:d70e]/', 'allowed'),
  row('http://[2002:5db8:d70e::1]/', 'allowed'),
  // other spellings of a public address
  row('http://0x5db8d70e/', 'allowed'),
  row('http://1572394766/', 'allowed'),
  row('http://0135.0270.0327.016/', 'allowed'),
  row('http://ｅｘａｍｐｌｅ.com/', 'allowed'),
  row('https://münchen.example.com/', 'allowed'),
  row('https://xn--mnchen-3ya.example.com/', 'allowed'),
  // names that only look internal
  row('http://127.0.0.1.example.com/', 'allowed'),
  row('http://localhost.example.com/', 'allowed'),
  row('http://internal.example.com/', 'allowed'),
  row('http://metadata.example.com/', 'allowed'),
  row('http://local.example.com/', 'allowed'),
  row('https://api.example.com/hooks?next=http://127.0.0.1/', 'allowed'),
  row('https://api.example.com/redirect/127.0.0.1', 'allowed'),
  row('https://api.example.com/users/@me', 'allowed'),
  // several answers, all public
  row('http://dual.example.com/', 'allowed'),
  row('http://v6.example.com/', 'allowed'),
  row('http://many-public.example.com/', 'allowed'),
  // SMTP, e-mail, XMPP
  row('smtp://smtp.example.net', 'allowed', { protocol: 'smtp' }),
  row('smtp://smtp.example.net:25', 'allowed', { protocol: 'smtp' }),
  row('smtps://smtp.example.net', 'allowed', { protocol: 'smtp' }),
  row('smtp.example.net:2525', 'allowed', { protocol: 'smtp' }),
  row('mailto:ops@example.com', 'allowed', { protocol: 'smtp' }),
  row('ops@example.com, dev@example.org', 'allowed', { protocol: 'smtp' }),
  row('xmpp:alice@example.org', 'allowed', { protocol: 'xmpp' }),
  row('room@conference.example.org', 'allowed', { protocol: 'xmpp' }),
  row('alice@example.org/desk', 'allowed', { protocol: 'xmpp' }),
  // --resolve
  row('http://private.example.com/', 'allowed', { resolve: { 'private.example.com': [PUBLIC_V4] } }),
  row('http://not-in-dns.example.com/', 'allowed', { resolve: { 'not-in-dns.example.com': ['151.101.1.69', '2a04:4e42::644'] } }),
  // allow_private opens exactly what it names
  row('http://10.0.0.0/', 'allowed', { policy: { network: { allow_private: ['10.0.0.0/24'] } } }),
  row('http://10.0.0.255/', 'allowed', { policy: { network: { allow_private: ['10.0.0.0/24'] } } }),
  row('http://127.0.0.1:8080/', 'allowed', { policy: { network: { allow_private: ['127.0.0.1/32'] } } }),
  row('http://[::ffff:127.0.0.1]/', 'allowed', { policy: { network: { allow_private: ['127.0.0.1/32'] } } }),
  row('http://localhost:8080/', 'allowed', { policy: { network: { allow_private: ['127.0.0.1/32', '::1/128'] } } }),
  row('http://private.example.com/', 'allowed', { policy: { network: { allow_private: ['10.0.0.5/32'] } } }),
  row('http://router.lan/', 'allowed', { policy: { network: { allow_private: ['192.168.0.0/24'] } } }),
  row('http://[fd12::1]/', 'allowed', { policy: { network: { allow_private: ['fd12::/16'] } } }),
  row('smtp://192.168.1.25:2525', 'allowed', { protocol: 'smtp', policy: { network: { allow_private: ['192.168.1.25/32'] } } }),
  // an internal server the operator opened on purpose may deliver to internal domains
  row('bob@chat.internal', 'allowed', { protocol: 'xmpp', policy: { xmpp: { jid: 'agent@chat.internal', service: 'xmpp://10.1.2.3:5222' }, network: { allow_private: ['10.1.2.3/32'] } } }),
  row('ops@corp.internal', 'allowed', { protocol: 'smtp', policy: { smtp: { server: 'smtp://10.1.2.25:25' }, network: { allow_private: ['10.1.2.0/24'] } } }),
];

async function run(entry: Row) {
  const { smtp, xmpp, ...rest } = entry.policy ?? {};
  const policy = makePolicy({ ...BASE, ...rest, smtp: { ...BASE.smtp, ...smtp }, xmpp: { ...BASE.xmpp, ...xmpp } });
  return guard(entry.destination, entry.protocol ?? 'http', { policy, dns: DNS, ...(entry.resolve ? { overrides: entry.resolve } : {}), ...(entry.message ? { message: entry.message } : {}) });
}

function title(entry: Row): string {
  const extra = [entry.policy && `policy ${JSON.stringify(entry.policy)}`, entry.resolve && `--resolve ${JSON.stringify(entry.resolve)}`].filter(Boolean).join(' ');
  return `${entry.protocol ?? 'http'} ${JSON.stringify(entry.destination)}${extra ? ` (${extra})` : ''}`;
}

describe('network guard: blocked destinations', () => {
  it.each(BLOCKED.map((entry) => [title(entry), entry] as const))('%s', async (_title, entry) => {
    const outcome = await run(entry);
    expect(outcome.blocked, outcome.constraints.map((c) => `${c.code}: ${c.reason}`).join('\n')).toBe(true);
    expect(outcome.code).toBe(entry.expect);
    expect(outcome.reason).not.toMatch(/\n/);
    expect(outcome.context.endpoint).toBeUndefined();
  });
});

describe('network guard: allowed destinations', () => {
  it.each(ALLOWED.map((entry) => [title(entry), entry] as const))('%s', async (_title, entry) => {
    const outcome = await run(entry);
    expect(outcome.blocked, outcome.constraints.map((c) => `${c.code}: ${c.reason}`).join('\n')).toBe(false);
    const network = outcome.constraints.filter((c) => c.guard === 'network');
    expect(network).toHaveLength(1);
    expect(['NETWORK_PUBLIC', 'NETWORK_PRIVATE_ALLOWED']).toContain(network[0]!.code);
    // the vetted addresses are handed to the transport (pinning)
    expect(outcome.context.endpoint?.addresses.length).toBeGreaterThan(0);
  });
});

describe('network guard: table size', () => {
  it('has at least 150 blocked and 40 allowed destinations', () => {
    expect(BLOCKED.length).toBeGreaterThanOrEqual(150);
    expect(ALLOWED.length).toBeGreaterThanOrEqual(40);
  });
});

describe('network guard: resolution', () => {
  it.each(['http://localhost/', 'http://LocalHost.:80/', 'http://foo.localhost/', 'http://a.b.c.localhost/', 'localhost:3000'])(
    '%s is loopback without asking DNS',
    async (destination) => {
      const outcome = await guard(destination, 'http', { dns: { '*': [PUBLIC_V4] } });
      expect(outcome.code).toBe('NETWORK_INTERNAL');
      expect(outcome.lookups).toEqual([]);
      expect(outcome.reason).toMatch(/loopback/);
    },
  );

  it.each(['http://127.0.0.1/', 'http://[::1]/', 'http://8.8.8.8/', 'http://0x7f.1/'])('%s is a literal: no DNS', async (destination) => {
    const outcome = await guard(destination, 'http', { dns: { '*': [PUBLIC_V4] } });
    expect(outcome.lookups).toEqual([]);
  });

  it('asks DNS once, with the normalised name', async () => {
    const outcome = await guard('https://WWW.Example.COM./x', 'http', { dns: DNS });
    expect(outcome.blocked).toBe(false);
    expect(outcome.lookups).toEqual(['www.example.com']);
    expect(outcome.context.endpoint).toEqual({ host: 'www.example.com', hostKind: 'name', port: 443, addresses: [PUBLIC_V4] });
  });

  it('keeps every answer for the transport, not just the first', async () => {
    const outcome = await guard('http://dual.example.com/', 'http', { dns: DNS });
    expect(outcome.context.endpoint?.addresses).toEqual([PUBLIC_V4, PUBLIC_V6]);
  });

  it('names the internal answer and its range when a mixed answer blocks', async () => {
    const outcome = await guard('http://mixed-v4.example.com/', 'http', { dns: DNS });
    expect(outcome.reason).toContain('192.168.1.10');
    expect(outcome.reason).toContain('private');
    expect(outcome.constraints.at(-1)?.detail).toEqual({ address: '192.168.1.10', range: 'private' });
  });

  it('--resolve is used instead of DNS', async () => {
    const outcome = await guard('http://private.example.com/', 'http', { dns: DNS, overrides: { 'private.example.com': [PUBLIC_V4] } });
    expect(outcome.blocked).toBe(false);
    expect(outcome.lookups).toEqual([]);
    expect(outcome.context.endpoint?.addresses).toEqual([PUBLIC_V4]);
  });

  it('a DNS failure blocks with DNS_FAILED and the resolver error', async () => {
    const outcome = await guard('http://servfail.example.com/', 'http', { dns: DNS });
    expect(outcome.code).toBe('DNS_FAILED');
    expect(outcome.reason).toContain('ESERVFAIL');
  });

  it('says how the operator opens a private range', async () => {
    const outcome = await guard('http://10.0.0.1/', 'http');
    expect(outcome.reason).toMatch(/network\.allow_private/);
  });

  it('reports which allow_private entry opened an address', async () => {
    const outcome = await guard('http://10.0.0.7/', 'http', { policy: makePolicy({ network: { allow_private: ['10.0.0.0/29'] } }) });
    expect(outcome.constraints.at(-1)).toMatchObject({ code: 'NETWORK_PRIVATE_ALLOWED', result: 'pass' });
    expect(outcome.constraints.at(-1)?.reason).toContain('10.0.0.0/29');
    const next = await guard('http://10.0.0.8/', 'http', { policy: makePolicy({ network: { allow_private: ['10.0.0.0/29'] } }) });
    expect(next.code).toBe('NETWORK_INTERNAL');
  });
});
