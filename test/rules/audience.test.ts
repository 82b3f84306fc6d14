import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAudience } from '../../src/rules/audience.js';
import { createFollowGraph } from '../../src/rules/follow-graph.js';
import { createMemoryStateStore } from '../../src/state/memory-state-store.js';
import { openChdb } from '../../src/storage/chdb-client.js';
import type { ClickHouse } from '../../src/storage/clickhouse.js';
import { createEventStore } from '../../src/storage/event-store.js';
import type { EventRow } from '../../src/model/event.js';
import { migrate } from '../../src/storage/migrate.js';
import { createSegmentQuery } from '../../src/storage/segment-query.js';
import { event, openRules, rule, stateStores, tempDir } from './rules-fixtures.js';

const artistPost = rule({
  name: 'artist_news',
  trigger: { kind: 'event', types: ['artist.post'] },
  audience: {
    kind: 'followers',
    entity: 'props.artistId',
    follow: { types: ['artist.follow'], entity: 'props.artistId' },
    unfollow: { types: ['artist.unfollow'], entity: 'props.artistId' },
  },
  notification: { category: 'news', title: 'New from artist {{props.artistId}}', body: '' },
});

describe.each(stateStores)('followers audience (%s state)', (_name, open) => {
  it('notifies the entity’s followers as kept from follow and unfollow events', async () => {
    const { service, intents } = openRules(open(), { dev: [artistPost] });
    const follow = (user: string, artistId: number) =>
      event('artist.follow', { userId: user }, { artistId });
    service.onEvents('dev', [follow('u1', 7), follow('u2', 7), follow('u3', 7), follow('u4', 8)]);
    service.onEvents('dev', [
      event('artist.unfollow', { userId: 'u2' }, { artistId: 7 }),
      // Same batch as its firing: the follow is stored first.
      follow('u5', 7),
      event('artist.post', { userId: 'artist-7' }, { artistId: 7 }),
    ]);
    await service.idle();
    expect(intents.map((i) => i.userId).sort()).toEqual(['u1', 'u3', 'u5']);
    expect(intents[0]!.title).toBe('New from artist 7');
  });
});

describe('segment audience (embedded ClickHouse)', () => {
  let ch: ClickHouse;
  const now = Date.now();
  const row = (project: string, user: string, type: string, ago: number, props: object) =>
    ({
      project,
      type,
      ts: now - ago,
      client_ts: now - ago,
      sent_at: null,
      received_at: now - ago,
      id: `${project}-${user}-${type}-${ago}`,
      user_id: user,
      anonymous_id: '',
      session_id: '',
      props: JSON.stringify(props),
    }) satisfies EventRow;

  beforeAll(async () => {
    ch = openChdb(tempDir('rules-chdb'));
    await migrate(ch);
    await createEventStore(ch).insert(
      [
        row('shop', 'u1', 'vote.cast', 1000, { showId: '7' }),
        row('shop', 'u1', 'vote.cast', 2000, { showId: '7' }), // twice: listed once
        row('shop', 'u2', 'vote.cast', 3000, { showId: '7' }),
        row('shop', 'u3', 'vote.cast', 3000, { showId: '8' }), // another show
        row('shop', 'u4', 'page.view', 3000, { showId: '7' }), // another type
        row('shop', 'u5', 'vote.cast', 7_200_000, { showId: '7' }), // too long ago
        row('shop', '', 'vote.cast', 1000, { showId: '7' }), // anonymous
        row('other', 'x1', 'vote.cast', 1000, { showId: '7' }), // another project
      ],
      'rules-segment',
    );
  });
  afterAll(async () => {
    await ch.close();
  });

  const showVoters = rule({
    name: 'show_update',
    trigger: { kind: 'event', types: ['show.update'] },
    audience: {
      kind: 'segment',
      types: ['vote.cast'],
      where: [{ field: 'props.showId', op: 'eq', value: '{{props.showId}}' }],
      sinceMs: 3_600_000,
    },
    notification: { category: 'shows', title: 'Show {{props.showId}} changed', body: '' },
  });

  it('routes to the project’s users with matching events in the span, once each', async () => {
    const { service, intents } = openRules(
      createMemoryStateStore(),
      { shop: [showVoters] },
      { segments: createSegmentQuery(ch) },
    );
    service.onEvents('shop', [event('show.update', {}, { showId: '7' })]);
    await service.idle();
    expect(intents.map((i) => i.userId)).toEqual(['u1', 'u2']);
  });

  it('pages through users and treats condition values as text, never SQL', async () => {
    const audience = createAudience(
      { follows: createFollowGraph(createMemoryStateStore()), segments: createSegmentQuery(ch) },
      { segmentPageSize: 1 },
    );
    const users = async (showId: string) => {
      const out: string[] = [];
      const firing = {
        project: 'shop',
        rule: showVoters,
        id: 'f',
        userId: '',
        context: { props: { showId } },
      };
      for await (const user of audience.users(firing)) out.push(user);
      return out;
    };
    expect(await users('7')).toEqual(['u1', 'u2']);
    expect(await users("7' OR 1=1 OR '")).toEqual([]);
    expect(await users('7\\')).toEqual([]);
  });
});
