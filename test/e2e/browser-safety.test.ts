import { randomBytes } from 'node:crypto';
import { createServer, request, type IncomingHttpHeaders, type Server } from 'node:http';
import type { Browser, Page } from 'playwright-core';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../helpers/browser.js';
import { freePort } from '../helpers/free-port.js';
import { scrape } from '../helpers/scrape.js';
import { removeDir, startServer, type ServerProcess } from '../helpers/server-process.js';
import { connect, type SocketClient } from '../helpers/socket-client.js';

const key = `browser_${randomBytes(12).toString('hex')}`;
const project = (limits: object, origins: string[]) => ({
  projects: [{ id: 'shop', keys: [{ key, scopes: ['ingest', 'read'] }] }],
  cors: { origins },
  limits,
});

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: Record<string, unknown> | undefined;
}

/** One HTTP request from `localAddress` (another loopback address is another client). */
function call(
  url: string,
  options: { method?: string; headers?: Record<string, string>; body?: string; from?: string },
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(url, {
      method: options.method ?? 'GET',
      headers: options.headers ?? {},
      ...(options.from ? { localAddress: options.from } : {}),
    });
    req.on('upgrade', (_res, socket) => {
      socket.destroy();
      reject(new Error('the upgrade was accepted'));
    });
    req.on('response', (res) => {
      let text = '';
      res.on('data', (chunk: Buffer) => (text += chunk.toString()));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: text ? (JSON.parse(text) as Record<string, unknown>) : undefined,
        }),
      );
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

/** A socket upgrade that the server is expected to refuse: its status, headers and body. */
const refusedUpgrade = (url: string, headers: Record<string, string> = {}, from?: string) =>
  call(url.replace(/^ws/, 'http'), {
    headers: {
      connection: 'Upgrade',
      upgrade: 'websocket',
      'sec-websocket-version': '13',
      'sec-websocket-key': randomBytes(16).toString('base64'),
      ...headers,
    },
    ...(from ? { from } : {}),
  });

const refusals = (server: ServerProcess, code: string) =>
  scrape(server.url, 'backline_transport_upgrades_refused_total', { code });

describe('browser safety: CORS, Origin checks and per-address socket limits', () => {
  let server: ServerProcess;
  let pages: Server;
  let pagePort: number;
  let allowedOrigin: string;
  let browser: Browser;
  const sockets: SocketClient[] = [];

  beforeAll(async () => {
    // A second origin serving blank pages: the app page that calls backline cross-origin.
    pagePort = await freePort();
    pages = createServer((_req, res) => res.end('<!doctype html><title>app</title>'));
    await new Promise<void>((resolve) => pages.listen(pagePort, '127.0.0.1', resolve));
    allowedOrigin = `http://127.0.0.1:${pagePort}`;
    const origins = [allowedOrigin, 'https://*.shop.example'];
    server = await startServer({ config: project({ connectionsPerIp: 3 }, origins) });
    browser = await launchChromium();
  });
  afterAll(async () => {
    for (const socket of sockets) socket.close();
    await browser?.close();
    await new Promise((resolve) => pages?.close(resolve));
    await server?.stop();
    if (server) removeDir(server.dataDir);
  });

  it('answers a preflight from an allowed origin with the methods and headers, others 403', async () => {
    const preflight = (origin: string) =>
      call(`${server.url}/v1/events`, {
        method: 'OPTIONS',
        headers: {
          origin,
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'authorization, content-type',
        },
      });
    const allowed = await preflight(allowedOrigin);
    expect(allowed.status).toBe(204);
    expect(allowed.headers).toMatchObject({
      'access-control-allow-origin': allowedOrigin,
      vary: 'origin',
    });
    expect(allowed.headers['access-control-allow-methods']).toContain('POST');
    expect(allowed.headers['access-control-allow-headers']).toMatch(/authorization.*content-type/);
    expect((await preflight('https://eu.shop.example')).status).toBe(204);

    for (const origin of ['https://evil.example', 'https://shop.example.evil.example']) {
      const refused = await preflight(origin);
      expect(refused.status).toBe(403);
      expect(refused.body).toMatchObject({ code: 'ORIGIN_NOT_ALLOWED' });
      expect(refused.headers['access-control-allow-origin']).toBeUndefined();
    }
  });

  it('lets an allowed origin read POST /v1/events and the read routes; others are not told', async () => {
    const events = (origin: string) =>
      call(`${server.url}/v1/events`, {
        method: 'POST',
        headers: { origin, authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ events: [{ id: randomBytes(6).toString('hex'), type: 'v' }] }),
      });
    const allowed = await events(allowedOrigin);
    expect(allowed.status).toBe(200);
    expect(allowed.headers['access-control-allow-origin']).toBe(allowedOrigin);
    expect(allowed.headers.vary).toBe('origin');
    const other = await events('https://evil.example');
    expect(other.headers['access-control-allow-origin']).toBeUndefined();
    expect(other.headers.vary).toBe('origin');

    const streams = await call(`${server.url}/v1/streams`, {
      headers: { origin: 'https://eu.shop.example', authorization: `Bearer ${key}` },
    });
    expect(streams.status).toBe(200);
    expect(streams.headers['access-control-allow-origin']).toBe('https://eu.shop.example');
  });

  it('in Chromium: a page of an allowed origin sends events and opens a socket; another page cannot', async () => {
    const attempt = async (page: Page) =>
      page.evaluate(`(async () => {
        const result = {};
        try {
          const res = await fetch('${server.url}/v1/events', {
            method: 'POST',
            headers: { authorization: 'Bearer ${key}', 'content-type': 'application/json' },
            body: JSON.stringify({ events: [{ id: 'page-' + Math.random(), type: 'page.view' }] }),
          });
          result.fetch = res.status;
        } catch (err) {
          result.fetch = 'blocked';
        }
        result.socket = await new Promise((resolve) => {
          const ws = new WebSocket('${server.wsUrl}/v1/ingest?key=${key}');
          ws.onopen = () => { ws.close(); resolve('open'); };
          ws.onerror = () => resolve('refused');
        });
        return result;
      })()`);
    const allowed = await browser.newPage();
    await allowed.goto(`${allowedOrigin}/`);
    expect(await attempt(allowed)).toEqual({ fetch: 200, socket: 'open' });
    // localhost is another origin than 127.0.0.1, though the same server.
    const other = await browser.newPage();
    await other.goto(`http://localhost:${pagePort}/`);
    const before = await refusals(server, 'ORIGIN_NOT_ALLOWED');
    expect(await attempt(other)).toEqual({ fetch: 'blocked', socket: 'refused' });
    expect(await refusals(server, 'ORIGIN_NOT_ALLOWED')).toBe(before + 1);
    await allowed.close();
    await other.close();
  });

  it('refuses a socket upgrade from a page of another origin with 403, and lets non-browsers in', async () => {
    const url = `${server.wsUrl}/v1/ingest?key=${key}`;
    const refused = await refusedUpgrade(url, { origin: 'https://evil.example' });
    expect(refused).toMatchObject({ status: 403, body: { code: 'ORIGIN_NOT_ALLOWED' } });
    // The server's own pages (the dashboard) and clients that send no Origin are let in.
    const own = await connect(url, { origin: server.url });
    const noOrigin = await connect(url);
    own.close();
    noOrigin.close();
    await Promise.all([own.closed, noOrigin.closed]);
  });

  it('caps open sockets per client address: 429 TOO_MANY_CONNECTIONS, counted, freed on close', async () => {
    const url = `${server.wsUrl}/v1/live?key=${key}`;
    for (let i = 0; i < 3; i++) sockets.push(await connect(url));
    const before = await refusals(server, 'TOO_MANY_CONNECTIONS');
    const refused = await refusedUpgrade(url);
    expect(refused).toMatchObject({ status: 429, body: { code: 'TOO_MANY_CONNECTIONS' } });
    expect(await refusals(server, 'TOO_MANY_CONNECTIONS')).toBe(before + 1);

    // Another address is another client.
    const elsewhere = await connect(url, {}, { localAddress: '127.0.0.2' });
    elsewhere.close();

    const first = sockets.shift()!;
    first.close();
    await first.closed;
    sockets.push(await connect(url));
  });
});

describe('browser safety: socket upgrades per client address per second', () => {
  let server: ServerProcess;
  beforeAll(async () => {
    // One upgrade every 5 s: a second one at once is refused however slow the machine.
    server = await startServer({ config: project({ upgradesPerIpPerSecond: 0.2 }, []) });
  });
  afterAll(async () => {
    await server?.stop();
    if (server) removeDir(server.dataDir);
  });

  it('refuses upgrades past the rate with 429 TOO_MANY_UPGRADES and a retry hint, per address', async () => {
    const url = `${server.wsUrl}/v1/ingest`;
    // Refused for its missing key, it still took the address's upgrade.
    expect((await refusedUpgrade(url)).body).toMatchObject({ code: 'UNAUTHORIZED' });
    const limited = await refusedUpgrade(url);
    expect(limited).toMatchObject({ status: 429, body: { code: 'TOO_MANY_UPGRADES' } });
    expect(limited.body!.retryAfterMs).toBeGreaterThan(0);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(await refusals(server, 'TOO_MANY_UPGRADES')).toBe(1);

    const elsewhere = new WebSocket(`${url}?key=${key}`, { localAddress: '127.0.0.3' });
    await new Promise<void>((resolve, reject) => {
      elsewhere.once('open', () => resolve());
      elsewhere.once('error', reject);
    });
    elsewhere.close();
  });
});
