import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../../../helpers/eventually.js';
import { startSendGridServer, type SendGridServer } from '../../../helpers/sendgrid-server.js';

const script = fileURLToPath(
  new URL('../../../helpers/email-delivery-process.ts', import.meta.url),
);
const count = 20;

interface Line {
  id?: string;
  outcome?: string;
  reason?: string;
  ready?: string;
}

/** The delivery process on `stateDir`; every JSON line it prints lands in `lines`. */
function startDelivery(sg: SendGridServer, stateDir: string, env: Record<string, string>) {
  const lines: Line[] = [];
  const child = spawn(process.execPath, ['--import', 'tsx', script], {
    env: {
      ...(process.env as Record<string, string>),
      STATE_DIR: stateDir,
      SENDGRID_URL: sg.url,
      SENDGRID_KEY: sg.apiKey,
      CONFIRM_WINDOW_MS: '2000',
      ...env,
    },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  let rest = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    const text = rest + chunk.toString();
    const parts = text.split('\n');
    rest = parts.pop()!;
    for (const part of parts) lines.push(JSON.parse(part) as Line);
  });
  const ready = (what: string) =>
    eventually(() => lines.some((l) => l.ready === what), 20_000, `the process: ${what}`);
  return { child, lines, ready };
}

const exited = (child: ChildProcess) =>
  new Promise<void>((resolve) =>
    child.exitCode !== null || child.signalCode !== null
      ? resolve()
      : child.once('exit', () => resolve()),
  );

let sg: SendGridServer;
beforeAll(async () => {
  sg = await startSendGridServer();
});
afterAll(() => sg.close());

describe('email delivery through kill -9', () => {
  it('sends no notification twice when killed in the middle of a retry batch and restarted', async () => {
    const stateDir = mkdtempSync(join(tmpdir(), 'backline-email-crash-'));
    // First attempts meet an outage, so every notification goes to a persistent retry timer.
    sg.always({ status: 500 });
    const first = startDelivery(sg, stateDir, { COUNT: String(count) });
    await first.ready('sent');
    expect(first.lines.filter((l) => l.outcome === 'retrying')).toHaveLength(count);
    expect(sg.messages).toHaveLength(0);

    // The retries: three go through; SendGrid accepts the fourth but the process dies before
    // the answer arrives.
    sg.always({ status: 202 });
    sg.script({ status: 202 }, { status: 202 }, { status: 202 }, { status: 202, hang: true });
    first.child.stdin!.write('go\n');
    await eventually(() => sg.messages.length === 4, 20_000, 'four accepted retries');
    first.child.kill('SIGKILL');
    await exited(first.child);
    const answered = new Set(sg.notificationIds().slice(0, 3));
    const interrupted = sg.messages[3]!.customArgs.notification_id!;

    // After the restart every retry not answered before the kill runs to a final outcome.
    const second = startDelivery(sg, stateDir, {});
    const final = new Set(['delivered', 'failed', 'dead_letter']);
    const pending = () => {
      const done = new Set(second.lines.filter((l) => final.has(l.outcome!)).map((l) => l.id));
      return Array.from({ length: count }, (_, i) => `n-${i}`).filter(
        (id) => !answered.has(id) && !done.has(id),
      );
    };
    try {
      await eventually(() => pending().length === 0, 30_000, 'every retry to settle');
    } finally {
      second.child.kill('SIGKILL');
      await exited(second.child);
    }

    const ids = sg.notificationIds();
    expect(ids).toHaveLength(count);
    expect(new Set(ids).size).toBe(count);
    // Its retry waits for SendGrid's events (none come here), then gives up rather than
    // send again; under load the window may already be over at the first retry.
    const outcomes = second.lines.filter((l) => l.id === interrupted);
    expect(outcomes.map((l) => l.outcome)).not.toContain('delivered');
    expect(outcomes.at(-1)).toMatchObject({ outcome: 'failed', reason: /^unconfirmed/ });
  });
});
