import { describe, expect, it } from 'vitest';
import { createFollowGraph } from '../../src/rules/follow-graph.js';
import { sharedRedisState } from '../helpers/shared-redis-state.js';
import { runKeyed } from '../../src/rules/keyed-tasks.js';
import type { AudienceOf } from '../../src/rules/rule-spec.js';
import { event, rule, stateStores } from './rules-fixtures.js';

const followersOf = (thing: string) =>
  rule({
    name: 'r',
    trigger: { kind: 'event' },
    audience: {
      kind: 'followers',
      entity: `props.${thing}Id`,
      follow: { types: [`${thing}.follow`], entity: `props.${thing}Id` },
      unfollow: { types: [`${thing}.unfollow`], entity: `props.${thing}Id` },
    },
    notification: { category: 'c', title: 't', body: '' },
  }).audience as AudienceOf<'followers'>;

const artists = followersOf('artist');
const shows = followersOf('show');
const follow = (user: string, ts: number, id: unknown = 7) =>
  event('artist.follow', { userId: user, ts }, { artistId: id });
const unfollow = (user: string, ts: number, id: unknown = 7) =>
  event('artist.unfollow', { userId: user, ts }, { artistId: id });

describe.each(stateStores)('follow graph (%s state)', (_name, open) => {
  const setup = (pageSize = 1000) => {
    const graph = createFollowGraph(open(), { pageSize });
    const apply = (...events: ReturnType<typeof follow>[]) =>
      runKeyed(graph.tasks('dev', [artists, shows], events), (err) => {
        throw err;
      });
    const followers = async (audience = artists, entity = '7', project = 'dev') => {
      const users: string[] = [];
      for await (const user of graph.followers(project, audience, entity)) users.push(user);
      return users.sort();
    };
    return { apply, followers };
  };

  it('keeps followers per entity from follow and unfollow events', async () => {
    const { apply, followers } = setup();
    await apply(follow('a', 1), follow('b', 2), follow('c', 3), follow('d', 4, 8));
    await apply(unfollow('b', 5));
    expect(await followers()).toEqual(['a', 'c']);
    expect(await followers(artists, '8')).toEqual(['d']);
    expect(await followers(shows, '7')).toEqual([]); // show 7 is not artist 7
    expect(await followers(artists, '7', 'elsewhere')).toEqual([]);
  });

  it('orders edges by event time, so a late older follow does not undo an unfollow', async () => {
    const { apply, followers } = setup();
    await apply(unfollow('a', 10));
    await apply(follow('a', 5));
    expect(await followers()).toEqual([]);
    await apply(follow('a', 20));
    expect(await followers()).toEqual(['a']);
  });

  it('pages through a large following and handles entity text with slashes', async () => {
    const { apply, followers } = setup(2);
    const users = ['u1', 'u2', 'u3', 'u4', 'u5'];
    await apply(...users.map((u, i) => follow(u, i, 'a/b')));
    expect(await followers(artists, 'a/b')).toEqual(users);
    expect(await followers(artists, 'a')).toEqual([]);
  });
});

it('keeps the later edge when two nodes handle a follow and an older unfollow at once', async () => {
  const shared = await sharedRedisState();
  const [a, b] = shared.nodes.map((state) => createFollowGraph(state));
  const users = Array.from({ length: 30 }, (_, i) => `u${i}`);
  const run = (graph: typeof a, event: ReturnType<typeof follow>) =>
    Promise.all(graph!.tasks('dev', [artists], [event]).map((task) => task.run()));
  // Each node takes either side for half the users, whichever connection Redis serves first.
  await Promise.all(
    users.flatMap((user, i) => {
      const [followNode, unfollowNode] = i % 2 ? [a, b] : [b, a];
      return [run(followNode, follow(user, 20)), run(unfollowNode, unfollow(user, 10))];
    }),
  );
  const following: string[] = [];
  for await (const user of a!.followers('dev', artists, '7')) following.push(user);
  expect(following.sort()).toEqual([...users].sort());
  await shared.stop();
});
