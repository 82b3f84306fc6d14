/** A window's result as dashboards, storage and history see it. */
export interface WindowResult {
  stream: string;
  start: number;
  end: number;
  key: string;
  values: Record<string, unknown>;
  final: boolean;
  rev: number;
}
