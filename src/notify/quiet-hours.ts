import type { Preferences } from './preferences.js';

const minutesOf = (clock: string): number =>
  Number(clock.slice(0, 2)) * 60 + Number(clock.slice(3, 5));

/** Minutes since local midnight in `timeZone` at `ms`. */
export function localMinutes(ms: number, timeZone: string): number {
  const parts = new Intl.DateTimeFormat('en-GB', {
    timeZone,
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).formatToParts(ms);
  const value = (type: string) => Number(parts.find((part) => part.type === type)?.value ?? 0);
  return value('hour') * 60 + value('minute');
}

/**
 * When quiet hours hold at `now` in the user's zone, the first minute after they end (epoch
 * ms); otherwise undefined. Quiet hours may wrap midnight (22:00–07:00). Deferring to the
 * end of the quiet period, not dropping, is what users expect of "do not disturb".
 */
export function quietUntil(
  now: number,
  preferences: Pick<Preferences, 'quietHours' | 'timeZone'>,
): number | undefined {
  const quiet = preferences.quietHours;
  if (!quiet) return undefined;
  const start = minutesOf(quiet.start);
  const end = minutesOf(quiet.end);
  if (start === end) return undefined;
  const local = localMinutes(now, preferences.timeZone);
  const inside = start < end ? local >= start && local < end : local >= start || local < end;
  if (!inside) return undefined;
  const minutesLeft = (end - local + 1440) % 1440;
  const startOfMinute = now - (now % 60_000);
  return startOfMinute + minutesLeft * 60_000;
}
