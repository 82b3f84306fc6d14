/**
 * Worker-thread entry of recommender-thread.ts: trains on what it was given and posts back
 * what `computeRecommender` made.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { computeRecommender, type RecommenderInput } from './recommendation-job.js';

parentPort?.postMessage(computeRecommender(workerData as RecommenderInput));
