import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface SelfSignedCert {
  /** PEM private key and certificate, for a TLS server. */
  key: string;
  cert: string;
  /** The certificate as a file, for a client told to trust it (`email.smtp.caFile`). */
  certFile: string;
}

/**
 * A fresh self-signed certificate for 127.0.0.1 and localhost, made with the `openssl` CLI
 * into a temporary folder (Node's crypto makes keys but not X.509 certificates). ECDSA P-256,
 * valid for one day, with the subjectAltName clients check the host against.
 *
 * @example
 * const { key, cert, certFile } = createSelfSignedCert();
 */
export function createSelfSignedCert(): SelfSignedCert {
  const dir = mkdtempSync(join(tmpdir(), 'backline-cert-'));
  const keyFile = join(dir, 'key.pem');
  const certFile = join(dir, 'cert.pem');
  execFileSync(
    'openssl',
    [
      ...['req', '-x509', '-nodes', '-days', '1'],
      ...['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1'],
      ...['-keyout', keyFile, '-out', certFile, '-subj', '/CN=127.0.0.1'],
      ...['-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost'],
    ],
    { stdio: 'pipe' },
  );
  return { key: readFileSync(keyFile, 'utf8'), cert: readFileSync(certFile, 'utf8'), certFile };
}
