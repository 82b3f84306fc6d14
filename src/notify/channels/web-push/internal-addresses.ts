import { BlockList, isIP } from 'node:net';

/** Why an address is not a public unicast one: the `reason` of a refused outbound URL. */
export type AddressKind =
  | 'unspecified'
  | 'loopback'
  | 'private'
  | 'link_local'
  | 'unique_local'
  | 'cgnat'
  | 'multicast'
  | 'reserved';

type Range = [address: string, prefix: number];

/**
 * The IANA special-purpose registries (RFC 6890 and its updates) less what is globally
 * reachable. First match wins. IPv4-mapped IPv6 addresses (`::ffff:10.0.0.1`) match the IPv4
 * rules: Node's BlockList checks them against both.
 */
const ranges: Array<[AddressKind, Range[]]> = [
  [
    'unspecified',
    [
      ['0.0.0.0', 8],
      ['::', 128],
    ],
  ],
  [
    'loopback',
    [
      ['127.0.0.0', 8],
      ['::1', 128],
    ],
  ],
  [
    'private',
    // 64:ff9b:1::/48: local-use NAT64 (RFC 8215), which translates to private space.
    [
      ['10.0.0.0', 8],
      ['172.16.0.0', 12],
      ['192.168.0.0', 16],
      ['64:ff9b:1::', 48],
    ],
  ],
  [
    'link_local',
    [
      ['169.254.0.0', 16],
      ['fe80::', 10],
    ],
  ],
  ['unique_local', [['fc00::', 7]]],
  ['cgnat', [['100.64.0.0', 10]]],
  [
    'multicast',
    [
      ['224.0.0.0', 4],
      ['ff00::', 8],
    ],
  ],
  [
    'reserved',
    [
      ['192.0.0.0', 24], // IETF protocol assignments
      ['192.0.2.0', 24], // TEST-NET-1
      ['192.88.99.0', 24], // 6to4 relay anycast (deprecated)
      ['198.18.0.0', 15], // benchmarking
      ['198.51.100.0', 24], // TEST-NET-2
      ['203.0.113.0', 24], // TEST-NET-3
      ['240.0.0.0', 4], // future use, and 255.255.255.255
      ['100::', 64], // discard
      ['2001::', 23], // IETF protocol assignments: Teredo, benchmarking 2001:2::/48, ORCHID
      ['2001:db8::', 32], // documentation
      ['2002::', 16], // 6to4: tunnels to an embedded IPv4 address
      ['3fff::', 20], // documentation (RFC 9637)
    ],
  ],
];

const lists = ranges.map(([kind, subnets]) => {
  const list = new BlockList();
  for (const [address, prefix] of subnets)
    list.addSubnet(address, prefix, isIP(address) === 4 ? 'ipv4' : 'ipv6');
  return [kind, list] as const;
});

const globalUnicast = new BlockList();
globalUnicast.addSubnet('2000::', 3, 'ipv6');
const nat64 = new BlockList();
nat64.addSubnet('64:ff9b::', 96, 'ipv6'); // RFC 6052 well-known prefix

/**
 * Why `address` is not a public unicast address, or `undefined` when it is one. Anything
 * that is not an IP address is `reserved`: the check fails closed.
 *
 * @example
 * internalAddressKind('169.254.169.254'); // 'link_local'
 * internalAddressKind('::ffff:127.0.0.1'); // 'loopback'
 * internalAddressKind('8.8.8.8'); // undefined
 */
export function internalAddressKind(address: string): AddressKind | undefined {
  const bare = address.replace(/%.*$/, ''); // a zone id (`fe80::1%eth0`) names an interface
  const family = isIP(bare);
  if (family === 0) return 'reserved';
  const type = family === 4 ? 'ipv4' : 'ipv6';
  for (const [kind, list] of lists) if (list.check(bare, type)) return kind;
  if (family === 4) return undefined;
  // NAT64 reaches the IPv4 address in the last 32 bits: judge that one.
  if (nat64.check(bare, 'ipv6')) return internalAddressKind(lastIpv4(bare));
  // IPv6 unicast outside 2000::/3 is unassigned; mapped IPv4 left here is public but has
  // no business in a URL or a DNS answer (getaddrinfo gives IPv4 as IPv4).
  return globalUnicast.check(bare, 'ipv6') ? undefined : 'reserved';
}

/** The IPv4 address in the last 32 bits of a valid IPv6 address, in either notation. */
function lastIpv4(address: string): string {
  const tail = address.slice(address.lastIndexOf(':') + 1);
  if (tail.includes('.')) return tail;
  const words = expandIpv6(address);
  const [high, low] = [words[6]!, words[7]!];
  return [high >> 8, high & 0xff, low >> 8, low & 0xff].join('.');
}

function expandIpv6(address: string): number[] {
  const [head = '', tail] = address.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const zeros = tail === undefined ? [] : Array<string>(8 - left.length - right.length).fill('0');
  return [...left, ...zeros, ...right].map((word) => parseInt(word, 16));
}
