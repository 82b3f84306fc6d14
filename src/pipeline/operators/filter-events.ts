import { filter, map, pipe, type OperatorFunction } from 'rxjs';
import type { Predicate } from '../predicate.js';
import type { StreamEvent } from '../../model/event.js';

/** Keeps the events of each frame that match; frames left empty are dropped. */
export function filterEvents(matches: Predicate): OperatorFunction<StreamEvent[], StreamEvent[]> {
  return pipe(
    map((events) => events.filter(matches)),
    filter((events) => events.length > 0),
  );
}
