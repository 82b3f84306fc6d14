import type { DevProject } from '../demo/dev-project.js';

/** The server's own origin, for a browser or a client on this machine. */
export function localOrigin(host: string, port: number): string {
  return `http://${host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host}:${port}`;
}

/** The start-up lines: where to send events and open the dashboard, and the dev key. */
export function announce(port: number, host: string, dev: DevProject | undefined): void {
  const origin = localOrigin(host, port);
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
