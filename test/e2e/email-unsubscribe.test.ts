import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { userPseudonym } from '../../src/privacy/pseudonym.js';
import { eventually } from '../helpers/eventually.js';
import { startSendGridServer, type SendGridServer } from '../helpers/sendgrid-server.js';
import { removeDir, startServer, tempDir, type ServerProcess } from '../helpers/server-process.js';
import { serverApi } from '../helpers/server-api.js';

// The https origin users reach the server at; the test calls the same paths on loopback.
const publicBase = 'https://mail.example.test';
const dataDir = tempDir('backline-unsubscribe-');
let sg: SendGridServer;
let server: ServerProcess;

async function start(secret: string, previousSecrets: string[] = []) {
  return startServer({
    dataDir,
    env: {
      SENDGRID_API_KEY: sg.apiKey,
      SENDGRID_BASE_URL: sg.url,
      UNSUBSCRIBE_BASE_URL: publicBase,
    },
    config: {
      email: { from: { email: 'shows@example.com' }, unsubscribe: { secret, previousSecrets } },
    },
  });
}

const firstSecret = 'first-unsubscribe-secret-0123456789abcdef';
beforeAll(async () => {
  sg = await startSendGridServer();
  server = await start(firstSecret);
});
afterAll(async () => {
  await server?.stop();
  await sg?.close();
  removeDir(dataDir);
});

const api = serverApi(() => server);

/** Signs `user` up (the dev project's `welcome` rule emails them) and returns their email. */
async function welcomeEmailOf(user: string) {
  const email = `${user}@example.com`;
  expect((await api('PUT', `/v1/users/${user}/preferences`, { email })).status).toBe(200);
  const signup = { id: `signup-${user}`, type: 'user.signup', ts: Date.now(), userId: user };
  const posted = await api('POST', '/v1/events', {
    events: [{ ...signup, props: { name: user } }],
  });
  expect(posted.status).toBe(200);
  const sent = () => sg.messages.find((m) => m.to === email);
  await eventually(() => sent() !== undefined, 20_000, `the welcome email to ${email}`);
  return sent()!;
}

/** The path of a `List-Unsubscribe` link on this server. */
function linkPath(headers: Record<string, string>): string {
  const link = /^<(https:\/\/[^>]+)>$/.exec(headers['List-Unsubscribe'] ?? '')?.[1];
  expect(link, 'List-Unsubscribe is one https URL in angle brackets').toBeDefined();
  expect(link!.startsWith(`${publicBase}/v1/unsubscribe/`)).toBe(true);
  return link!.slice(publicBase.length);
}

const emailPreference = async (user: string) =>
  (await api('GET', `/v1/users/${user}/preferences`)).body.categories as Record<
    string,
    { email?: boolean }
  >;

describe('one-click unsubscribe (RFC 8058) over the real server', () => {
  it('puts List-Unsubscribe and List-Unsubscribe-Post on a non-critical email', async () => {
    const message = await welcomeEmailOf('fan1');
    expect(message.headers['List-Unsubscribe-Post']).toBe('List-Unsubscribe=One-Click');
    linkPath(message.headers);
  });

  it('shows a confirmation page on GET and changes nothing', async () => {
    const path = linkPath((await welcomeEmailOf('fan2')).headers);
    const res = await fetch(`${server.url}${path}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    expect(res.headers.get('content-security-policy')).toContain("default-src 'none'");
    const page = await res.text();
    expect(page).toContain('<strong>welcome</strong>');
    expect(page).toMatch(/<form method="post">/);
    expect(await emailPreference('fan2')).toEqual({});
  });

  it("turns the category's email off on a one-click POST, audited, as an event", async () => {
    const path = linkPath((await welcomeEmailOf('fan3')).headers);
    // As Gmail posts it: multipart/form-data with the one field RFC 8058 names.
    const form = new FormData();
    form.set('List-Unsubscribe', 'One-Click');
    const res = await fetch(`${server.url}${path}`, {
      method: 'POST',
      body: form,
      redirect: 'manual',
    });
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('Unsubscribed');
    expect(await emailPreference('fan3')).toEqual({ welcome: { email: false } });

    const pseudonym = userPseudonym('dev', 'fan3');
    const auditEntry = async () => {
      const { entries } = (await api('GET', '/v1/audit')).body as {
        entries: Array<Record<string, unknown>>;
      };
      return entries.find(
        (e) => e.action === 'POST /v1/unsubscribe/:token' && e.target === pseudonym,
      );
    };
    await eventually(async () => (await auditEntry()) !== undefined, 20_000, 'the audit row');
    const entry = (await auditEntry())!;
    expect(entry).toMatchObject({ actor: `user:${pseudonym}`, status: 200 });
    expect(entry.before_hash).not.toBe(entry.after_hash);

    const unsubscribeRows = async () => {
      const res = await fetch(`${server.url}/v1/export/events?format=csv`, {
        headers: { authorization: `Bearer ${server.key}` },
      });
      return (await res.text()).split('\n').filter((l) => l.includes('email.unsubscribe'));
    };
    await eventually(async () => (await unsubscribeRows()).length > 0, 20_000, 'the event');
    const rows = await unsubscribeRows();
    expect(rows).toHaveLength(1);
    expect(rows[0]).toContain('fan3');
    expect(rows[0]).toContain('""scope"":""category""');
  });

  it('turns every category off with scope=all from the page', async () => {
    const path = linkPath((await welcomeEmailOf('fan4')).headers);
    const res = await fetch(`${server.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'List-Unsubscribe=One-Click&scope=all',
    });
    expect(res.status).toBe(200);
    expect(await emailPreference('fan4')).toEqual({ '*': { email: false } });
  });

  it('answers 404 BAD_UNSUBSCRIBE_LINK for a tampered link, counted, changing nothing', async () => {
    const path = linkPath((await welcomeEmailOf('fan5')).headers);
    const [payload, signature] = path.slice('/v1/unsubscribe/'.length).split('.') as [
      string,
      string,
    ];
    const otherUser = Buffer.from(JSON.stringify(['dev', 'fan1', 'welcome'])).toString('base64url');
    const flipped = `${signature[0] === 'A' ? 'B' : 'A'}${signature.slice(1)}`;
    for (const token of [`${payload}.${flipped}`, `${otherUser}.${signature}`, 'nonsense']) {
      const res = await fetch(`${server.url}/v1/unsubscribe/${token}`, { method: 'POST' });
      expect(res.status).toBe(404);
      expect(await res.json()).toMatchObject({ code: 'BAD_UNSUBSCRIBE_LINK' });
    }
    expect(await emailPreference('fan5')).toEqual({});
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    expect(metrics).toMatch(
      /backline_http_requests_total\{route="\/v1\/unsubscribe\/:token",status="404"\} [3-9]/,
    );
  });

  it('keeps links working through a rotation while the old secret is listed, then expires them', async () => {
    const path = linkPath((await welcomeEmailOf('fan6')).headers);
    await server.stop();
    const second = 'second-unsubscribe-secret-0123456789abcdef';
    server = await start(second, [firstSecret]);
    expect((await fetch(`${server.url}${path}`)).status).toBe(200);
    await server.stop();
    server = await start(second);
    expect((await fetch(`${server.url}${path}`)).status).toBe(404);
  });
});
