import { randomBytes } from 'node:crypto';
import type { Transport } from './fleet-protocol.js';
import type { FleetRunResult } from './fleet-result.js';
import { startListening, type ListeningProcess } from './listening-process.js';
import { describeServer, startServer, type ServerSettings } from './server-process.js';

/** A server the peer comparison drives: backline, or a baseline under bench/peers/. */
export interface Target {
  name: string;
  transport: Transport;
  /** The command as a reader would type it. */
  command: string;
  /** Whether its RSS per idle socket is measured (once per server kind is enough). */
  measureMemory: boolean;
  start(): Promise<{ server: ListeningProcess; url: string }>;
}

/** What the peer comparison measured of one target. */
export interface TargetFigures {
  target: string;
  /** Sockets open while the RSS was read (and during the load, all but the active ones idle). */
  sockets: number;
  connectMs: number;
  connectErrors: Record<string, number>;
  rssBeforeBytes: number | undefined;
  rssWithSocketsBytes: number | undefined;
  rssPerIdleSocketBytes: number | undefined;
  load: FleetRunResult;
}

/** The only storage setting that shortens backline's wait before an ack: the batching timer. */
export const shortFlush: ServerSettings = { storage: { flushIntervalMs: 1 } };

function backline(name: string, settings: ServerSettings, measureMemory: boolean): Target {
  return {
    name,
    transport: 'ws',
    command: describeServer(settings),
    measureMemory,
    async start() {
      const server = await startServer(settings);
      return { server, url: `ws://127.0.0.1:${server.port}/v1/ingest?key=${server.key}` };
    },
  };
}

function peer(
  name: string,
  transport: Transport,
  script: string,
  path: string,
  keyed = false,
): Target {
  const args = ['--import', 'tsx', script];
  return {
    name,
    transport,
    command: `PORT=0 ${keyed ? 'PEER_KEY=<random per run> ' : ''}node ${args.join(' ')}`,
    measureMemory: true,
    async start() {
      const key = `bench_${randomBytes(24).toString('base64url')}`;
      const server = await startListening({
        args,
        env: { ...process.env, PORT: '0', ...(keyed ? { PEER_KEY: key } : {}) },
        ...(keyed ? { secret: key } : {}),
        listening: /^peer listening on 127\.0\.0\.1:(\d+)$/,
        startTimeoutMs: 30_000,
        stopTimeoutMs: 5000,
      });
      const scheme = transport === 'ws' ? 'ws' : 'http';
      const query = keyed ? `?key=${key}` : '';
      return { server, url: `${scheme}://127.0.0.1:${server.port}${path}${query}` };
    },
  };
}

/** In run order; the first is the one every ratio divides. */
export const targets = {
  backline: backline('backline', {}, true),
  backlineShortFlush: backline('backline, flushIntervalMs 1', shortFlush, false),
  // backline's own socket, validation and de-dup, acking without storage (bench/peers/).
  transport: peer(
    'backline transport only',
    'ws',
    'bench/peers/backline-transport-peer.ts',
    '/v1/ingest',
    true,
  ),
  ws: peer('ws peer', 'ws', 'bench/peers/ws-peer.ts', '/v1/ingest'),
  socketIo: peer('Socket.IO peer', 'socket.io', 'bench/peers/socketio-peer.ts', ''),
};
