// The sender's clock: calls that have come due are made each tick.
const tickMs = 5;

/**
 * Open loop: call n is made at n / perSecond seconds from the start, whatever the replies
 * do; resolves after the last of `total`.
 *
 * @example
 * await sendPaced(1000, 200, (n) => sender.send(frameOf(n))); // 5 s
 */
export function sendPaced(total: number, perSecond: number, send: (n: number) => void) {
  const start = performance.now();
  let sent = 0;
  return new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      const due = Math.floor(((performance.now() - start) / 1000) * perSecond) + 1;
      for (; sent < Math.min(due, total); sent += 1) send(sent);
      if (sent < total) return;
      clearInterval(timer);
      resolve();
    }, tickMs);
  });
}
