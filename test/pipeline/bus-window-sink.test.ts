import { describe, expect, it } from 'vitest';
import { createMemoryBus } from '../../src/cluster/memory-bus.js';
import type { WindowResult } from '../../src/model/window-result.js';
import { createBusWindowSink, windowsFromBus } from '../../src/pipeline/bus-window-sink.js';
import type { WindowSink } from '../../src/pipeline/pipeline-service.js';
import { createWindowCache } from '../../src/pipeline/window-cache.js';

const result = (start: number, rev: number): WindowResult => ({
  stream: 'votes',
  start,
  end: start + 1000,
  key: '',
  values: { n: rev },
  final: false,
  rev,
});

describe('windows over the bus', () => {
  it('publishes {project, results} on `windows` and feeds each subscribed sink before write returns', () => {
    const bus = createMemoryBus();
    const seen: string[] = [];
    const hub: WindowSink = {
      write: (project, results) => seen.push(`hub ${project} ${results.length}`),
    };
    const raw: unknown[] = [];
    bus.subscribe('windows', (message) => raw.push(message));
    windowsFromBus(bus, hub);
    const cache = createWindowCache();
    windowsFromBus(bus, cache.sink);

    const results = [result(0, 1), result(1000, 1)];
    createBusWindowSink(bus).write('dev', results);

    expect(raw).toEqual([{ project: 'dev', results }]);
    expect(seen).toEqual(['hub dev 2']);
    expect(cache.recent('dev', 'votes', 10)).toEqual(results);
  });

  it('stops feeding a sink once unsubscribed', () => {
    const bus = createMemoryBus();
    const cache = createWindowCache();
    const off = windowsFromBus(bus, cache.sink);
    const sink = createBusWindowSink(bus);
    sink.write('dev', [result(0, 1)]);
    off();
    sink.write('dev', [result(0, 2)]);
    expect(cache.recent('dev', 'votes', 10).map((w) => w.rev)).toEqual([1]);
  });
});
