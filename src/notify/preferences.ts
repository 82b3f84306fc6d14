import { z } from 'zod';
import { createSealedRecords } from '../state/sealed-records.js';
import { plainSealer, type Sealer } from '../state/sealer.js';
import { part, type StateStore } from '../state/state-store.js';
import { channelField, type ChannelName } from './notification.js';

const clock = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'times are HH:MM');

const timeZone = z.string().refine((zone) => {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}, 'an IANA time zone such as Europe/Berlin');

/**
 * A user's notification preferences. `categories[category][channel] = false` turns a channel
 * off for a category; `categories['*']` applies to every category; anything unset is on.
 */
export const preferencesSchema = z.object({
  categories: z.record(z.string(), z.partialRecord(channelField, z.boolean())).default({}),
  quietHours: z.object({ start: clock, end: clock }).nullable().default(null),
  timeZone: timeZone.default('UTC'),
  /** Low-priority notifications are collected and sent as one summary per period. */
  digest: z.enum(['off', 'hourly', 'daily']).default('off'),
  /** Where the email channel writes (the email issue uses it). */
  email: z.email().optional(),
});

export type Preferences = z.infer<typeof preferencesSchema>;

export const defaultPreferences: Preferences = preferencesSchema.parse({});

export function channelEnabled(
  preferences: Preferences,
  category: string,
  channel: ChannelName,
): boolean {
  return (
    preferences.categories[category]?.[channel] ?? preferences.categories['*']?.[channel] ?? true
  );
}

/** Preferences per user in the StateStore (`pref/<project>/<user>`), the email address sealed. */
export function createPreferences(state: StateStore, sealer: Sealer = plainSealer) {
  const keyOf = (project: string, userId: string) => `pref/${project}/${part(userId)}`;
  const records = createSealedRecords<Preferences>(state, sealer, ['email']);
  return {
    async get(project: string, userId: string): Promise<Preferences> {
      return (await records.get(keyOf(project, userId))) ?? defaultPreferences;
    },
    /** Validates and replaces; throws the zod error for the caller to report. */
    async put(project: string, userId: string, raw: unknown): Promise<Preferences> {
      const preferences = preferencesSchema.parse(raw);
      await records.put(keyOf(project, userId), preferences);
      return preferences;
    },
  };
}

export type PreferenceStore = ReturnType<typeof createPreferences>;
