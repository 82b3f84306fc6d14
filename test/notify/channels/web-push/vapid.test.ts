import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import webpush from 'web-push';
import { describe, expect, it } from 'vitest';
import { loadVapidKeys } from '../../../../src/notify/channels/web-push/vapid.js';

const dir = () => mkdtempSync(join(tmpdir(), 'backline-vapid-'));

describe('loadVapidKeys', () => {
  it('generates a pair on first start, keeps it (0600) and loads the same one after', () => {
    const dataDir = dir();
    const first = loadVapidKeys(dataDir);
    expect(Buffer.from(first.publicKey, 'base64url')).toHaveLength(65);
    expect(first.subject).toBe('mailto:ops@backline.invalid');
    const file = join(dataDir, 'vapid.json');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({
      publicKey: first.publicKey,
      privateKey: first.privateKey,
    });
    expect(loadVapidKeys(dataDir, { subject: 'https://ops.example' })).toEqual({
      ...first,
      subject: 'https://ops.example',
    });
  });

  it('uses a configured pair and writes nothing', () => {
    const dataDir = dir();
    const pair = webpush.generateVAPIDKeys();
    expect(loadVapidKeys(dataDir, pair)).toEqual({
      ...pair,
      subject: 'mailto:ops@backline.invalid',
    });
    expect(() => statSync(join(dataDir, 'vapid.json'))).toThrow();
  });

  it('refuses halves of different pairs, one half alone, and a subject that is no contact', () => {
    const a = webpush.generateVAPIDKeys();
    const b = webpush.generateVAPIDKeys();
    expect(() =>
      loadVapidKeys(dir(), { publicKey: a.publicKey, privateKey: b.privateKey }),
    ).toThrow(/not the public half/);
    expect(() => loadVapidKeys(dir(), { publicKey: a.publicKey })).toThrow(/both/);
    expect(() => loadVapidKeys(dir(), { subject: 'ops@example.com' })).toThrow(/subject/);
    expect(() => loadVapidKeys(dir(), { ...a, privateKey: `${a.privateKey}AA` })).toThrow(
      /32 bytes/,
    );
  });
});
