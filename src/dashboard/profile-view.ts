import {
  getJson,
  type EngagementUsers,
  type PersonProfile,
  type TimelineEvent,
} from './analytics-api.js';
import { duration, utcMinute } from './analytics-format.js';
import { showError, showMessage } from './page-message.js';
import { createPredictionsPanel } from './predictions-panel.js';

const pageSize = 50;
const suggested = 20; // the most engaged persons offered in the search field

/**
 * A person's profile: search a user (or anonymous) id; `GET /v1/analytics/persons/:id` gives
 * who it stands for, the anonymous ids merged into them, their events per type and their
 * timeline newest first (older pages on request), and `GET /v1/analytics/engagement/users
 * ?person=` their engagement score with its parts, and their recommendations and churn risk
 * (predictions-panel.ts). All need `users:read`; a key without it is told so in the page.
 * `changed` hears the person opened, for the page's URL.
 *
 * @example
 * const profile = createProfileView(document.getElementById('profile')!, () => remember());
 * profile.open(key, 'user-3');
 */
export function createProfileView(root: HTMLElement, changed: () => void) {
  const $ = <T extends HTMLElement>(id: string) => root.querySelector<T>(`#${id}`)!;
  const form = $<HTMLFormElement>('pr-form');
  const input = $<HTMLInputElement>('pr-id');
  const message = $('pr-message');
  const body = $('pr-body');
  const timeline = $<HTMLOListElement>('pr-timeline');
  const more = $<HTMLButtonElement>('pr-more');
  const text = (id: string, value: string) => ($(id).textContent = value);
  let key = '';
  let next: string | null = null;
  let opened = '';
  let asked = 0;
  const predictions = createPredictionsPanel(root);

  async function load(id: string): Promise<void> {
    const ask = ++asked;
    opened = id;
    changed();
    if (!id) {
      body.hidden = true;
      return showMessage(message, 'Enter a user id, or an anonymous id, to see their profile.');
    }
    try {
      const path = `/v1/analytics/persons/${encodeURIComponent(id)}`;
      const profile = await getJson<PersonProfile>(path, key, { limit: pageSize });
      const score = await getJson<EngagementUsers>('/v1/analytics/engagement/users', key, {
        person: profile.person,
        limit: 1,
      });
      if (ask === asked) render(profile, score);
    } catch (err) {
      if (ask !== asked) return;
      body.hidden = true;
      showError(message, err, 'users:read');
    }
  }

  function render(profile: PersonProfile, score: EngagementUsers): void {
    body.hidden = profile.events === 0;
    showMessage(message, profile.events === 0 ? `No events of ${profile.id}.` : '');
    if (profile.events === 0) return;
    root.dataset.person = profile.person;
    text('pr-person', profile.person);
    text('pr-kind', profile.identified ? 'known user' : 'anonymous visitor, never logged in');
    text('pr-asked', profile.id === profile.person ? '' : `${profile.id} merged into this user`);
    text('pr-events', String(profile.events));
    text('pr-span', `${utcMinute(profile.firstMs!)} – ${utcMinute(profile.lastMs!)} UTC`);
    list(
      $('pr-types'),
      profile.types.map((t) => `${t.type} ${t.events}`),
    );
    list(
      $('pr-identities'),
      profile.identities.map((i) => `${i.anonymousId} since ${utcMinute(i.mergedAt)} UTC`),
    );
    if (profile.identities.length === 0) list($('pr-identities'), ['none']);
    renderScore(score);
    void predictions.load(key, profile.person);
    timeline.replaceChildren(...profile.timeline.map(eventItem));
    next = profile.next;
    more.hidden = next === null;
  }

  function renderScore(answer: EngagementUsers): void {
    const person = answer.users[0];
    const { formula } = answer;
    const span = duration(formula.windowMs);
    text('pr-score', person ? person.score.toFixed(1) : '–');
    $('pr-score').dataset.score = person ? String(person.score) : '';
    text(
      'pr-score-note',
      person ? `of 100, over the last ${span}` : `no event in the last ${span}`,
    );
    list(
      $('pr-parts'),
      person
        ? [
            `recency ${person.recency.toFixed(2)} (last event ${utcMinute(person.lastMs)} UTC, half-life ${duration(formula.halfLifeMs)})`,
            `frequency ${person.frequency.toFixed(2)} (${person.activeDays} active days of ${formula.frequencyTarget})`,
            `breadth ${person.breadth.toFixed(2)} (${person.eventTypes} event types of ${formula.breadthTarget})`,
            `${person.events} events in the window`,
          ]
        : [],
    );
  }

  async function older(): Promise<void> {
    if (!next) return;
    const path = `/v1/analytics/persons/${encodeURIComponent(opened)}`;
    try {
      const page = await getJson<PersonProfile>(path, key, { limit: pageSize, before: next });
      timeline.append(...page.timeline.map(eventItem));
      next = page.next;
      more.hidden = next === null;
    } catch (err) {
      showError(message, err, 'users:read');
    }
  }

  async function suggest(): Promise<void> {
    try {
      const top = await getJson<EngagementUsers>('/v1/analytics/engagement/users', key, {
        limit: suggested,
      });
      $('pr-suggestions').replaceChildren(...top.users.map((u) => new Option(u.person)));
    } catch {
      // Suggestions only: the profile itself tells a refused key.
    }
  }

  form.addEventListener('submit', (e) => {
    e.preventDefault();
    void load(input.value.trim());
  });
  more.addEventListener('click', () => void older());

  return {
    open(withKey: string, id = input.value.trim()): void {
      key = withKey;
      input.value = id;
      void suggest();
      void load(id);
    },
    get person(): string {
      return opened;
    },
  };
}

function list(element: HTMLElement, items: readonly string[]): void {
  element.replaceChildren(
    ...items.map((item) => Object.assign(document.createElement('li'), { textContent: item })),
  );
}

/** `14:03:12 song.play {"artist":"ar2"} · user-3`: time (UTC), type, props, who sent it. */
function eventItem(event: TimelineEvent): HTMLLIElement {
  const item = document.createElement('li');
  item.dataset.id = event.id;
  item.dataset.ts = String(event.ts);
  const part = (className: string, value: string) =>
    item.appendChild(
      Object.assign(document.createElement('span'), { className, textContent: value }),
    );
  const time = item.appendChild(document.createElement('time'));
  time.dateTime = new Date(event.ts).toISOString();
  time.textContent = `${utcMinute(event.ts)}:${String(new Date(event.ts).getUTCSeconds()).padStart(2, '0')}`;
  part('type', event.type);
  const props = JSON.stringify(event.props ?? {});
  part('props', props.length > 160 ? `${props.slice(0, 159)}…` : props);
  part('who', event.userId ? `as ${event.userId}` : `anonymous ${event.anonymousId}`);
  return item;
}
