import { getJson } from './analytics-api.js';
import { utcMinute } from './analytics-format.js';
import { showError, showMessage } from './page-message.js';

interface ModelInfo {
  name: string;
  kind: string;
  version: string | null;
  trainedAt: number | null;
  trainingMs: number | null;
  evaluation: {
    baseline: string;
    heldOut: number;
    metrics: Record<string, { model: number; baseline: number; better: string }>;
  } | null;
}

/**
 * The model page: each model job (`GET /v1/predictions/models`) with its version, when it
 * was trained and how long it took, and its latest evaluation, every figure next to its
 * baseline's, marked when the model does better.
 *
 * @example
 * createModelsView(document.getElementById('models')!).open(key);
 */
export function createModelsView(root: HTMLElement) {
  const message = root.querySelector<HTMLElement>('#mo-message')!;
  const body = root.querySelector<HTMLTableElement>('#mo-table')!.tBodies[0]!;
  const cell = (text: string, className = '') =>
    Object.assign(document.createElement('td'), { textContent: text, className });

  function rows(m: ModelInfo): HTMLTableRowElement[] {
    const figures = Object.entries(m.evaluation?.metrics ?? {});
    const head = [
      cell(m.name),
      cell(m.kind),
      cell(m.version ?? 'not trained yet'),
      cell(m.trainedAt ? `${utcMinute(m.trainedAt)} UTC` : '–'),
      cell(m.trainingMs === null ? '–' : `${(m.trainingMs / 1000).toFixed(1)} s`),
    ];
    if (figures.length === 0) {
      const tr = document.createElement('tr');
      tr.append(...head, cell('–'), cell('–'), cell('–'));
      return [tr];
    }
    return figures.map(([name, f], i) => {
      const tr = document.createElement('tr');
      tr.dataset.model = m.name;
      tr.dataset.metric = name;
      const wins = f.better === 'lower' ? f.model < f.baseline : f.model > f.baseline;
      tr.append(
        ...(i === 0 ? head : head.map(() => cell(''))),
        cell(name),
        cell(String(f.model), wins ? 'better' : ''),
        cell(`${f.baseline} (${m.evaluation!.baseline})`),
      );
      return tr;
    });
  }

  return {
    async open(key: string): Promise<void> {
      try {
        const { models } = await getJson<{ models: ModelInfo[] }>('/v1/predictions/models', key);
        body.replaceChildren(...models.flatMap(rows));
        showMessage(
          message,
          models.length
            ? ''
            : 'No model jobs yet: define one with PUT /v1/jobs/:name (README: Predictions).',
        );
      } catch (err) {
        body.replaceChildren();
        showError(message, err);
      }
    },
  };
}
