import { describe, expect, it } from 'vitest';
import { demoFan, demoUserId } from '../../src/demo/demo-fan.js';
import { shows } from '../../src/demo/live-music.js';
import { exampleRules } from '../../src/demo/example-rules.js';

const rule = (name: string) => exampleRules.find((r) => r.name === name)!;

describe('demo fan', () => {
  it('does, within its first minute, what each example rule notifies the demo user for', () => {
    const start = 1_800_000_000_000;
    const fan = demoFan(start);
    const first = fan(start);
    const later = [...fan(start + 5000), ...fan(start + 30_000)];

    // welcome: an event of the rule's type by the demo user.
    const welcome = rule('welcome').trigger;
    expect(welcome.kind === 'event' && welcome.types).toContain(first[0]!.type);
    expect(first[0]!.identity.userId).toBe(demoUserId);

    // show_reminder: the user follows the artist before the show is scheduled, and the
    // reminder is due within the minute.
    const { trigger, audience } = rule('show_reminder');
    if (trigger.kind !== 'schedule' || audience.kind !== 'followers')
      throw new Error('show_reminder changed kind');
    const follow = first.find((e) => audience.follow.types.includes(e.type))!;
    const show = first.find((e) => trigger.types.includes(e.type))!;
    expect(first.indexOf(follow)).toBeLessThan(first.indexOf(show));
    expect(follow.props.artistId).toBe(show.props.artistId);
    const dueAt = (show.props.startsAt as number) + trigger.at.offsetMs;
    expect(dueAt - start).toBeGreaterThan(0);
    expect(dueAt - start).toBeLessThanOrEqual(60_000);

    // hot_show: the user keeps voting on the busiest show, so the segment of its voters has them.
    const votes = [...first, ...later].filter((e) => e.type === 'vote.cast');
    expect(votes.length).toBe(4); // at 0, 10, 20 and 30 s
    expect(
      votes.every((v) => v.props.showId === shows[0] && v.identity.userId === demoUserId),
    ).toBe(true);
    expect(fan(start + 30_000)).toEqual([]); // nothing twice
  });
});
