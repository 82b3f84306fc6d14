import { part, sortableTime } from '../state/state-store.js';
import type { CampaignSpec } from './campaign-spec.js';

/**
 * `scheduled` until its audience is read, `planning` while each recipient's send time is
 * planned, `sending` until the last planned recipient was routed, then `done`; `cancelled`
 * at any time before `done`; `failed` when its audience could not be read (`error` says why).
 */
export type CampaignStatus = 'scheduled' | 'planning' | 'sending' | 'done' | 'cancelled' | 'failed';

/** A campaign as the state store keeps it: its spec, where it stands, and its tallies. */
export interface CampaignRecord {
  id: string;
  project: string;
  spec: CampaignSpec;
  status: CampaignStatus;
  createdAt: number;
  /** When the audience is read and the send times planned (epoch ms). */
  startAt: number;
  /** Recipients planned, and of those handed to the router or given up on. */
  targeted: number;
  routed: number;
  failed: number;
  /** The last send step whose tally (`tallyKey`) is in `routed` and `failed`. */
  tallied?: string;
  /** Pages of the audience planned so far: a page planned twice counts once. */
  plannedPages: number;
  /**
   * When the campaign's one send step is due (epoch ms), null while none is: each plan step
   * moves it earlier when its recipients are due sooner; a send timer due at another time is
   * stale and does nothing, so there is never more than one chain of send steps.
   */
  nextSendAt?: number | null;
  /** The pace's bound: no send step before this (epoch ms), after one that routed a chunk. */
  pacedUntil?: number;
  /** Earliest and latest planned send (epoch ms), null before planning. */
  firstSendAt: number | null;
  lastSendAt: number | null;
  finishedAt: number | null;
  /** Why a `failed` campaign stopped. */
  error?: string;
}

/**
 * What one send step routed and gave up on so far, written in the same atomic batch as its
 * removals from the queue, so a step cut short after that batch (a kill -9) is still counted:
 * the next step adds it to the record first (`CampaignRecord.tallied` names the last added).
 */
export interface StepTally {
  step: string;
  routed: number;
  failed: number;
}

export const tallyKey = (project: string, id: string): string =>
  `campaign-tally/${encodeURIComponent(project)}/${id}`;

/** A recipient waiting in the campaign's queue, and the routes of them that failed so far. */
export interface QueuedRecipient {
  userId: string;
  attempts: number;
}

/** The name a campaign's notifications carry as their `rule` (decision log, variants). */
export const campaignScope = (id: string): string => `campaign:${id}`;

export const campaignKey = (project: string, id: string): string =>
  `campaign/${encodeURIComponent(project)}/${id}`;

export const campaignsPrefix = (project: string): string =>
  `campaign/${encodeURIComponent(project)}/`;

/** What templates and audiences see of the campaign: `{{campaign.id}}`, `{{campaign.name}}`. */
export const campaignContext = (record: CampaignRecord) => ({
  campaign: { id: record.id, name: record.spec.name },
});

/** Every queue of a project's campaigns. */
export const queuesPrefix = (project: string): string =>
  `campaign-queue/${encodeURIComponent(project)}/`;

/** The queue sorts by planned send time, so a send step reads the due ones first. */
export const queuePrefix = (project: string, id: string): string =>
  `${queuesPrefix(project)}${id}/`;

export const queueKey = (project: string, id: string, dueAt: number, userId: string): string =>
  `${queuePrefix(project, id)}${sortableTime(dueAt)}/${part(userId)}`;

/** The planned send time of a queue key (its first part after the prefix). */
export const dueOfQueueKey = (key: string, prefix: string): number =>
  Number(key.slice(prefix.length, prefix.length + sortableTime(0).length));
