import type { GeneratedEvent } from './event-generator.js';

/** A window as the oracle computes it: the exact aggregates and the sorted values. */
export interface OracleWindow {
  key: string;
  start: number;
  end: number;
  values: { n: number; total: number; lo: number; hi: number; mean: number; users: number };
  /** The window's values, sorted: what a quantile is checked against. */
  vs: number[];
}

export type OracleKind =
  | { kind: 'tumbling'; sizeMs: number }
  | { kind: 'hopping'; sizeMs: number; slideMs: number }
  | { kind: 'session'; gapMs: number };

/**
 * The windows of `events` grouped by `props.g`, computed directly (no watermark, no order):
 * what a stream must give for events none of which were too late. Sessions split where the
 * gap to the previous event (by time, then id) reaches `gapMs`. Sorted by start, then key.
 *
 * @example
 * oracleWindows(events, { kind: 'tumbling', sizeMs: 1000 });
 */
export function oracleWindows(
  events: readonly GeneratedEvent[],
  window: OracleKind,
): OracleWindow[] {
  const members = new Map<
    string,
    { key: string; start: number; end: number; events: GeneratedEvent[] }
  >();
  const add = (key: string, start: number, end: number, event: GeneratedEvent) => {
    const id = `${key}/${start}`;
    let member = members.get(id);
    if (!member) members.set(id, (member = { key, start, end, events: [] }));
    member.events.push(event);
  };
  if (window.kind === 'session') {
    for (const group of groupBy(events).values()) {
      group.sort((a, b) => a.ts - b.ts || (a.id < b.id ? -1 : 1));
      let first = 0;
      group.forEach((event, i) => {
        if (i > 0 && event.ts - group[i - 1]!.ts >= window.gapMs) first = i;
        add(event.props.g, group[first]!.ts, 0, event);
      });
    }
    for (const member of members.values())
      member.end = Math.max(...member.events.map((e) => e.ts)) + window.gapMs;
  } else {
    const slide = window.kind === 'hopping' ? window.slideMs : window.sizeMs;
    for (const event of events) {
      const last = Math.floor(event.ts / slide) * slide;
      for (let start = last; start > event.ts - window.sizeMs; start -= slide)
        add(event.props.g, start, start + window.sizeMs, event);
    }
  }
  return [...members.values()]
    .map(({ key, start, end, events: inWindow }) => summarize(key, start, end, inWindow))
    .sort((a, b) => a.start - b.start || (a.key < b.key ? -1 : 1));
}

function groupBy(events: readonly GeneratedEvent[]) {
  const groups = new Map<string, GeneratedEvent[]>();
  for (const event of events) {
    let group = groups.get(event.props.g);
    if (!group) groups.set(event.props.g, (group = []));
    group.push(event);
  }
  return groups;
}

function summarize(key: string, start: number, end: number, events: GeneratedEvent[]) {
  const vs = events.map((e) => e.props.v).sort((a, b) => a - b);
  const total = vs.reduce((sum, v) => sum + v, 0);
  return {
    key,
    start,
    end,
    vs,
    values: {
      n: vs.length,
      total,
      lo: vs[0]!,
      hi: vs[vs.length - 1]!,
      mean: total / vs.length,
      users: new Set(events.map((e) => e.userId)).size,
    },
  };
}

/** DDSketch is within 1% of the value at the quantile's rank; ranks may differ by one. */
export function nearQuantile(estimate: number, values: readonly number[], q: number): boolean {
  const rank = q * (values.length - 1);
  const near = values.slice(Math.max(0, Math.floor(rank) - 1), Math.ceil(rank) + 2);
  return near.some((x) => Math.abs(estimate - x) <= 0.01 * Math.abs(x) + 1e-9);
}
