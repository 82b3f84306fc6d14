import { expect, it } from 'vitest';
import { eventContext } from '../../src/rules/firing.js';
import { toIntent } from '../../src/rules/intent.js';
import { event, rule } from './rules-fixtures.js';

const spec = (notification: Record<string, unknown>) =>
  rule({
    name: 'r1',
    trigger: { kind: 'event' },
    audience: { kind: 'user' },
    notification: {
      category: 'c',
      title: 'to {{userId}} from {{event.userId}}',
      body: '',
      ...notification,
    },
  });
const vote = event('vote.cast', { id: 'e1', userId: 'actor' }, { showId: 7 });
const firing = (notification: Record<string, unknown> = {}) => ({
  project: 'dev',
  rule: spec(notification),
  id: vote.id,
  userId: vote.userId,
  context: eventContext(vote),
});

it('renders for the recipient, with the actor under event', () => {
  const intent = toIntent(firing(), 'fan');
  expect(intent).toMatchObject({ userId: 'fan', title: 'to fan from actor', template: undefined });
  expect(intent.variables).toMatchObject({
    userId: 'fan',
    props: { showId: 7 },
    type: 'vote.cast',
  });
});

it('takes a rendered dedup key, or one unique to the firing', () => {
  expect(toIntent(firing(), 'fan').dedupKey).toBe('r1/e1');
  expect(toIntent(firing({ dedupKey: 'show-{{props.showId}}' }), 'fan').dedupKey).toBe('show-7');
});
