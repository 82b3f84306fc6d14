import type { LookupAddress } from 'node:dns';
import { describe, expect, it } from 'vitest';
import {
  createOutboundUrlGuard,
  OutboundUrlRefused,
  type ResolvedAddress,
  type Resolver,
} from '../../../../src/notify/channels/web-push/outbound-url.js';

/** A resolver answering from a table, as a DNS server would; unknown: ENOTFOUND. */
function fakeDns(table: Record<string, string[]>): Resolver {
  return (hostname) => {
    const addresses = table[hostname.toLowerCase().replace(/\.$/, '')]; // `name.` is absolute
    if (!addresses)
      return Promise.reject(Object.assign(new Error('not found'), { code: 'ENOTFOUND' }));
    return Promise.resolve(
      addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 })),
    );
  };
}

/** The refusal reason, or 'allowed'. */
async function verdict(check: () => unknown): Promise<string> {
  try {
    await check();
    return 'allowed';
  } catch (err) {
    if (err instanceof OutboundUrlRefused) return err.reason;
    throw err;
  }
}

const dns = fakeDns({
  'push.example': ['93.184.216.34', '2606:2800:220:1::1'],
  'updates.push.services.mozilla.com': ['34.117.1.1'],
  'push.services.mozilla.com': ['34.117.1.2'],
  'fcm.googleapis.com': ['142.250.1.1'],
  'evil.example': ['8.8.8.8'],
  'half.example': ['8.8.8.8', '10.0.0.7'],
  'metadata.example': ['169.254.169.254'],
  'v6.example': ['fd00::5'],
  'empty.example': [],
  'to-loopback.example': ['127.0.0.1'],
  localhost: ['127.0.0.1', '::1'],
});

describe('outbound URL guard, default policy', () => {
  const guard = createOutboundUrlGuard({ resolve: dns });
  const cases: Array<[string, string]> = [
    ['https://push.example/send/1', 'allowed'],
    ['http://push.example/send/1', 'scheme'],
    ['http://127.0.0.1:8080/internal/admin?cmd=drop', 'scheme'],
    ['https://127.0.0.1:8080/internal/admin', 'loopback'],
    ['https://0x7f.1/', 'loopback'], // the URL parser makes it 127.0.0.1
    ['https://2130706433/', 'loopback'],
    ['https://10.0.0.1/x', 'private'],
    ['https://192.168.0.10/x', 'private'],
    ['https://169.254.169.254/latest/meta-data/', 'link_local'],
    ['https://100.64.0.1/', 'cgnat'],
    ['https://[::1]/x', 'loopback'],
    ['https://[::ffff:127.0.0.1]/x', 'loopback'],
    ['https://[::ffff:169.254.169.254]/x', 'link_local'],
    ['https://[fd00::1]/x', 'unique_local'],
    ['https://[fe80::1]/x', 'link_local'],
    ['https://0.0.0.0/x', 'unspecified'],
    ['https://224.0.0.1/x', 'multicast'],
    ['https://198.18.0.1/x', 'reserved'],
    ['https://localhost/x', 'loopback'],
    ['https://to-loopback.example/x', 'loopback'],
    ['https://half.example/x', 'private'], // any internal answer refuses the name
    ['https://metadata.example/x', 'link_local'],
    ['https://v6.example/x', 'unique_local'],
    ['https://nowhere.example/x', 'unresolvable'],
    ['https://empty.example/x', 'unresolvable'],
    ['ftp://push.example/x', 'scheme'],
    ['file:///etc/passwd', 'scheme'],
    ['push.example/x', 'bad_url'],
  ];
  it.each(cases)('%s: %s', async (url, expected) => {
    expect(await verdict(() => guard.check(url))).toBe(expected);
  });

  it('refuses a name that resolves to loopback through the system resolver', async () => {
    const system = createOutboundUrlGuard();
    expect(await verdict(() => system.check('https://localhost/x'))).toBe('loopback');
  });

  it('says what it refused, and why, in the message', async () => {
    const err = await guard.check('https://half.example/x').catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/half\.example resolves to 10\.0\.0\.7.*private/);
  });

  it('judges literal addresses and schemes without DNS (checkUrl)', () => {
    expect(() => guard.checkUrl('https://10.0.0.1/')).toThrow(OutboundUrlRefused);
    expect(() => guard.checkUrl('http://push.example/')).toThrow(OutboundUrlRefused);
    expect(guard.checkUrl('https://to-loopback.example/').hostname).toBe('to-loopback.example');
  });
});

describe('outbound URL guard, allowInsecureLoopback', () => {
  const guard = createOutboundUrlGuard({ resolve: dns }, { allowInsecureLoopback: true });
  const cases: Array<[string, string]> = [
    ['http://127.0.0.1:9/push/x', 'allowed'],
    ['http://[::1]:9/push/x', 'allowed'],
    ['http://localhost:9/push/x', 'allowed'],
    ['https://127.0.0.1:9/push/x', 'allowed'],
    ['https://push.example/x', 'allowed'],
    ['http://to-loopback.example/x', 'scheme'], // http: only to a loopback address or localhost
    ['http://10.0.0.1/x', 'scheme'],
    ['https://10.0.0.1/x', 'private'],
    ['https://169.254.169.254/x', 'link_local'],
  ];
  it.each(cases)('%s: %s', async (url, expected) => {
    expect(await verdict(() => guard.check(url))).toBe(expected);
  });
});

describe('outbound URL guard, allowedHosts', () => {
  const guard = createOutboundUrlGuard(
    { resolve: dns },
    { allowedHosts: ['*.push.services.mozilla.com', 'fcm.googleapis.com', 'metadata.example'] },
  );
  const cases: Array<[string, string]> = [
    ['https://updates.push.services.mozilla.com/wpush/v2/x', 'allowed'],
    ['https://fcm.googleapis.com/fcm/send/x', 'allowed'],
    ['https://FCM.googleapis.com./fcm/send/x', 'allowed'],
    ['https://push.services.mozilla.com/x', 'host_not_allowed'], // `*.` needs a label
    ['https://evil.example/x', 'host_not_allowed'],
    ['https://fcm.googleapis.com.evil.example/x', 'host_not_allowed'],
    ['https://evilfcm.googleapis.com/x', 'host_not_allowed'],
    ['https://10.0.0.1/x', 'host_not_allowed'],
    ['https://metadata.example/x', 'link_local'], // listed, but the address still counts
    ['http://fcm.googleapis.com/x', 'scheme'],
  ];
  it.each(cases)('%s: %s', async (url, expected) => {
    expect(await verdict(() => guard.check(url))).toBe(expected);
  });
});

describe('outbound URL guard lookup, for net.connect', () => {
  const guard = createOutboundUrlGuard({ resolve: dns });
  const lookup = (host: string, options: { all?: boolean; family?: number }) =>
    new Promise<string | LookupAddress[]>((resolve, reject) =>
      guard.lookup(host, options, (err, address) => (err ? reject(err) : resolve(address))),
    );

  it('answers every address with `all`, else the first of the family asked for', async () => {
    const both: ResolvedAddress[] = [
      { address: '93.184.216.34', family: 4 },
      { address: '2606:2800:220:1::1', family: 6 },
    ];
    expect(await lookup('push.example', { all: true })).toEqual(both);
    expect(await lookup('push.example', {})).toBe('93.184.216.34');
    expect(await lookup('push.example', { family: 6 })).toBe('2606:2800:220:1::1');
  });

  it('fails the connection with the refusal when any address is internal', async () => {
    for (const [host, reason] of [
      ['half.example', 'private'],
      ['localhost', 'loopback'],
      ['nowhere.example', 'unresolvable'],
    ] as const) {
      const err = await lookup(host, { all: true }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(OutboundUrlRefused);
      expect((err as OutboundUrlRefused).reason).toBe(reason);
    }
  });
});
