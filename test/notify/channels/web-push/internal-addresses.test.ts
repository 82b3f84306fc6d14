import { describe, expect, it } from 'vitest';
import { internalAddressKind } from '../../../../src/notify/channels/web-push/internal-addresses.js';

const internal: Array<[string, string]> = [
  ['127.0.0.1', 'loopback'],
  ['127.255.0.9', 'loopback'],
  ['::1', 'loopback'],
  ['::ffff:127.0.0.1', 'loopback'],
  ['::ffff:7f00:1', 'loopback'], // the same, as the URL parser writes it
  ['10.0.0.1', 'private'],
  ['172.16.0.1', 'private'],
  ['172.31.255.255', 'private'],
  ['192.168.1.1', 'private'],
  ['::ffff:192.168.1.1', 'private'],
  ['64:ff9b:1::a', 'private'],
  ['64:ff9b::a00:1', 'private'], // NAT64 to 10.0.0.1
  ['169.254.169.254', 'link_local'], // cloud metadata
  ['fe80::1', 'link_local'],
  ['fe80::1%eth0', 'link_local'],
  ['fc00::1', 'unique_local'],
  ['fd12:3456::1', 'unique_local'],
  ['100.64.0.1', 'cgnat'],
  ['100.127.255.255', 'cgnat'],
  ['224.0.0.1', 'multicast'],
  ['239.255.255.250', 'multicast'],
  ['ff02::1', 'multicast'],
  ['0.0.0.0', 'unspecified'],
  ['::', 'unspecified'],
  ['192.0.0.8', 'reserved'],
  ['192.0.2.1', 'reserved'],
  ['198.18.0.1', 'reserved'], // benchmarking
  ['198.19.255.255', 'reserved'],
  ['198.51.100.7', 'reserved'],
  ['203.0.113.7', 'reserved'],
  ['240.0.0.1', 'reserved'],
  ['255.255.255.255', 'reserved'],
  ['2001:db8::1', 'reserved'],
  ['2001:2::1', 'reserved'], // benchmarking
  ['2001::1', 'reserved'], // Teredo
  ['2002:a00:1::1', 'reserved'], // 6to4
  ['::7f00:1', 'reserved'], // IPv4-compatible, deprecated
  ['fec0::1', 'reserved'], // site-local, deprecated
  ['::ffff:8.8.8.8', 'reserved'], // mapped: never a DNS answer
  ['not-an-address', 'reserved'],
];

const public_ = [
  '8.8.8.8',
  '1.1.1.1',
  '100.63.255.255',
  '100.128.0.1',
  '172.32.0.1',
  '198.20.0.1',
  '2606:4700:4700::1111',
  '2a00:1450:4001:82b::200a',
  '64:ff9b::808:808', // NAT64 to 8.8.8.8
  '64:ff9b::8.8.8.8',
];

describe('internalAddressKind', () => {
  it.each(internal)('%s is %s', (address, kind) => {
    expect(internalAddressKind(address)).toBe(kind);
  });

  it.each(public_)('%s is public', (address) => {
    expect(internalAddressKind(address)).toBeUndefined();
  });
});
