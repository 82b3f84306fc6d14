import { describe, expect, it } from 'vitest';
import { event, openRules, rule, stateStores } from '../rules-fixtures.js';

const welcome = (audience: Record<string, unknown>) =>
  rule({
    name: 'vote_thanks',
    trigger: {
      kind: 'event',
      types: ['vote.cast'],
      where: [{ field: 'props.choice', op: 'eq', value: 'yes' }],
    },
    audience,
    notification: {
      category: 'votes',
      template: 'vote-thanks',
      title: 'Hi {{userId}}, {{event.userId}} voted on {{props.song}}',
      body: 'show {{props.showId}}',
      data: { showId: '{{props.showId}}' },
      priority: 'high',
      channels: ['in_app'],
    },
  });

describe.each(stateStores)('event trigger (%s state)', (_name, open) => {
  it('routes one intent per audience user, rendered for that user', async () => {
    const { service, intents } = openRules(open(), {
      dev: [welcome({ kind: 'list', users: ['ann', 'bob', 'ann'] })],
    });
    const vote = event(
      'vote.cast',
      { userId: 'u9' },
      { choice: 'yes', song: 'Lullaby', showId: 7 },
    );
    service.onEvents('dev', [vote]);
    await service.idle();
    expect(intents.map((i) => [i.userId, i.title])).toEqual([
      ['ann', 'Hi ann, u9 voted on Lullaby'],
      ['bob', 'Hi bob, u9 voted on Lullaby'],
    ]);
    expect(intents[0]).toMatchObject({
      project: 'dev',
      rule: 'vote_thanks',
      category: 'votes',
      body: 'show 7',
      data: { showId: 7 },
      priority: 'high',
      channels: ['in_app'],
      template: 'vote-thanks',
      dedupKey: `vote_thanks/${vote.id}`,
    });
    expect(intents[0]!.variables).toMatchObject({ showId: 7, props: { song: 'Lullaby' } });
  });

  it('fires only for matching events of the rule’s project, to the event’s user', async () => {
    const { service, intents } = openRules(open(), { dev: [welcome({ kind: 'user' })] });
    service.onEvents('dev', [
      event('vote.cast', { userId: 'u1' }, { choice: 'yes' }),
      event('vote.cast', { userId: 'u2' }, { choice: 'no' }),
      event('page.view', { userId: 'u3' }, { choice: 'yes' }),
      event('vote.cast', {}, { choice: 'yes' }), // no user: nobody to tell
    ]);
    service.onEvents('other', [event('vote.cast', { userId: 'u4' }, { choice: 'yes' })]);
    await service.idle();
    expect(intents.map((i) => i.userId)).toEqual(['u1']);
  });

  it('stops firing once the rule is removed', async () => {
    const { service, intents } = openRules(open(), { dev: [welcome({ kind: 'user' })] });
    expect(await service.remove('dev', 'vote_thanks')).toBe(true);
    expect(await service.remove('dev', 'vote_thanks')).toBe(false);
    service.onEvents('dev', [event('vote.cast', { userId: 'u1' }, { choice: 'yes' })]);
    await service.idle();
    expect(intents).toEqual([]);
    expect(service.list('dev')).toEqual([]);
  });
});
