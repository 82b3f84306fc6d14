/** When a frame goes out. Units are stated per field. */
export interface BatchOptions {
  /** A frame goes as soon as this many events wait (the server takes up to 1000 per frame). */
  maxEvents: number;
  /** …or once the oldest waiting event has waited this many ms. */
  maxDelayMs: number;
}

export const defaultBatch: BatchOptions = { maxEvents: 100, maxDelayMs: 200 };

export interface Batcher {
  /** Events are waiting: starts the delay if it is not running. */
  waiting(count: number): void;
  /** Whether a frame of `count` waiting events should go now. */
  ready(count: number): boolean;
  /** Makes whatever waits go now (`flush`). */
  hurry(): void;
  stop(): void;
}

/**
 * Decides when waiting events make a frame: by size or by time, whichever comes first.
 * `onDue` is called when the delay ends or `hurry` is called; the sender then asks `ready`.
 *
 * @example
 * const batcher = createBatcher(defaultBatch, pump);
 * batcher.waiting(queue.unsent); // after each track()
 * if (batcher.ready(unsent)) sendFrame();
 */
export function createBatcher(options: BatchOptions, onDue: () => void): Batcher {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let due = false;

  const fire = () => {
    timer = undefined;
    due = true;
    onDue();
  };

  return {
    waiting(count) {
      if (count === 0) {
        // Nothing waits: the next event starts a fresh delay.
        due = false;
        if (timer !== undefined) clearTimeout(timer);
        timer = undefined;
      } else if (!due && timer === undefined) {
        timer = setTimeout(fire, options.maxDelayMs);
      }
    },
    ready: (count) => count > 0 && (due || count >= options.maxEvents),
    hurry() {
      if (timer !== undefined) clearTimeout(timer);
      fire();
    },
    stop() {
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
    },
  };
}
