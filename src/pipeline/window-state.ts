import type { BoundAggregate } from './aggregates/index.js';
import type { StreamEvent } from '../model/event.js';
import type { WindowResult } from '../model/window-result.js';

/** A frame of events with the watermark that holds once the frame is taken into account. */
export interface Tick {
  events: StreamEvent[];
  watermark: number;
}

/** One window of one key, with its aggregate states. */
export interface OpenWindow {
  readonly key: string;
  start: number;
  end: number;
  readonly aggregates: readonly BoundAggregate[];
  readonly states: unknown[];
  /** Revision of the last result emitted; the next one is rev + 1. */
  rev: number;
  /** The watermark passed `end` and the final result went out. */
  fired: boolean;
  /** The window operator's tick that last changed it (its own bookkeeping; 0 when new). */
  tick: number;
}

/** What a window operator reports per tick: windows that changed, and those now final. */
export interface WindowChange {
  window: OpenWindow;
  final: boolean;
}

/** Shared by the window operators: what dashboards and history read as "still open". */
export type OpenWindows = Map<string, OpenWindow>;

export interface WindowOperatorOptions {
  aggregates: readonly BoundAggregate[];
  keyOf: (event: StreamEvent) => string;
  allowedLatenessMs: number;
  /** Open windows, owned by the caller so it can read them (snapshots, history). */
  open?: OpenWindows;
  /** Events that updated a closed window (`within`) or came too late to count (`too_late`). */
  onLate?: (kind: 'within' | 'too_late', count: number) => void;
}

export const windowId = (key: string, start: number): string => `${key}\u0000${start}`;

export function createWindow(
  key: string,
  start: number,
  end: number,
  aggregates: readonly BoundAggregate[],
): OpenWindow {
  return {
    key,
    start,
    end,
    aggregates,
    states: aggregates.map((a) => a.fn.create()),
    rev: 0,
    fired: false,
    tick: 0,
  };
}

export function addToWindow(window: OpenWindow, event: StreamEvent): void {
  const { aggregates, states } = window;
  for (let i = 0; i < aggregates.length; i++) {
    const aggregate = aggregates[i]!;
    aggregate.fn.add(states[i], aggregate.read ? aggregate.read(event) : undefined);
  }
}

export function mergeWindows(into: OpenWindow, from: OpenWindow): void {
  into.aggregates.forEach((aggregate, i) => aggregate.fn.merge(into.states[i], from.states[i]));
  into.start = Math.min(into.start, from.start);
  into.end = Math.max(into.end, from.end);
  into.rev = Math.max(into.rev, from.rev);
  into.fired = into.fired || from.fired;
}

/** The window's current result; `bump` makes it a new revision (an emission). */
export function windowResult(
  stream: string,
  window: OpenWindow,
  final: boolean,
  bump = true,
): WindowResult {
  if (bump) window.rev += 1;
  const values: Record<string, unknown> = {};
  const { aggregates, states } = window;
  for (let i = 0; i < aggregates.length; i++)
    ownValue(values, aggregates[i]!.name, aggregates[i]!.fn.result(states[i]));
  return {
    stream,
    start: window.start,
    end: window.end,
    key: window.key,
    values,
    final,
    rev: window.rev,
  };
}

/**
 * `target[name] = value` as an own property, also for `__proto__` (whose plain assignment
 * would set the prototype instead): what `Object.fromEntries` does, without its arrays.
 */
export function ownValue(target: Record<string, unknown>, name: string, value: unknown): void {
  if (name === '__proto__')
    Object.defineProperty(target, name, {
      value,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  else target[name] = value;
}
