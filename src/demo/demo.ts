import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { rootCertificates, type PeerCertificate } from 'node:tls';
import WebSocket, { type ClientOptions } from 'ws';
import { createClient, type Client } from '../client/index.js';
import type { Logger } from '../ops/logger.js';
import type { Service } from '../ops/lifecycle.js';
import { demoFan } from './demo-fan.js';
import { createDemoHistory, demoHistoryService, type HistoryStore } from './demo-history.js';
import type { DevProject } from './dev-project.js';
import { liveMusicEvents } from './live-music.js';

export interface DemoDeps {
  /** The server's own origin, once it listens (`http://127.0.0.1:8080`). */
  origin: () => string;
  /** An ingest key of the project the demo feeds. */
  key: string;
  /** The server's TLS certificate (PEM file), when it serves wss. */
  serverCertFile?: string;
  log: Logger;
}

export const defaultDemoOptions = {
  eventsPerSecond: 30, // on average; each tick sends a random share around it
  tickMs: 100,
  stopFlushMs: 2000, // how long stop() waits for the last acks
};

/** `npm start -- --demo` or `BACKLINE_DEMO=1`. */
export function demoRequested(argv: readonly string[], env: NodeJS.ProcessEnv): boolean {
  return argv.includes('--demo') || env.BACKLINE_DEMO === '1' || env.BACKLINE_DEMO === 'true';
}

/** The demo's history unless `BACKLINE_DEMO_HISTORY=0` (live traffic only, a quicker start). */
export function demoHistoryRequested(env: NodeJS.ProcessEnv): boolean {
  return env.BACKLINE_DEMO_HISTORY !== '0' && env.BACKLINE_DEMO_HISTORY !== 'false';
}

/**
 * The demo's services when it was asked for: the dev project's history seeded once
 * (demo-history.ts; unless `history` is false), then the live traffic; none without the dev
 * project, which `projects` in the configuration replace (with a warning).
 */
export function demoServices(
  requested: { live: boolean; history: boolean },
  dev: DevProject | undefined,
  deps: Omit<DemoDeps, 'key'> & { history: HistoryStore },
): Service[] {
  if (!requested.live) return [];
  if (dev) {
    const { history: store, ...live } = deps;
    const project = dev.project.id;
    const history = createDemoHistory({ store, project, now: Date.now, log: deps.log });
    const traffic = createDemo({ ...live, key: dev.project.keys[0]!.key });
    return requested.history ? [demoHistoryService(history), traffic] : [traffic];
  }
  deps.log.warn('demo mode feeds the dev project, which `projects` in the config replace');
  return [];
}

/**
 * Demo mode: synthetic live-music traffic sent to the server's own ingest socket with the
 * client library, exactly as an app would, so the example streams and the dashboard move;
 * and the demo user's own events, which make the example rules notify them (demo-fan.ts).
 * Started after the server and stopped before it, so its last events are acknowledged.
 *
 * @example
 * const demo = createDemo({ origin: () => 'http://127.0.0.1:8080', key, log });
 * await lifecycle.start([...services, server, demo]);
 */
export function createDemo(deps: DemoDeps, options = defaultDemoOptions): Service {
  let client: Client | undefined;
  let timer: ReturnType<typeof setInterval> | undefined;
  const next = liveMusicEvents();
  const perTick = (options.eventsPerSecond * options.tickMs) / 1000;

  return {
    name: 'demo',
    async start() {
      client = createClient({
        url: deps.origin(),
        key: deps.key,
        WebSocket: deps.serverCertFile ? trustingOwnCert(deps.serverCertFile) : WebSocket,
        storage: null,
      });
      const fan = demoFan(Date.now());
      const tick = () => {
        const events = fan(Date.now());
        // Between half and one and a half times the average: bounded, yet not a metronome.
        const count = Math.round(perTick * (0.5 + Math.random()));
        for (let i = 0; i < count; i++) events.push(next());
        for (const { type, props, identity } of events) client!.track(type, props, identity);
      };
      tick();
      timer = setInterval(tick, options.tickMs);
      deps.log.info(
        { eventsPerSecond: options.eventsPerSecond },
        'demo: sending live-music events',
      );
    },
    async stop() {
      clearInterval(timer);
      if (!client) return;
      let wait: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        client.flush(),
        new Promise((resolve) => (wait = setTimeout(resolve, options.stopFlushMs))),
      ]);
      clearTimeout(wait);
      client.close();
    },
  };
}

/**
 * `ws` for the server's own wss port on loopback: the certificate names the public host,
 * not 127.0.0.1, so the host check is replaced by the certificate's own fingerprint; the
 * chain is still verified (the public roots, or the certificate itself when self-signed).
 */
function trustingOwnCert(certFile: string) {
  const pem = readFileSync(certFile, 'utf8');
  const fingerprint = new X509Certificate(pem).fingerprint256;
  // Node's tls.connect contract (an Error or nothing): ws passes its options on as they are,
  // whatever its typings say.
  const checkServerIdentity = (_host: string, cert: PeerCertificate) =>
    cert.fingerprint256 === fingerprint ? undefined : new Error('not this server’s certificate');
  return class extends WebSocket {
    constructor(url: string) {
      super(url, {
        ca: [...rootCertificates, pem],
        checkServerIdentity,
      } as unknown as ClientOptions);
    }
  };
}
