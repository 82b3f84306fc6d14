import type { DevProject } from '../demo/dev-project.js';

/** The server's own origin, for a browser or a client on this machine (https with TLS). */
export function localOrigin(host: string, port: number, secure = false): string {
  const name = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  return `${secure ? 'https' : 'http'}://${name}:${port}`;
}

/** The start-up lines: where to send events and open the dashboard, and the dev key. */
export function announce(
  port: number,
  host: string,
  dev: DevProject | undefined,
  secure = false,
): void {
  const origin = localOrigin(host, port, secure);
  const key = dev?.project.keys[0]!.key;
  const lines = [
    `backline listening on ${origin} (ingest socket ${origin.replace('http', 'ws')}/v1/ingest)`,
    `dashboard: ${origin}/${key ? `?key=${key}` : ''}`,
  ];
  if (dev && key) {
    lines.push(`dev project key (${dev.source}): ${key}`);
    lines.push(
      `try: curl -s -X POST '${origin}/v1/events?key=${key}' -H 'content-type: application/json' ` +
        `-d "{\\"events\\":[{\\"id\\":\\"$(date +%s%N)\\",\\"type\\":\\"page.view\\",\\"ts\\":$(date +%s%3N)}]}"`,
    );
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}
