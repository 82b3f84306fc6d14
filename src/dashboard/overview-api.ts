/** Whose numbers a figure is: the key's project, or the whole server process. */
export type Scope = 'project' | 'server';

/** `GET /v1/overview`: totals since the server's start, rates over `rateWindowMs`. */
export interface Overview {
  project: string;
  /** Epoch ms of these numbers. */
  at: number;
  /** Epoch ms the totals count from (the server's start). */
  since: number;
  /** The span rates and latencies cover; null on the first request. */
  rateWindowMs: number | null;
  events: { scope: Scope; accepted: number; perSecond: number | null };
  ack: { scope: Scope; frames: number | null; p50Ms: number | null; p99Ms: number | null };
  rejected: { scope: Scope; total: number; byCode: Record<string, number> };
  frameErrors: { scope: Scope; total: number; byCode: Record<string, number> };
  late: { scope: Scope; byStream: Record<string, { within: number; tooLate: number }> };
  /** Decisions per channel and outcome (`sent`, `delivered`, `failed`, …). */
  notifications: { scope: Scope; byChannel: Record<string, Record<string, number>> };
}

/** The key's overview; throws with the server's error code when refused. */
export async function fetchOverview(key: string): Promise<Overview> {
  const res = await fetch('/v1/overview', { headers: { authorization: `Bearer ${key}` } });
  const body = (await res.json()) as Overview & { code?: string; msg?: string };
  if (!res.ok) throw new Error(`${body.code ?? res.status}: ${body.msg ?? 'request failed'}`);
  return body;
}
