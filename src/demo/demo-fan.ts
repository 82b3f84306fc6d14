import { showProps, shows, type DemoEvent } from './live-music.js';

/** The user whose inbox the dashboard's notifications panel opens on. */
export const demoUserId = 'demo-fan';

export const defaultDemoFanOptions = {
  reminderAfterMs: 8_000, // the demo show starts 1 h and this long after the demo does
  voteEveryMs: 10_000, // the fan votes on the busiest show this often
};

/**
 * What the demo user does, so that each example rule (src/demo/example-rules.ts) notifies
 * them soon after the demo starts: they sign up (`welcome`, at once) and follow Nova Lane,
 * who has a show starting in an hour and 8 s (`show_reminder`, 1 h before: 8 s in); and
 * they keep voting on the busiest show, whose votes cross `hot_show`'s bound about half a
 * minute into each one-minute window. Returns the events due by `now` since the last call.
 *
 * @example
 * const fan = demoFan(Date.now());
 * for (const { type, props, identity } of fan(Date.now())) client.track(type, props, identity);
 */
export function demoFan(start: number, options = defaultDemoFanOptions) {
  const identity = { userId: demoUserId, sessionId: `${demoUserId}-${start}` };
  const artistId = 'nova-lane';
  const startsAt = start + 3600_000 + options.reminderAfterMs;
  // Follow first: a batch's follows land before its firings, and this one fires 8 s later.
  const opening: DemoEvent[] = [
    { type: 'user.signup', props: { name: 'Demo Fan' }, identity },
    { type: 'artist.follow', props: { artistId }, identity },
    {
      type: 'show.scheduled',
      props: showProps(`show-demo-${start}`, artistId, startsAt, 'Columbiahalle, Berlin'),
      identity: {},
    },
  ];
  let nextVoteAt = start;

  return (now: number): DemoEvent[] => {
    const due = opening.splice(0);
    for (; nextVoteAt <= now; nextVoteAt += options.voteEveryMs) {
      const props = { showId: shows[0]!, songId: 'song-1', choice: 'yes' };
      due.push({ type: 'vote.cast', props, identity });
    }
    return due;
  };
}
