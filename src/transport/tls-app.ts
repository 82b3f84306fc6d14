import { readFileSync } from 'node:fs';
import { createSecureContext } from 'node:tls';
import type { TemplatedApp } from 'uWebSockets.js';
import { StartError } from '../ops/start-error.js';
import type { Uws } from './uws.js';

/** The TLS settings (`TLS_CERT_FILE`, `TLS_KEY_FILE`, `TLS_KEY_PASSPHRASE`). */
export interface TlsFiles {
  certFile?: string | undefined;
  keyFile?: string | undefined;
  keyPassphrase?: string | undefined;
}

/**
 * The server's one uWS app: `SSLApp` (https and wss on the one port, plain http refused)
 * when a certificate and its key are set, `App` otherwise. The files are checked with Node's
 * TLS first, since uWS says no more than "App construction failed": a file that cannot be
 * read, a key that the passphrase does not decrypt or that is not the certificate's stops
 * the start with a StartError naming the setting.
 *
 * @example
 * const app = createApp(uws, { certFile: '/etc/backline/cert.pem', keyFile: '/etc/backline/key.pem' });
 */
export function createApp(uws: Uws, tls: TlsFiles = {}): TemplatedApp {
  const { certFile, keyFile, keyPassphrase } = tls;
  if (!certFile || !keyFile) return uws.App();
  if (typeof uws.SSLApp !== 'function')
    throw new StartError('TLS needs the native uWebSockets.js binary; its `ws` fallback has none');
  const cert = readPem(certFile, 'TLS_CERT_FILE');
  const key = readPem(keyFile, 'TLS_KEY_FILE');
  try {
    createSecureContext({ cert, key, ...(keyPassphrase ? { passphrase: keyPassphrase } : {}) });
  } catch (err) {
    throw new StartError(
      `TLS_KEY_FILE ${keyFile} does not go with TLS_CERT_FILE ${certFile} ` +
        `(${(err as Error).message}): a wrong or missing TLS_KEY_PASSPHRASE, or another certificate's key`,
      { cause: err },
    );
  }
  return uws.SSLApp({
    cert_file_name: certFile,
    key_file_name: keyFile,
    ...(keyPassphrase ? { passphrase: keyPassphrase } : {}),
  });
}

function readPem(file: string, setting: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new StartError(`${setting} ${file} cannot be read (${code})`, { cause: err });
  }
}
