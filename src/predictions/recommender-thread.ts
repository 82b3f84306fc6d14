import { Worker } from 'node:worker_threads';
import type { RecommenderInput, RecommenderOutput } from './recommendation-job.js';

/**
 * Runs `computeRecommender` on a worker thread of its own, one per training run: over months
 * of events its co-occurrence counts take minutes of CPU, which on the main thread would hold
 * every ack, live update and request until done. The worker loads its TypeScript entry
 * through tsx, as the server does.
 *
 * @example
 * const trainer = createModelTrainer({ store, computeRecommender: computeInThread });
 */
export function computeInThread(input: RecommenderInput): Promise<RecommenderOutput> {
  return new Promise((resolve, reject) => {
    const entry = new URL('./recommender-worker.ts', import.meta.url).href;
    // Loader hooks are per thread and Node 20 does not run `--import` in workers: the thread
    // registers tsx itself, then loads its entry.
    const tsx = JSON.stringify(import.meta.resolve('tsx/esm/api'));
    const boot = `import(${tsx}).then(({ register }) => { register(); return import(${JSON.stringify(entry)}); })`;
    const worker = new Worker(boot, { eval: true, workerData: input });
    let answered = false;
    worker.once('message', (out: RecommenderOutput) => {
      answered = true;
      resolve(out);
      void worker.terminate();
    });
    worker.once('error', reject);
    worker.once('exit', (code) => {
      if (!answered) reject(new Error(`the recommender's thread ended (code ${code}) unanswered`));
    });
  });
}
