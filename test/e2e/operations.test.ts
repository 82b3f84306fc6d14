import { execFileSync } from 'node:child_process';
import { Session } from 'chdb';
import { describe, expect, it } from 'vitest';
import { connect, makeEvents } from '../helpers/socket-client.js';
import { removeDir, startServer } from '../helpers/server-process.js';

describe('operations', () => {
  it('serves /metrics that promtool accepts, with the backline series', async () => {
    const server = await startServer();
    try {
      const client = await connect(`${server.wsUrl}/v1/ingest?key=${server.key}`);
      client.send({ t: 'events', seq: 1, events: [...makeEvents(5), { id: 'x', type: 1, ts: 0 }] });
      await client.nextMessage();
      client.sendRaw(Buffer.from([0xc1]));
      await client.nextMessage();
      client.close();

      const res = await fetch(`${server.url}/metrics`);
      expect(res.status).toBe(200);
      const text = await res.text();
      // promtool exits non-zero on any lint problem; execFileSync throws then.
      execFileSync('promtool', ['check', 'metrics'], { input: text });
      expect(text).toMatch(/^backline_ingest_events_accepted_total 5$/m);
      expect(text).toMatch(/^backline_ingest_events_rejected_total\{code="BAD_FIELD_TYPE"\} 1$/m);
      expect(text).toMatch(
        /^backline_ingest_frame_errors_total\{transport="ws",code="BAD_MSGPACK"\} 1$/m,
      );
      expect(text).toMatch(/^backline_ingest_ack_seconds_count\{transport="ws"\} 1$/m);
      for (const name of [
        'backline_transport_connections',
        'backline_storage_batch_rows_bucket',
        'backline_storage_insert_seconds_bucket',
        'backline_storage_rows_buffered',
        'backline_storage_rows_spooled',
        'backline_ops_event_loop_lag_seconds',
        'process_resident_memory_bytes',
      ]) {
        expect(text, name).toContain(name);
      }
    } finally {
      await server.stop();
      removeDir(server.dataDir);
    }
  });

  it('on SIGTERM acknowledges what it took, closes sockets with 1001 and exits 0', async () => {
    const server = await startServer();
    const client = await connect(`${server.wsUrl}/v1/ingest?key=${server.key}`);
    const events = makeEvents(200, 'term');
    client.send({ t: 'events', seq: 1, events });
    server.child.kill('SIGTERM');
    const ack = await client.nextMessage();
    expect(ack.t === 'ack' || ack.code === 'SHUTTING_DOWN').toBe(true);
    expect((await client.closed).code).toBe(1001);
    expect(await server.stop()).toBe(0);

    // Read the folder with ClickHouse directly: an acked frame is stored, fields as sent.
    const session = new Session(`${server.dataDir}/clickhouse`);
    try {
      const rows = session.query(
        `SELECT count() AS c, any(props) AS p FROM events WHERE id LIKE 'term-%'`,
        'JSONEachRow',
      );
      const { c, p } = JSON.parse(rows) as { c: string | number; p: string };
      expect(Number(c)).toBe(ack.t === 'ack' ? 200 : 0);
      if (ack.t === 'ack') expect(JSON.parse(p)).toHaveProperty('path');
    } finally {
      session.close();
      removeDir(server.dataDir);
    }
  });

  it('corrects ts for client clock skew by sentAt and keeps the client ts', async () => {
    const server = await startServer();
    const client = await connect(`${server.wsUrl}/v1/ingest?key=${server.key}`);
    const skewMs = 2 * 3600_000; // the client clock is two hours behind
    const sentAt = Date.now();
    const clientNow = sentAt - skewMs;
    client.send({
      t: 'events',
      seq: 1,
      events: [{ id: 'skewed', type: 'a', ts: clientNow - 1000, sentAt: clientNow }],
    });
    expect(await client.nextMessage()).toMatchObject({ accepted: 1 });
    const ackedAt = Date.now();
    client.close();
    await server.stop();
    const session = new Session(`${server.dataDir}/clickhouse`);
    try {
      const row = JSON.parse(
        session.query(
          `SELECT toUnixTimestamp64Milli(ts) AS ts, toUnixTimestamp64Milli(client_ts) AS client_ts FROM events WHERE id = 'skewed'`,
          'JSONEachRow',
        ),
      ) as { ts: string; client_ts: string };
      expect(Number(row.client_ts)).toBe(clientNow - 1000);
      // ts + (receivedAt − sentAt): the server received it between our send and the ack.
      expect(Number(row.ts)).toBeGreaterThanOrEqual(sentAt - 1000);
      expect(Number(row.ts)).toBeLessThanOrEqual(ackedAt - 1000);
    } finally {
      session.close();
      removeDir(server.dataDir);
    }
  });

  it('refuses to start on the slow ws fallback unless allowed', async () => {
    await expect(startServer({ env: { UWS_USE_FALLBACK: '1' } })).rejects.toThrow(
      /BACKLINE_ALLOW_WS_FALLBACK/,
    );
  });

  it('names the bad setting when configuration is invalid', async () => {
    await expect(startServer({ env: { PORT: 'eighty' } })).rejects.toThrow(/PORT/);
    await expect(startServer({ config: { limits: { maxEventsPerFrame: -1 } } })).rejects.toThrow(
      /limits\.maxEventsPerFrame/,
    );
  });
});
