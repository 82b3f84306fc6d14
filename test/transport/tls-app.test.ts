import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { StartError } from '../../src/ops/start-error.js';
import { createApp } from '../../src/transport/tls-app.js';
import { loadUws } from '../../src/transport/uws.js';
import { listenOnLoopback } from '../helpers/loopback-app.js';
import { createSelfSignedCert } from '../helpers/self-signed-cert.js';
import { tempDir } from '../helpers/server-process.js';

const cert = createSelfSignedCert();
const keyFile = join(tempDir('backline-tls-app-'), 'key.pem');
writeFileSync(keyFile, cert.key);
const files = { certFile: cert.certFile, keyFile };

describe('createApp', () => {
  it('makes a plain app without TLS files, and an SSLApp with them', async () => {
    const { uws } = loadUws(false);
    const plain = createApp(uws);
    plain.get('/*', (res) => void res.end('plain'));
    const listening = await listenOnLoopback(uws, plain);
    expect(await (await fetch(`${listening.origin}/`)).text()).toBe('plain');
    listening.close();

    const secure = createApp(uws, files);
    secure.get('/*', (res) => void res.end('secure'));
    const tls = await listenOnLoopback(uws, secure);
    // The TLS port does not speak plain HTTP.
    await expect(fetch(`${tls.origin}/`)).rejects.toThrow();
    tls.close();
  });

  it('refuses TLS on the `ws` fallback, which has no SSLApp, with a StartError', () => {
    const { uws, native } = loadUws(true, { env: { UWS_USE_FALLBACK: '1' } });
    expect(native).toBe(false);
    expect(() => createApp(uws, files)).toThrow(StartError);
    expect(() => createApp(uws, files)).toThrow(/TLS needs the native uWebSockets\.js binary/);
  });
});
