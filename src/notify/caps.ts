import { z } from 'zod';
import { part, type StateStore } from '../state/state-store.js';

/** At most `max` notifications of a category per user per period (`*` for every category). */
export const capSchema = z.object({
  category: z.string().min(1),
  max: z.number().int().min(0),
  periodMs: z.number().int().min(1000),
});

export type Cap = z.infer<typeof capSchema>;

/**
 * Frequency caps per user, category and fixed period, counted in the StateStore
 * (`cap/<project>/<user>/<category>/<period start>`). Only sent notifications count.
 */
export function createCaps(state: StateStore, capsByProject: (project: string) => readonly Cap[]) {
  const keyOf = (project: string, userId: string, cap: Cap, now: number) =>
    `cap/${project}/${part(userId)}/${part(cap.category)}/${now - (now % cap.periodMs)}`;
  const applicable = (project: string, category: string) =>
    capsByProject(project).filter((cap) => cap.category === category || cap.category === '*');

  return {
    /** The first cap this notification would exceed, if any. */
    async exceeded(
      project: string,
      userId: string,
      category: string,
      now = Date.now(),
    ): Promise<Cap | undefined> {
      for (const cap of applicable(project, category)) {
        const count = (await state.get<number>(keyOf(project, userId, cap, now))) ?? 0;
        if (count >= cap.max) return cap;
      }
      return undefined;
    },
    async count(
      project: string,
      userId: string,
      category: string,
      now = Date.now(),
    ): Promise<void> {
      for (const cap of applicable(project, category))
        await state.update<number>(keyOf(project, userId, cap, now), (n) => (n ?? 0) + 1);
    },
  };
}

export type Caps = ReturnType<typeof createCaps>;
