/** One audited request as stored in `audit_log` (ts in epoch ms). */
export interface AuditRow {
  ts: number;
  project: string;
  /** `key:<key id>` or `user:<pseudonym>`: never a key, never a user id. */
  actor: string;
  /** The method and route pattern: `PUT /v1/streams/:name`. */
  action: string;
  /** What was acted on: a stream, rule or template name, a user's pseudonym. */
  target: string;
  /** The HTTP status answered. */
  status: number;
  /** SHA-256 (hex) of the canonical JSON of the definition before; '' when there was none. */
  before_hash: string;
  /** The same after the request; '' when there is none (deleted, or nothing changed). */
  after_hash: string;
  request_id: string;
}
