import type { EventRow } from '../../src/model/event.js';

/** Who sent an event: any of them may be empty. */
export interface RowIds {
  user?: string;
  anon?: string;
  session?: string;
}

/**
 * Event rows of one project as a seeded generator makes them: ids `<project>-<n>` in order,
 * and every event at its own millisecond (a taken one moves to the next free), so orders are
 * never ties. `add` answers the time the event got.
 */
export function eventRows(project: string) {
  const rows: EventRow[] = [];
  const taken = new Set<number>();
  const add = (type: string, at: number, ids: RowIds, props: object = {}) => {
    let ts = Math.floor(at);
    while (taken.has(ts)) ts += 1;
    taken.add(ts);
    const id = `${project}-${rows.length}`;
    rows.push({
      ...{ project, type, ts, client_ts: ts, sent_at: null, received_at: ts, id },
      user_id: ids.user ?? '',
      anonymous_id: ids.anon ?? '',
      session_id: ids.session ?? '',
      props: JSON.stringify(props),
    });
    return ts;
  };
  return { rows, add };
}
