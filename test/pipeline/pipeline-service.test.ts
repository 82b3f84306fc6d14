import { pino } from 'pino';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import type { StreamEvent } from '../../src/model/event.js';
import type { WindowResult } from '../../src/model/window-result.js';
import { createMetrics } from '../../src/ops/metrics.js';
import { createPipelineService, type SeenRev } from '../../src/pipeline/pipeline-service.js';
import { streamSpecSchema } from '../../src/pipeline/stream-spec.js';
import { event, marbles } from './stream-fixtures.js';

const log = pino({ level: 'silent' });

/** Events per `props.k` in 1 s windows; no out-of-orderness, lateness 1 s, idle ticks far off. */
const votes = (emit: Record<string, unknown> = { mode: 'final' }) =>
  streamSpecSchema.parse({
    name: 'votes',
    groupBy: ['props.k'],
    window: { kind: 'tumbling', sizeMs: 1000 },
    aggregates: [{ name: 'n', fn: 'count' }],
    outOfOrderMs: 0,
    allowedLatenessMs: 1000,
    idleTickMs: 3_600_000,
    emit,
  });

const vote = (ts: number, k = 'a'): StreamEvent => event(ts, { k });

/** `a [0,1000) n=2 final rev=3`: what a sink got, as one line per result. */
const line = (r: WindowResult) =>
  `${r.key} [${r.start},${r.end}) n=${String(r.values.n)}${r.final ? ' final' : ''} rev=${r.rev}`;

/** A pipeline whose sinks write lines tagged with the virtual time and project. */
function open(spec = votes(), projects = ['p']) {
  const written: string[] = [];
  const scheduler = marbles();
  const pipeline = createPipelineService(
    {
      sinks: [
        {
          write: (project, results) =>
            written.push(...results.map((r) => `${scheduler.now()} ${project} ${line(r)}`)),
        },
      ],
      metrics: createMetrics(new Registry()),
      log,
    },
    Object.fromEntries(projects.map((project) => [project, [spec]])),
  );
  return { pipeline, written, scheduler };
}

/** Runs `body` in virtual time; the pipeline stops at `endMs`, which ends its timers. */
function inVirtualTime(setup: ReturnType<typeof open>, endMs: number, body: () => void) {
  setup.scheduler.run(({ cold, flush }) => {
    void setup.pipeline.start();
    body();
    cold(`${endMs}ms x`).subscribe(() => void setup.pipeline.stop());
    flush();
  });
}

const at = (setup: ReturnType<typeof open>, ms: number, fn: () => void) =>
  setup.scheduler.schedule(fn, ms);

const seenFrom =
  (cache: Record<string, { rev: number; final: boolean }>): SeenRev =>
  (key, start) =>
    cache[`${key}@${start}`];

describe('pipeline service: takeover of a partition', () => {
  it('rebuilds muted: nothing reaches the sinks, the replay’s finals are returned, windows are open again', () => {
    const setup = open();
    const { pipeline, written } = setup;
    inVirtualTime(setup, 10, () => {
      const replayed = pipeline.rebuild(
        'p',
        new Map([['votes', [vote(100), vote(200), vote(1100), vote(1200)]]]),
      );
      expect(replayed.map(line)).toEqual(['a [0,1000) n=2 final rev=1']);
      expect(written).toEqual([]);
      expect(pipeline.openWindows('p', 'votes').map(line)).toEqual([
        'a [0,1000) n=2 final rev=1',
        'a [1000,2000) n=2 rev=0',
      ]);
      pipeline.feed('p', [vote(2100)]);
    });
    expect(written).toEqual(['0 p a [1000,2000) n=2 final rev=1']);
  });

  it('starts every stream of the project afresh: a second rebuild does not add to the first', () => {
    const setup = open();
    const { pipeline } = setup;
    inVirtualTime(setup, 10, () => {
      pipeline.feed('p', [vote(100), vote(200)]);
      pipeline.rebuild('p', new Map([['votes', [vote(300)]]]));
      expect(pipeline.openWindows('p', 'votes').map(line)).toEqual(['a [0,1000) n=1 rev=0']);
    });
  });

  it('adopts published revs: owed finals go out above them, the next revision too', () => {
    const setup = open();
    const { pipeline, written } = setup;
    inVirtualTime(setup, 10, () => {
      const replayed = pipeline.rebuild(
        'p',
        new Map([['votes', [vote(100), vote(200), vote(1100), vote(1200)]]]),
      );
      // The previous owner published early revisions, but neither final.
      const seen = seenFrom({
        'a@0': { rev: 7, final: false },
        'a@1000': { rev: 4, final: false },
      });
      const owed = pipeline.adoptRevs('p', 'votes', seen, replayed);
      expect(owed.map(line)).toEqual(['a [0,1000) n=2 final rev=8']);
      pipeline.emit('p', owed);
      pipeline.feed('p', [vote(2100)]);
    });
    expect(written).toEqual([
      '0 p a [0,1000) n=2 final rev=8',
      '0 p a [1000,2000) n=2 final rev=5',
    ]);
  });

  it('does not fire again a window published final; a late event still re-emits it above that rev', () => {
    const setup = open();
    const { pipeline, written } = setup;
    inVirtualTime(setup, 10, () => {
      const replayed = pipeline.rebuild(
        'p',
        new Map([['votes', [vote(100), vote(200), vote(1100), vote(1200)]]]),
      );
      // [1000,2000) is still open in the rebuild, but its owner had closed it (an idle tick).
      const seen = seenFrom({ 'a@0': { rev: 3, final: true }, 'a@1000': { rev: 2, final: true } });
      expect(pipeline.adoptRevs('p', 'votes', seen, replayed)).toEqual([]);
      pipeline.feed('p', [vote(500)]);
      pipeline.feed('p', [vote(2100)]);
    });
    expect(written).toEqual(['0 p a [0,1000) n=3 final rev=4']);
  });

  it('owes the final of a window the rebuild already forgot, above the published rev', () => {
    const setup = open();
    const { pipeline } = setup;
    inVirtualTime(setup, 10, () => {
      const replayed = pipeline.rebuild('p', new Map([['votes', [vote(100), vote(3100)]]]));
      expect(pipeline.openWindows('p', 'votes').map(line)).toEqual(['a [3000,4000) n=1 rev=0']);
      const owed = pipeline.adoptRevs(
        'p',
        'votes',
        seenFrom({ 'a@0': { rev: 5, final: false } }),
        replayed,
      );
      expect(owed.map(line)).toEqual(['a [0,1000) n=1 final rev=6']);
    });
  });

  it('continues early revisions above the adopted rev', () => {
    const setup = open(votes({ mode: 'early', everyMs: 100 }));
    const { pipeline, written } = setup;
    inVirtualTime(setup, 250, () => {
      const replayed = pipeline.rebuild('p', new Map([['votes', [vote(100), vote(200)]]]));
      expect(replayed).toEqual([]);
      pipeline.adoptRevs('p', 'votes', seenFrom({ 'a@0': { rev: 9, final: false } }), replayed);
      at(setup, 150, () => pipeline.feed('p', [vote(300)]));
    });
    expect(written).toEqual(['100 p a [0,1000) n=2 rev=10', '200 p a [0,1000) n=3 rev=11']);
  });

  it('drops a project’s open windows on a lost lease; its streams stay, other projects go on', () => {
    const setup = open(votes(), ['p', 'q']);
    const { pipeline, written } = setup;
    inVirtualTime(setup, 10, () => {
      pipeline.feed('p', [vote(100), vote(200)]);
      pipeline.feed('q', [vote(100), vote(200)]);
      pipeline.dropProject('p');
      expect(pipeline.openWindows('p', 'votes')).toEqual([]);
      expect(pipeline.streams('p').map((s) => s.name)).toEqual(['votes']);
      pipeline.feed('p', [vote(1500)]);
      pipeline.feed('q', [vote(1500)]);
      // The watermark went with the windows: an earlier event opens its window again.
      pipeline.feed('p', [vote(1400)]);
    });
    expect(written).toEqual(['0 q a [0,1000) n=2 final rev=1']);
    expect(pipeline.openWindows('p', 'votes').map(line)).toEqual(['a [1000,2000) n=2 rev=0']);
  });
});

describe('pipeline service: replay after a restart', () => {
  it('does not emit a window that starts before the replay’s reading: it holds only part of its events', () => {
    const setup = open();
    const { pipeline, written } = setup;
    inVirtualTime(setup, 10, () => {
      // Read from 600: [0,1000) had closed past its lateness before the restart.
      pipeline.replay('p', 'votes', [vote(600), vote(900), vote(1100), vote(1200)], 600);
      pipeline.replay('p', 'votes', [vote(2100), vote(3200)], 600);
      pipeline.feed('p', [vote(3300)]);
    });
    expect(written).toEqual([
      '0 p a [1000,2000) n=2 final rev=1',
      '0 p a [2000,3000) n=1 final rev=1',
    ]);
  });
});
