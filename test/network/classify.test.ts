import { describe, expect, it } from 'vitest';
import { classifyAddress, inAllowedPrivate, parseAddress } from '../../src/network/classify.ts';

/** [address, range it must be classified as ('public' = globally reachable)] */
type Row = readonly [address: string, range: string];

// Every IPv4 special-purpose block: first and last address inside, and the neighbours just outside.
const IPV4: readonly Row[] = [
  ['0.0.0.0', 'this-network'],
  ['0.1.2.3', 'this-network'],
  ['1.0.0.0', 'public'],
  ['9.255.255.255', 'public'],
  ['10.0.0.0', 'private'],
  ['10.255.255.255', 'private'],
  ['11.0.0.0', 'public'],
  ['100.63.255.255', 'public'],
  ['100.64.0.0', 'carrier-grade-nat'],
  ['100.127.255.254', 'carrier-grade-nat'],
  ['100.128.0.0', 'public'],
  ['126.255.255.255', 'public'],
  ['127.0.0.1', 'loopback'],
  ['127.255.255.255', 'loopback'],
  ['128.0.0.0', 'public'],
  ['169.253.255.255', 'public'],
  ['169.254.0.0', 'link-local'],
  ['169.254.255.255', 'link-local'],
  ['169.255.0.0', 'public'],
  ['172.15.255.254', 'public'],
  ['172.16.0.0', 'private'],
  ['172.31.255.254', 'private'],
  ['172.32.0.0', 'public'],
  ['191.255.255.255', 'public'],
  ['192.0.0.0', 'ietf-protocol-assignments'],
  ['192.0.0.255', 'ietf-protocol-assignments'],
  ['192.0.1.0', 'public'],
  ['192.0.2.0', 'documentation'],
  ['192.0.2.255', 'documentation'],
  ['192.0.3.0', 'public'],
  ['192.88.98.255', 'public'],
  ['192.88.99.1', '6to4-relay-anycast'],
  ['192.88.100.0', 'public'],
  ['192.167.255.255', 'public'],
  ['192.168.0.0', 'private'],
  ['192.168.255.255', 'private'],
  ['192.169.0.0', 'public'],
  ['198.17.255.255', 'public'],
  ['198.18.0.0', 'benchmarking'],
  ['198.19.255.254', 'benchmarking'],
  ['198.20.0.0', 'public'],
  ['198.51.99.255', 'public'],
  ['198.51.100.0', 'documentation'],
  ['198.51.100.255', 'documentation'],
  ['198.51.101.0', 'public'],
  ['203.0.112.255', 'public'],
  ['203.0.113.0', 'documentation'],
  ['203.0.113.255', 'documentation'],
  ['203.0.114.0', 'public'],
  ['223.255.255.255', 'public'],
  ['224.0.0.0', 'multicast'],
  ['239.255.255.255', 'multicast'],
  ['240.0.0.0', 'reserved'],
  ['255.255.255.254', 'reserved'],
  ['255.255.255.255', 'broadcast'],
  // cloud metadata endpoints explain themselves
  ['169.254.169.254', 'cloud-metadata'],
  ['169.254.170.2', 'cloud-metadata'],
  ['100.100.100.200', 'cloud-metadata'],
  // ordinary public addresses
  ['8.8.8.8', 'public'],
  ['93.184.215.14', 'public'],
  ['151.101.1.69', 'public'],
];

const IPV6: readonly Row[] = [
  ['::', 'unspecified'],
  ['::1', 'loopback'],
  ['0:0:0:0:0:0:0:1', 'loopback'],
  ['[::1]', 'loopback'],
  ['64:ff9b:1::1', 'nat64-local-use'],
  ['100::1', 'discard-only'],
  ['2001:2::1', 'benchmarking'],
  ['2001:db8::', 'documentation'],
  ['2001:db8:ffff:ffff:ffff:ffff:ffff:ffff', 'documentation'],
  ['2001:db7:ffff:ffff:ffff:ffff:ffff:ffff', 'public'],
  ['2001:db9::1', 'public'],
  ['2001:10::1', 'orchid'],
  ['3fff::1', 'documentation'],
  ['3fff:fff:ffff::1', 'documentation'],
  ['5f00::1', 'srv6-sids'],
  ['fc00::', 'unique-local'],
  ['fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', 'unique-local'],
  ['fd00:ec2::254', 'cloud-metadata'],
  ['fd00:ec2::23', 'cloud-metadata'],
  ['fe80::1', 'link-local'],
  ['FE80::1', 'link-local'],
  ['febf:ffff::1', 'link-local'],
  ['fec0::1', 'site-local'],
  ['feff::1', 'site-local'],
  ['ff00::', 'multicast'],
  ['ff02::1', 'multicast'],
  ['ff0e::101', 'multicast'],
  // outside 2000::/3 nothing is global unicast
  ['1::1', 'reserved'],
  ['4000::1', 'reserved'],
  ['e000::1', 'reserved'],
  ['fbff::1', 'reserved'],
  ['1fff:ffff::1', 'reserved'],
  // global unicast
  ['2000::1', 'public'],
  ['2001:4860:4860::8888', 'public'],
  ['2606:4700:4700::1111', 'public'],
  ['2a03:2880:f12f:83:face:b00c::25de', 'public'],
  ['3ffe:ffff::1', 'public'],
];

// IPv6 spellings that carry an IPv4 address are judged by the IPv4 address they carry.
const EMBEDDED: readonly Row[] = [
  // IPv4-mapped ::ffff:0:0/96
  ['::ffff:127.0.0.1', 'ipv4-mapped(loopback)'],
  ['::ffff:7f00:1', 'ipv4-mapped(loopback)'],
  ['::FFFF:7F00:0001', 'ipv4-mapped(loopback)'],
  ['0:0:0:0:0:ffff:7f00:1', 'ipv4-mapped(loopback)'],
  ['::ffff:10.0.0.1', 'ipv4-mapped(private)'],
  ['::ffff:169.254.169.254', 'ipv4-mapped(cloud-metadata)'],
  ['::ffff:100.64.0.1', 'ipv4-mapped(carrier-grade-nat)'],
  ['::ffff:0.0.0.0', 'ipv4-mapped(this-network)'],
  ['::ffff:255.255.255.255', 'ipv4-mapped(broadcast)'],
  ['::ffff:8.8.8.8', 'public'],
  ['::ffff:808:808', 'public'],
  // IPv4-translated ::ffff:0:0:0/96 (RFC 6145)
  ['::ffff:0:127.0.0.1', 'ipv4-translated(loopback)'],
  ['::ffff:0:c0a8:1', 'ipv4-translated(private)'],
  ['::ffff:0:8.8.8.8', 'public'],
  // IPv4-compatible ::/96 (deprecated, still parsed)
  ['::127.0.0.1', 'ipv4-compatible(loopback)'],
  ['::7f00:1', 'ipv4-compatible(loopback)'],
  ['::192.168.0.1', 'ipv4-compatible(private)'],
  ['::169.254.169.254', 'ipv4-compatible(cloud-metadata)'],
  ['::2', 'ipv4-compatible(this-network)'],
  // NAT64 well-known prefix 64:ff9b::/96
  ['64:ff9b::127.0.0.1', 'nat64(loopback)'],
  ['64:ff9b::a00:1', 'nat64(private)'],
  ['64:ff9b::169.254.169.254', 'nat64(cloud-metadata)'],
  ['64:ff9b::8.8.8.8', 'public'],
  // 6to4 2002::/16
  ['2002:7f00:1::1', '6to4(loopback)'],
  ['2002:c0a8:0101::1', '6to4(private)'],
  ['2002:a9fe:a9fe::', '6to4(cloud-metadata)'],
  ['2002:6440:1::1', '6to4(carrier-grade-nat)'],
  ['2002:e000:1::1', '6to4(multicast)'],
  ['2002:808:808::1', 'public'],
  // Teredo 2001::/32: server in bits 32-63, client (bit-inverted) in the last 32 bits
  ['2001:0:4136:e378:8000:63bf:3f57:fefe', 'teredo(private)'], // client 192.168.1.1
  ['2001:0:4136:e378:8000:63bf:80ff:fffe', 'teredo(loopback)'], // client 127.0.0.1
  ['2001:0:a00:1:8000:63bf:f7f7:f7f7', 'teredo(private)'], // server 10.0.0.1, client public
  ['2001:0:4136:e378:8000:63bf:f7f7:f7f7', 'public'], // server 65.54.227.120, client 8.8.8.8
];

// A zone id names an interface: only ever meaningful for link-local, never a public target.
const ZONED: readonly Row[] = [
  ['fe80::1%eth0', 'link-local'],
  ['fe80::1%25eth0', 'link-local'],
  ['[fe80::1%en0]', 'link-local'],
  ['2606:4700:4700::1111%eth0', 'link-local'],
  ['::1%lo', 'link-local'],
];

describe('classifyAddress', () => {
  const all = [...IPV4, ...IPV6, ...EMBEDDED, ...ZONED];
  it.each(all)('%s is %s', (address, range) => {
    const verdict = classifyAddress(address);
    expect(verdict.range).toBe(range);
    expect(verdict.global).toBe(range === 'public');
  });

  it('covers every block with edges on both sides', () => {
    expect(all.filter(([, range]) => range !== 'public').length).toBeGreaterThanOrEqual(90);
    expect(all.filter(([, range]) => range === 'public').length).toBeGreaterThanOrEqual(35);
  });

  it.each(['example.com', '1.2.3', '256.0.0.1', '0x7f.0.0.1', '127.1', '', '::ffff::1', '[::1', '1.2.3.4.5', '12345::1:2:3:4:5:6'])(
    'refuses %j: only canonical textual addresses are classified (parsing is the target layer\'s job)',
    (text) => {
      expect(parseAddress(text)).toBeNull();
      expect(() => classifyAddress(text)).toThrow(TypeError);
    },
  );
});

describe('inAllowedPrivate', () => {
  const cidrs = ['127.0.0.1/32', '10.20.0.0/16', 'fd00:1234::/32'];
  it.each([
    ['127.0.0.1', '127.0.0.1/32'],
    ['::ffff:127.0.0.1', '127.0.0.1/32'],
    ['10.20.0.0', '10.20.0.0/16'],
    ['10.20.255.255', '10.20.0.0/16'],
    ['fd00:1234::1', 'fd00:1234::/32'],
    ['fd00:1234:ffff::1', 'fd00:1234::/32'],
  ])('%s is opened by %s', (address, cidr) => {
    expect(inAllowedPrivate(address, cidrs)).toBe(cidr);
  });

  it.each(['127.0.0.2', '127.0.0.0', '10.19.255.255', '10.21.0.0', '10.0.0.1', 'fd00:1235::1', 'fd00:1233:ffff::1', '::1', 'not an address'])(
    '%s is not opened (the neighbours of an opened range stay closed)',
    (address) => {
      expect(inAllowedPrivate(address, cidrs)).toBeNull();
    },
  );

  it('opens nothing when the list is empty', () => {
    expect(inAllowedPrivate('127.0.0.1', [])).toBeNull();
  });
});
