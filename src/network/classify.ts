/**
 * IP classification, kept apart from access rules and host parsing (smokescreen style).
 * An address is "global" only when it is in the global unicast space and in no special-purpose
 * block; IPv6 forms that carry an IPv4 address are judged by the IPv4 address they carry.
 * The tables follow the IANA special-purpose address registries.
 */
import ipaddr from 'ipaddr.js';

export type AddressClass =
  | { global: true; range: 'public'; address: string }
  | { global: false; range: string; address: string };

type Block = readonly [cidr: string, range: string];

const IPV4_BLOCKS: readonly Block[] = [
  ['0.0.0.0/8', 'this-network'],
  ['10.0.0.0/8', 'private'],
  ['100.64.0.0/10', 'carrier-grade-nat'],
  ['127.0.0.0/8', 'loopback'],
  ['169.254.0.0/16', 'link-local'],
  ['172.16.0.0/12', 'private'],
  ['192.0.0.0/24', 'ietf-protocol-assignments'],
  ['192.0.2.0/24', 'documentation'],
  ['192.88.99.0/24', '6to4-relay-anycast'],
  ['192.168.0.0/16', 'private'],
  ['198.18.0.0/15', 'benchmarking'],
  ['198.51.100.0/24', 'documentation'],
  ['203.0.113.0/24', 'documentation'],
  ['224.0.0.0/4', 'multicast'],
  ['255.255.255.255/32', 'broadcast'],
  ['240.0.0.0/4', 'reserved'],
];

/** Well-known cloud metadata endpoints get their own range name so a block explains itself. */
const METADATA_ADDRESSES = new Set(['169.254.169.254', '169.254.170.2', '169.254.169.253', '100.100.100.200', 'fd00:ec2::254', 'fd00:ec2::23']);

const IPV6_BLOCKS: readonly Block[] = [
  ['::/128', 'unspecified'],
  ['::1/128', 'loopback'],
  ['64:ff9b:1::/48', 'nat64-local-use'],
  ['100::/64', 'discard-only'],
  ['2001:2::/48', 'benchmarking'],
  ['2001:db8::/32', 'documentation'],
  ['2001:10::/28', 'orchid'],
  ['2001:20::/28', 'orchid-v2'],
  ['3fff::/20', 'documentation'],
  ['5f00::/16', 'srv6-sids'],
  ['fc00::/7', 'unique-local'],
  ['fe80::/10', 'link-local'],
  ['fec0::/10', 'site-local'],
  ['ff00::/8', 'multicast'],
];

const parsedV4 = IPV4_BLOCKS.map(([cidr, range]) => [ipaddr.IPv4.parseCIDR(cidr), range] as const);
const parsedV6 = IPV6_BLOCKS.map(([cidr, range]) => [ipaddr.IPv6.parseCIDR(cidr), range] as const);
const GLOBAL_UNICAST_V6 = ipaddr.IPv6.parseCIDR('2000::/3');

/** Classify one textual IP address (any form ipaddr.js accepts). Throws on a non-address. */
export function classifyAddress(text: string): AddressClass {
  const parsed = parseAddress(text);
  if (!parsed) throw new TypeError(`not an IP address: ${text}`);
  return classifyParsed(parsed);
}

export function parseAddress(text: string): ipaddr.IPv4 | ipaddr.IPv6 | null {
  const bare = text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text;
  // Zone ids (fe80::1%eth0) name an interface: only ever link-local, never a public target.
  const zoneless = bare.includes('%') ? bare.slice(0, bare.indexOf('%')) : bare;
  if (ipaddr.IPv4.isValidFourPartDecimal(zoneless)) return ipaddr.IPv4.parse(zoneless);
  // ipaddr.js reads "::a.b.c.d" as "::ffff:a.b.c.d"; spell a dotted IPv4 tail in hex so it parses as written.
  const tail = /^(.*:)(\d+\.\d+\.\d+\.\d+)$/.exec(zoneless);
  const v6text = tail && ipaddr.IPv4.isValidFourPartDecimal(tail[2]!)
    ? `${tail[1]}${ipaddr.IPv4.parse(tail[2]!).toByteArray().reduce((acc, byte, i) => acc + byte.toString(16).padStart(2, '0') + (i === 1 ? ':' : ''), '')}`
    : zoneless;
  if (ipaddr.IPv6.isValid(v6text)) {
    const v6 = ipaddr.IPv6.parse(v6text);
    if (bare !== zoneless) v6.zoneId = bare.slice(zoneless.length + 1);
    return v6;
  }
  return null;
}

function classifyParsed(address: ipaddr.IPv4 | ipaddr.IPv6): AddressClass {
  const text = address.toString();
  if (address.kind() === 'ipv4') return classifyV4(address as ipaddr.IPv4, text);
  const v6 = address as ipaddr.IPv6;
  if (v6.zoneId) return { global: false, range: 'link-local', address: text };
  if (METADATA_ADDRESSES.has(text)) return { global: false, range: 'cloud-metadata', address: text };
  for (const [[base, bits], range] of parsedV6) {
    if (v6.match(base, bits)) return { global: false, range, address: text };
  }
  const embedded = embeddedV4(v6);
  if (embedded) {
    const inner = classifyV4(embedded.v4, embedded.v4.toString());
    if (!inner.global) return { global: false, range: `${embedded.form}(${inner.range})`, address: text };
    if (embedded.other) {
      const other = classifyV4(embedded.other, embedded.other.toString());
      if (!other.global) return { global: false, range: `${embedded.form}(${other.range})`, address: text };
    }
    return { global: true, range: 'public', address: text };
  }
  if (!v6.match(GLOBAL_UNICAST_V6[0], GLOBAL_UNICAST_V6[1])) return { global: false, range: 'reserved', address: text };
  return { global: true, range: 'public', address: text };
}

function classifyV4(v4: ipaddr.IPv4, text: string): AddressClass {
  if (METADATA_ADDRESSES.has(text)) return { global: false, range: 'cloud-metadata', address: text };
  for (const [[base, bits], range] of parsedV4) {
    if (v4.match(base, bits)) return { global: false, range, address: text };
  }
  return { global: true, range: 'public', address: text };
}

interface Embedded {
  form: string;
  v4: ipaddr.IPv4;
  /** Teredo carries two IPv4 addresses: the server and the (obfuscated) client. */
  other?: ipaddr.IPv4;
}

function embeddedV4(v6: ipaddr.IPv6): Embedded | null {
  const p = v6.parts;
  const v4 = (hi: number, lo: number) => new ipaddr.IPv4([hi >> 8, hi & 0xff, lo >> 8, lo & 0xff]);
  const zero = (from: number, to: number) => p.slice(from, to).every((part) => part === 0);
  // ::ffff:a.b.c.d (mapped) and ::ffff:0:a.b.c.d (RFC 6145 translated)
  if (zero(0, 5) && p[5] === 0xffff) return { form: 'ipv4-mapped', v4: v4(p[6]!, p[7]!) };
  if (zero(0, 4) && p[4] === 0xffff && p[5] === 0) return { form: 'ipv4-translated', v4: v4(p[6]!, p[7]!) };
  // ::a.b.c.d (IPv4-compatible, deprecated but still accepted by parsers); ::/128 and ::1 matched earlier
  if (zero(0, 6)) return { form: 'ipv4-compatible', v4: v4(p[6]!, p[7]!) };
  // 64:ff9b::a.b.c.d (NAT64 well-known prefix)
  if (p[0] === 0x64 && p[1] === 0xff9b && zero(2, 6)) return { form: 'nat64', v4: v4(p[6]!, p[7]!) };
  // 2002:AABB:CCDD::/48 (6to4)
  if (p[0] === 0x2002) return { form: '6to4', v4: v4(p[1]!, p[2]!) };
  // 2001:0000:SSSS:SSSS:flags:port:CCCC:CCCC (Teredo; the client address is bit-inverted)
  if (p[0] === 0x2001 && p[1] === 0) {
    return { form: 'teredo', v4: v4(p[6]! ^ 0xffff, p[7]! ^ 0xffff), other: v4(p[2]!, p[3]!) };
  }
  return null;
}

/** True when `address` falls in one of the operator's allow_private CIDRs. */
export function inAllowedPrivate(address: string, cidrs: readonly string[]): string | null {
  const parsed = parseAddress(address);
  if (!parsed) return null;
  for (const cidr of cidrs) {
    const [base, bits] = ipaddr.parseCIDR(cidr);
    if (base.kind() === parsed.kind() && parsed.match(base, bits)) return cidr;
    // An operator who opens 127.0.0.1/32 means that address in its IPv4-mapped spelling too.
    if (parsed.kind() === 'ipv6' && base.kind() === 'ipv4' && (parsed as ipaddr.IPv6).isIPv4MappedAddress()) {
      if ((parsed as ipaddr.IPv6).toIPv4Address().match(base, bits)) return cidr;
    }
  }
  return null;
}
