/**
 * Milliseconds on the machine's monotonic clock (CLOCK_MONOTONIC, which libuv's hrtime
 * reads on Linux and which every process shares): a send time taken in the runner and a
 * receive time taken in a load worker subtract exactly. `performance.now()` counts from each
 * process's own start, and `Date.now()` moves in 1 ms steps and with NTP adjustments.
 *
 * @example
 * const sentAt = machineNow(); // in the runner
 * latency.record(machineNow() - sentAt); // in a worker, sentAt sent over IPC
 */
export function machineNow(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}
