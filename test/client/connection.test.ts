import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { backoffMs } from '../../src/lib/backoff.js';
import { openConnection, type ConnectionOptions } from '../../src/client/connection.js';
import { FakeSocket } from '../helpers/fake-websocket.js';

/**
 * The rotation over a list of servers, against the client's own seam (an in-memory
 * `WebSocket` class whose sockets the test opens, refuses and drops), under fake timers so
 * that every delay is exact.
 */
const servers = ['http://a:1', 'http://b:1', 'http://c:1'];
const backoff = { baseMs: 100, maxMs: 1000 };
const half = () => 0.5;
const log: string[] = [];
let connection: ReturnType<typeof openConnection> | undefined;

function open(options: Partial<ConnectionOptions> = {}) {
  connection = openConnection(
    {
      servers,
      start: 0,
      url: (server) => `${server.replace('http', 'ws')}/v1/live`,
      WebSocket: FakeSocket,
      backoff,
      openTimeoutMs: 5000,
      random: half,
      ...options,
    },
    {
      open: () => log.push(`open ${connection!.server}`),
      close: (event) => log.push(`close ${event.code}`),
      message: () => undefined,
    },
  );
  return connection;
}
const last = () => FakeSocket.made.at(-1)!;
/** Each socket made: its host and the ms from the end of the previous one. */
const attempts = () =>
  FakeSocket.made.map((s, i) => [
    s.host,
    i === 0 ? 0 : s.madeAt - FakeSocket.made[i - 1]!.endedAt!,
  ]);
/** Refuses the latest attempt and lets the next one be made. */
const refuse = () => {
  last().end();
  vi.advanceTimersByTime(backoff.maxMs);
};

beforeEach(() => {
  vi.useFakeTimers();
  FakeSocket.made = [];
  log.length = 0;
});
afterEach(() => {
  connection?.close();
  vi.useRealTimers();
});

describe('client connection over a list of servers', () => {
  it('starts at the given offset, tries the next server at once within a round, backs off between rounds', () => {
    open({ start: 1 });
    for (let i = 0; i < 6; i++) refuse();

    // Step within a round: random·baseMs/2 = 25 ms; after round r: backoffMs(r) at the same random.
    const step = 25;
    expect(attempts()).toEqual([
      ['b', 0],
      ['c', step],
      ['a', step],
      ['b', backoffMs(1, backoff.baseMs, backoff.maxMs, half)],
      ['c', step],
      ['a', step],
      ['b', backoffMs(2, backoff.baseMs, backoff.maxMs, half)],
    ]);
    expect(backoffMs(1, backoff.baseMs, backoff.maxMs, half)).toBe(75);
    expect(backoffMs(2, backoff.baseMs, backoff.maxMs, half)).toBe(150);
    expect(connection!.server).toBe('http://b:1');
  });

  it('wraps a start past the end of the list', () => {
    open({ start: 4 });
    expect(last().host).toBe('b');
  });

  it('moves to the next server when an open socket closes; one open for maxMs starts a fresh round', () => {
    open({ start: 2 });
    last().accept();
    expect(connection!.isOpen).toBe(true);
    expect(connection!.server).toBe('http://c:1');
    vi.advanceTimersByTime(backoff.maxMs);
    last().end({ code: 1006, reason: 'node died' });
    expect(connection!.isOpen).toBe(false);
    vi.advanceTimersByTime(24);
    expect(FakeSocket.made).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(FakeSocket.made).toHaveLength(2); // one step, not a backoff
    refuse(); // a is down too
    last().accept();
    vi.advanceTimersByTime(backoff.maxMs);
    last().end();
    vi.advanceTimersByTime(backoff.maxMs);

    expect(attempts().map(([host]) => host)).toEqual(['c', 'a', 'b', 'c']);
    // The round counted from b's open: c is tried after a step, not after round 1's backoff.
    expect(attempts()[3]![1]).toBe(25);
    expect(log).toEqual(['open http://c:1', 'close 1006', 'open http://b:1', 'close 1006']);
    expect(connection!.reconnects).toBe(1);
  });

  it('counts a socket closed soon after it opened as a failed attempt: such nodes cost backoff rounds', () => {
    open();
    for (let i = 0; i < 6; i++) {
      last().accept();
      refuse(); // accepted, then dropped at once
    }
    expect(attempts()).toEqual([
      ['a', 0],
      ['b', 25],
      ['c', 25],
      ['a', backoffMs(1, backoff.baseMs, backoff.maxMs, half)],
      ['b', 25],
      ['c', 25],
      ['a', backoffMs(2, backoff.baseMs, backoff.maxMs, half)],
    ]);
  });

  it('gives up an attempt that does not open within openTimeoutMs and tries the next server', () => {
    open({ openTimeoutMs: 3000 });
    const stuck = last();
    vi.advanceTimersByTime(2999);
    expect(FakeSocket.made).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(stuck.closedWith).toBe(4000);
    vi.advanceTimersByTime(25);
    expect(last().host).toBe('b');

    // The given-up socket opening late changes nothing, and its late close schedules nothing.
    stuck.accept();
    expect(stuck.closedWith).toBe(1000);
    stuck.end();
    vi.advanceTimersByTime(backoff.maxMs);
    expect(FakeSocket.made).toHaveLength(2);
    last().accept();
    expect(log).toEqual(['open http://b:1']);
  });

  it('with one server, every attempt is a round: the capped exponential backoff as before lists', () => {
    open({ servers: ['http://a:1'] });
    for (let i = 0; i < 6; i++) refuse();
    expect(attempts()).toEqual([
      ['a', 0],
      ...[1, 2, 3, 4, 5, 6].map((round) => [
        'a',
        backoffMs(round, backoff.baseMs, backoff.maxMs, half),
      ]),
    ]);
    expect(backoffMs(5, backoff.baseMs, backoff.maxMs, half)).toBe(750); // capped at maxMs from round 5 on
  });

  it('makes no attempt after close()', () => {
    open();
    last().end();
    connection!.close();
    vi.advanceTimersByTime(60_000);
    expect(FakeSocket.made).toHaveLength(1);
  });
});
