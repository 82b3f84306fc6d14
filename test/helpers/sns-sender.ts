import { execFileSync } from 'node:child_process';
import { generateKeyPairSync, randomUUID, sign } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSelfSignedCert } from './self-signed-cert.js';

/**
 * An SNS sender for `POST /v1/webhooks/ses`: it signs messages as Amazon SNS does (the
 * fields of each type as `name\nvalue\n`, SHA1withRSA for SignatureVersion 1, SHA256withRSA
 * for 2) with its own RSA key, and serves its signing certificates and SubscribeURL over https
 * on 127.0.0.1, with a self-signed TLS certificate the server is told to trust
 * (`NODE_EXTRA_CA_CERTS=tlsCertFile`). It holds two signing certificates for the same key:
 * `valid.pem` (valid now) and `expired.pem` (valid in 2020 only), made with the `openssl`
 * CLI. Confirmations record the Token they were visited with.
 *
 * @example
 * const sns = await startSnsSender();
 * const res = await sns.post(`${server.url}/v1/webhooks/ses`, sns.notification(topic, JSON.stringify(sesEvent)));
 */
export async function startSnsSender() {
  const dir = mkdtempSync(join(tmpdir(), 'backline-sns-'));
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const keyFile = join(dir, 'signing-key.pem');
  writeFileSync(keyFile, privateKey.export({ type: 'pkcs8', format: 'pem' }));
  const certs = {
    'valid.pem': validCert(dir, keyFile),
    'expired.pem': expiredCert(dir, keyFile),
  };
  const tls = createSelfSignedCert();
  const confirmations: string[] = [];
  const server = createServer({ key: tls.key, cert: tls.cert }, (req, res) => {
    const url = new URL(req.url ?? '/', 'https://127.0.0.1');
    const cert = certs[url.pathname.slice('/certs/'.length) as keyof typeof certs];
    if (req.method === 'GET' && url.pathname.startsWith('/certs/') && cert) {
      res.writeHead(200, { 'content-type': 'application/x-pem-file' }).end(cert);
    } else if (req.method === 'GET' && url.pathname === '/confirm') {
      confirmations.push(url.searchParams.get('Token') ?? '');
      res.writeHead(200, { 'content-type': 'text/xml' }).end('<ConfirmSubscriptionResponse/>');
    } else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;

  type Fields = Record<string, string>;
  const keys: Record<string, string[]> = {
    Notification: ['Message', 'MessageId', 'Subject', 'Timestamp', 'TopicArn', 'Type'],
    SubscriptionConfirmation: [
      ...['Message', 'MessageId', 'SubscribeURL', 'Timestamp', 'Token', 'TopicArn', 'Type'],
    ],
  };
  /** The message signed as SNS signs it; `cert` names the certificate it points to. */
  function signed(fields: Fields, version: '1' | '2', cert: string, certBase = base): Fields {
    const text = keys[fields.Type!]!.filter((k) => fields[k] !== undefined)
      .map((k) => `${k}\n${fields[k]}\n`)
      .join('');
    const signature = sign(version === '1' ? 'sha1' : 'sha256', Buffer.from(text), privateKey);
    return {
      ...fields,
      SignatureVersion: version,
      Signature: signature.toString('base64'),
      SigningCertURL: `${certBase}/certs/${cert}`,
    };
  }

  return {
    tlsCertFile: tls.certFile,
    /** `https://127.0.0.1:<port>`; `localhost` reaches the same server under another host. */
    base,
    confirmations,
    notification(
      topic: string,
      message: string,
      options: { version?: '1' | '2'; cert?: string; certBase?: string; subject?: string } = {},
    ): Fields {
      const fields: Fields = {
        Type: 'Notification',
        MessageId: randomUUID(),
        TopicArn: topic,
        Message: message,
        Timestamp: new Date().toISOString(),
        UnsubscribeURL: `${base}/unsubscribe`,
        ...(options.subject ? { Subject: options.subject } : {}),
      };
      return signed(fields, options.version ?? '1', options.cert ?? 'valid.pem', options.certBase);
    },
    subscription(topic: string, token: string = randomUUID()): Fields {
      const fields: Fields = {
        Type: 'SubscriptionConfirmation',
        MessageId: randomUUID(),
        Token: token,
        TopicArn: topic,
        Message: `You have chosen to subscribe to the topic ${topic}.`,
        SubscribeURL: `${base}/confirm?Action=ConfirmSubscription&Token=${token}`,
        Timestamp: new Date().toISOString(),
      };
      return signed(fields, '2', 'valid.pem');
    },
    /** POSTs a message as SNS does: JSON as text/plain, its type and topic in headers. */
    post(url: string, message: Fields) {
      return fetch(url, {
        method: 'POST',
        headers: {
          'content-type': 'text/plain; charset=UTF-8',
          'x-amz-sns-message-type': message.Type ?? '',
          'x-amz-sns-message-id': message.MessageId ?? '',
          'x-amz-sns-topic-arn': message.TopicArn ?? '',
        },
        body: JSON.stringify(message),
      });
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export type SnsSender = Awaited<ReturnType<typeof startSnsSender>>;

function validCert(dir: string, keyFile: string): string {
  const out = join(dir, 'valid.pem');
  execFileSync('openssl', [
    ...['req', '-x509', '-new', '-key', keyFile, '-days', '2', '-out', out],
    ...['-subj', '/CN=sns.loopback.test'],
  ]);
  return readFileSync(out, 'utf8');
}

/** A certificate of the same key valid only in 2020: `openssl ca` takes explicit dates. */
function expiredCert(dir: string, keyFile: string): string {
  writeFileSync(join(dir, 'index.txt'), '');
  writeFileSync(join(dir, 'serial'), '01\n');
  const config = join(dir, 'ca.cnf');
  writeFileSync(
    config,
    [
      '[ca]',
      'default_ca = sns',
      '[sns]',
      `dir = ${dir}`,
      'database = $dir/index.txt',
      'serial = $dir/serial',
      'new_certs_dir = $dir',
      'default_md = sha256',
      'policy = any',
      '[any]',
      'commonName = supplied',
    ].join('\n'),
  );
  const csr = join(dir, 'expired.csr');
  const out = join(dir, 'expired.pem');
  execFileSync('openssl', [
    ...['req', '-new', '-key', keyFile, '-subj', '/CN=sns.loopback.test', '-out', csr],
  ]);
  execFileSync(
    'openssl',
    [
      ...['ca', '-batch', '-selfsign', '-config', config, '-keyfile', keyFile, '-in', csr],
      ...['-startdate', '20200101000000Z', '-enddate', '20200201000000Z', '-notext', '-out', out],
    ],
    { stdio: 'pipe' },
  );
  return readFileSync(out, 'utf8');
}
