/** How figures read in the Markdown summaries; the JSON keeps the raw numbers. */

export const count = (n: number): string => Math.round(n).toLocaleString('en-US');

export const ms = (n: number): string => `${n.toFixed(n < 10 ? 2 : 1)} ms`;

export const mebibytes = (bytes: number | undefined): string =>
  bytes === undefined ? 'n/a' : `${(bytes / 1024 / 1024).toFixed(0)} MiB`;

export const byCode = (counts: Record<string, number>): string => {
  const entries = Object.entries(counts).sort(([, a], [, b]) => b - a);
  return entries.length === 0
    ? 'none'
    : entries.map(([code, n]) => `${code} ${count(n)}`).join(', ');
};

export const micros = (n: number): string => (Number.isFinite(n) ? `${n.toFixed(1)} µs` : 'n/a');

/** `a ÷ b` to two decimals, for the "÷ baseline" columns. */
export const ratio = (a: number, b: number): string =>
  b > 0 && Number.isFinite(a / b) ? (a / b).toFixed(2) : 'n/a';
