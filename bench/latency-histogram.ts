import { build, decodeFromCompressedBase64, encodeIntoCompressedBase64 } from 'hdr-histogram-js';

export interface LatencySummary {
  samples: number;
  p50Ms: number;
  p99Ms: number;
  p999Ms: number;
  maxMs: number;
  meanMs: number;
}

// Microsecond resolution up to a minute; a slower ack is clamped rather than dropped so the
// max still shows something went badly wrong.
const highestMicros = 60_000_000;

/**
 * An HDR histogram of latencies recorded in milliseconds, kept in microseconds with three
 * significant digits.
 *
 * @example
 * const latency = createLatencyHistogram();
 * latency.record(performance.now() - sentAt);
 * latency.summary().p99Ms;
 * parent.add(latency.encode()); // merges another process's samples
 */
export function createLatencyHistogram() {
  const histogram = build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: highestMicros,
    numberOfSignificantValueDigits: 3,
    autoResize: false,
  });
  const ms = (micros: number) => Math.round(micros) / 1000;
  return {
    record(latencyMs: number): void {
      histogram.recordValue(Math.min(highestMicros, Math.max(1, Math.round(latencyMs * 1000))));
    },
    /** Compressed base64, small enough for an IPC message whatever the sample count. */
    encode(): string {
      return encodeIntoCompressedBase64(histogram);
    },
    add(encoded: string): void {
      histogram.add(decodeFromCompressedBase64(encoded));
    },
    summary(): LatencySummary {
      // A percentile reads the top of its bucket, which can lie above the exact max.
      const at = (percentile: number) =>
        ms(Math.min(histogram.getValueAtPercentile(percentile), histogram.maxValue));
      return {
        samples: histogram.totalCount,
        p50Ms: at(50),
        p99Ms: at(99),
        p999Ms: at(99.9),
        maxMs: ms(histogram.maxValue),
        meanMs: ms(histogram.mean),
      };
    },
  };
}
