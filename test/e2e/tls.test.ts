import { createPrivateKey, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient } from '../../src/client/index.js';
import { createSelfSignedCert, type SelfSignedCert } from '../helpers/self-signed-cert.js';
import {
  removeDir,
  runServerUntilExit,
  startServer,
  tempDir,
  type ServerProcess,
} from '../helpers/server-process.js';
import { connect } from '../helpers/socket-client.js';

const passphrase = randomBytes(12).toString('hex');
const dir = tempDir('backline-tls-');
let cert: SelfSignedCert;
let env: Record<string, string>;
let server: ServerProcess;

/** One https request trusting the test certificate; the status and the JSON body. */
function httpsJson(url: string, options: { method?: string; key?: string; body?: unknown } = {}) {
  return new Promise<{ status: number; body: Record<string, unknown> }>((resolve, reject) => {
    const req = request(
      url,
      {
        method: options.method ?? 'GET',
        ca: cert.cert,
        headers: {
          'content-type': 'application/json',
          ...(options.key ? { authorization: `Bearer ${options.key}` } : {}),
        },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
      },
    );
    req.on('error', reject);
    req.end(options.body === undefined ? undefined : JSON.stringify(options.body));
  });
}

const event = (id: string) => ({ id, type: 'tls.test', ts: Date.now() });

beforeAll(async () => {
  cert = createSelfSignedCert();
  // The key encrypted with a passphrase, as operators often keep it.
  const keyFile = join(dir, 'key.enc.pem');
  const encrypted = createPrivateKey(cert.key).export({
    format: 'pem',
    type: 'pkcs8',
    cipher: 'aes-256-cbc',
    passphrase,
  });
  writeFileSync(keyFile, encrypted);
  env = { TLS_CERT_FILE: cert.certFile, TLS_KEY_FILE: keyFile, TLS_KEY_PASSPHRASE: passphrase };
  server = await startServer({ env });
});
afterAll(async () => {
  await server?.stop();
  if (server) removeDir(server.dataDir);
  removeDir(dir);
});

describe('TLS: https and wss through uWS SSLApp', () => {
  it('announces https and wss origins', () => {
    expect(server.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(server.output()).toContain(`ingest socket ${server.wsUrl}/v1/ingest`);
    expect(server.wsUrl).toMatch(/^wss:/);
  });

  it('answers https routes: the probes and POST /v1/events with its ack', async () => {
    expect(await httpsJson(`${server.url}/healthz`)).toEqual({
      status: 200,
      body: { status: 'ok' },
    });
    const posted = await httpsJson(`${server.url}/v1/events`, {
      method: 'POST',
      key: server.key,
      body: { events: [event('https-1')] },
    });
    expect(posted).toEqual({ status: 200, body: { accepted: 1, duplicates: 0, rejected: [] } });
  });

  it('takes events on the wss ingest socket and acknowledges them', async () => {
    const socket = await connect(
      `${server.wsUrl}/v1/ingest?key=${server.key}`,
      {},
      {
        ca: cert.cert,
      },
    );
    expect(socket.ws.url).toMatch(/^wss:/);
    socket.send({ t: 'events', seq: 1, events: [event('wss-1'), event('wss-2')] });
    expect(await socket.nextMessage()).toMatchObject({ t: 'ack', seq: 1, accepted: 2 });
    socket.close();
  });

  it('serves the client library given an https:// URL (its sockets go over wss)', async () => {
    const ca = cert.cert;
    const TrustingWebSocket = class extends WebSocket {
      constructor(url: string) {
        super(url, { ca });
      }
    };
    expect(server.url).toMatch(/^https:/);
    const client = createClient({
      url: server.url,
      key: server.key,
      WebSocket: TrustingWebSocket,
      storage: null,
    });
    try {
      client.track('tls.client', { n: 1 });
      client.track('tls.client', { n: 2 });
      await client.flush();
      expect(client.stats()).toMatchObject({ accepted: 2, connected: true });
    } finally {
      client.close();
    }
  });

  it('refuses plain http and ws on the TLS port, and clients that do not trust the certificate', async () => {
    const plain = server.url.replace('https:', 'http:');
    await expect(fetch(`${plain}/healthz`)).rejects.toThrow();
    await expect(connect(`${server.wsUrl.replace('wss:', 'ws:')}/v1/ingest`)).rejects.toThrow();
    // Without the test certificate as a CA, the chain does not verify.
    await expect(connect(`${server.wsUrl}/v1/ingest?key=${server.key}`)).rejects.toThrow(
      /self[- ]signed/i,
    );
  });
});

describe('demo mode over TLS', () => {
  it('sends its events to the server’s own wss port, trusting its certificate', async () => {
    const demo = await startServer({
      env: { ...env, BACKLINE_DEMO: '1', BACKLINE_DEMO_HISTORY: '0' },
    });
    try {
      const counts = async () =>
        (await httpsJson(`${demo.url}/v1/events/stats`, { key: demo.key })).body.counts as Record<
          string,
          number
        >;
      await expect
        .poll(async () => (await counts())['vote.cast'] ?? 0, { timeout: 20_000 })
        .toBeGreaterThan(0);
    } finally {
      expect(await demo.stop()).toBe(0);
      removeDir(demo.dataDir);
    }
  });
});

describe('TLS settings an operator must fix stop the start with one clear line', () => {
  it('a certificate file that cannot be read', async () => {
    const missing = join(dir, 'missing.pem');
    const { code, stderr } = await runServerUntilExit({ env: { ...env, TLS_CERT_FILE: missing } });
    expect(code).toBe(1);
    expect(stderr.trim()).toBe(
      `backline cannot start: TLS_CERT_FILE ${missing} cannot be read (ENOENT)`,
    );
  });

  it('a wrong passphrase, or a key of another certificate', async () => {
    const wrong = await runServerUntilExit({ env: { ...env, TLS_KEY_PASSPHRASE: 'not-it' } });
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/^backline cannot start: TLS_KEY_FILE .* does not go with/);
    const otherKey = join(dir, 'other-key.pem');
    writeFileSync(otherKey, createSelfSignedCert().key);
    const other = await runServerUntilExit({
      env: { TLS_CERT_FILE: cert.certFile, TLS_KEY_FILE: otherKey },
    });
    expect(other.code).toBe(1);
    expect(other.stderr).toMatch(/does not go with TLS_CERT_FILE .*another certificate's key/);
  });
});
