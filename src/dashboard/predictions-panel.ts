import { getJson } from './analytics-api.js';
import { showError, showMessage } from './page-message.js';

interface Recommendations {
  model: string;
  source: string;
  items: Array<{ item: string; score: number; because: string }>;
}

interface ChurnAnswer {
  model: string;
  scored: boolean;
  risk?: number;
  features?: Record<string, number>;
  contributions?: Record<string, number>;
}

const recommended = 10;

/**
 * A person's predictions on their profile: `GET /v1/users/:id/recommendations` (their top
 * items, each with the item of theirs it came from) and `GET /v1/predictions/churn/:id` (their
 * risk, with the features ordered by how much each pushed the risk up or down). Each names the
 * model version that made it; NO_MODEL says no model job has run yet.
 *
 * @example
 * const predictions = createPredictionsPanel(profileSection);
 * void predictions.load(key, 'user-3');
 */
export function createPredictionsPanel(root: HTMLElement) {
  const $ = <T extends HTMLElement>(id: string) => root.querySelector<T>(`#${id}`)!;
  const item = (text: string) => Object.assign(document.createElement('li'), { textContent: text });

  async function loadRecommendations(key: string, person: string) {
    const path = `/v1/users/${encodeURIComponent(person)}/recommendations`;
    try {
      const answer = await getJson<Recommendations>(path, key, { limit: recommended });
      $('pr-recs').replaceChildren(
        ...answer.items.map((r) => {
          const li = item(r.because ? `${r.item} (like ${r.because})` : `${r.item} (trending)`);
          li.dataset.item = r.item;
          return li;
        }),
      );
      showMessage($('pr-recs-note'), `${answer.source}, model ${answer.model}`);
    } catch (err) {
      $('pr-recs').replaceChildren();
      showError($('pr-recs-note'), err, 'users:read');
    }
  }

  async function loadChurn(key: string, person: string) {
    const path = `/v1/predictions/churn/${encodeURIComponent(person)}`;
    try {
      const answer = await getJson<ChurnAnswer>(path, key);
      const risk = answer.risk;
      $('pr-churn').textContent = risk === undefined ? '–' : `${Math.round(risk * 100)}%`;
      $('pr-churn').dataset.risk = risk === undefined ? '' : String(risk);
      const note = answer.scored ? `model ${answer.model}` : `not active in the model's window`;
      showMessage($('pr-churn-note'), note);
      const parts = Object.entries(answer.contributions ?? {}).sort(
        (a, b) => Math.abs(b[1]) - Math.abs(a[1]),
      );
      $('pr-drivers').replaceChildren(
        ...parts.map(([name, part]) => {
          const value = answer.features?.[name];
          const shown = value === undefined ? '' : ` = ${value}`;
          const li = item(
            `${name}${shown}: ${part >= 0 ? 'raises' : 'lowers'} risk (${part.toFixed(2)})`,
          );
          li.dataset.feature = name;
          return li;
        }),
      );
    } catch (err) {
      $('pr-churn').textContent = '–';
      $('pr-drivers').replaceChildren();
      showError($('pr-churn-note'), err, 'users:read');
    }
  }

  return {
    load(key: string, person: string): Promise<void> {
      return Promise.all([loadRecommendations(key, person), loadChurn(key, person)]).then(() => {});
    },
  };
}
