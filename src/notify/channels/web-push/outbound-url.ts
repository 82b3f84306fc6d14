import { lookup as dnsLookup } from 'node:dns/promises';
import { isIP, type LookupFunction } from 'node:net';
import { internalAddressKind, type AddressKind } from './internal-addresses.js';

export interface ResolvedAddress {
  address: string;
  family: number;
}

/** Every address a name resolves to. */
export type Resolver = (hostname: string) => Promise<ResolvedAddress[]>;

/** getaddrinfo, as `http.request` itself would resolve (hosts file included). */
export const systemResolver: Resolver = (hostname) =>
  dnsLookup(hostname, { all: true, verbatim: true });

export const defaultOutboundUrlOptions = {
  // Loopback hosts, and http: to them: only for push-service doubles on this machine.
  allowInsecureLoopback: false,
  // Host patterns (`fcm.googleapis.com`, `*.push.apple.com`); when any, only those hosts.
  allowedHosts: [] as readonly string[],
};

export type RefusalReason =
  AddressKind | 'bad_url' | 'scheme' | 'host_not_allowed' | 'unresolvable';

/** An outbound URL the policy refuses; `reason` is the metrics label. */
export class OutboundUrlRefused extends Error {
  constructor(
    readonly reason: RefusalReason,
    message: string,
  ) {
    super(message);
    this.name = 'OutboundUrlRefused';
  }
}

const article = (kind: AddressKind) => (kind === 'unspecified' ? 'an' : 'a');
const bareHost = (hostname: string) => hostname.replace(/^\[(.*)\]$/, '$1').toLowerCase();

/** `localhost` or a loopback address (RFC 6761 keeps `localhost` on this machine). */
export function isLoopbackHost(hostname: string): boolean {
  const host = bareHost(hostname);
  return host === 'localhost' || (isIP(host) !== 0 && internalAddressKind(host) === 'loopback');
}

/** `*.example.com` matches any name under example.com; anything else matches itself. */
function hostMatches(host: string, pattern: string): boolean {
  const name = host.replace(/\.$/, '');
  const wanted = pattern.toLowerCase();
  return wanted.startsWith('*.') ? name.endsWith(wanted.slice(1)) : name === wanted;
}

/**
 * The policy for URLs a user or key can make the server call (web push endpoints): https
 * only, to public unicast addresses only (see internal-addresses.ts), and with `allowedHosts`
 * only to those hosts. `check` judges a URL with DNS, for when it is set; `checkUrl` judges
 * what needs no DNS, and `lookup`, given to the HTTP agent, resolves and judges again on
 * every connection, so the address connected to is the one judged (DNS rebinding).
 *
 * @example
 * const guard = createOutboundUrlGuard({}, { allowedHosts: ['*.push.apple.com'] });
 * await guard.check('https://169.254.169.254/'); // throws OutboundUrlRefused 'host_not_allowed'
 * new https.Agent({ lookup: guard.lookup });
 */
export function createOutboundUrlGuard(
  deps: { resolve?: Resolver } = {},
  options: Partial<typeof defaultOutboundUrlOptions> = {},
) {
  const opts = { ...defaultOutboundUrlOptions, ...options };
  const resolve = deps.resolve ?? systemResolver;

  function judge(host: string, addresses: readonly ResolvedAddress[]): void {
    if (addresses.length === 0) throw new OutboundUrlRefused('unresolvable', `${host}: no address`);
    for (const { address } of addresses) {
      const kind = internalAddressKind(address);
      if (kind === undefined || (kind === 'loopback' && opts.allowInsecureLoopback)) continue;
      const what = address === host ? host : `${host} resolves to ${address}, which`;
      throw new OutboundUrlRefused(
        kind,
        `${what} is ${article(kind)} ${kind.replace('_', '-')} address; only public hosts are called`,
      );
    }
  }

  /** Scheme, allowed hosts and literal addresses: all that is known without DNS. */
  function checkUrl(value: string): URL {
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      throw new OutboundUrlRefused('bad_url', 'not a URL');
    }
    const host = bareHost(url.hostname);
    if (opts.allowedHosts.length > 0 && !opts.allowedHosts.some((p) => hostMatches(host, p)))
      throw new OutboundUrlRefused('host_not_allowed', `${host} is not an allowed host`);
    const insecureAllowed = opts.allowInsecureLoopback && isLoopbackHost(host);
    if (url.protocol !== 'https:' && !(url.protocol === 'http:' && insecureAllowed))
      throw new OutboundUrlRefused('scheme', `must be https: (${url.protocol} refused)`);
    const family = isIP(host);
    if (family !== 0) judge(host, [{ address: host, family }]);
    return url;
  }

  async function resolveJudged(host: string): Promise<ResolvedAddress[]> {
    let addresses: ResolvedAddress[];
    try {
      addresses = await resolve(host);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
      throw new OutboundUrlRefused('unresolvable', `${host} does not resolve (${code})`);
    }
    judge(host, addresses);
    return addresses;
  }

  /** For `net.connect`: resolves, refuses if any address is refused, else answers them. */
  const lookup: LookupFunction = (hostname, lookupOptions, callback) => {
    resolveJudged(bareHost(hostname)).then(
      (addresses) => {
        const wanted = lookupOptions.family === 4 || lookupOptions.family === 6;
        const fitting = wanted
          ? addresses.filter((a) => a.family === lookupOptions.family)
          : addresses;
        const first = fitting[0];
        if (!first)
          callback(new OutboundUrlRefused('unresolvable', `${hostname}: no address`), '', 0);
        else if (lookupOptions.all) callback(null, fitting);
        else callback(null, first.address, first.family);
      },
      (err: Error) => callback(err, '', 0),
    );
  };

  return {
    checkUrl,
    lookup,
    /** Refuses (OutboundUrlRefused) a URL the policy does not allow, DNS included. */
    async check(value: string): Promise<void> {
      const host = bareHost(checkUrl(value).hostname);
      if (isIP(host) === 0) await resolveJudged(host);
    },
  };
}

export type OutboundUrlGuard = ReturnType<typeof createOutboundUrlGuard>;
