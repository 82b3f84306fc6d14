import type { AddressInfo } from 'node:net';
import { SMTPServer, type SMTPServerOptions } from 'smtp-server';

export interface ReceivedMail {
  from: string;
  to: string[];
  /** The message as sent over DATA (headers and MIME body). */
  raw: string;
  /** The user who authenticated, if any. */
  user: string | undefined;
  /** Whether the session ran over TLS (STARTTLS) when the message was sent. */
  secure: boolean;
}

export interface SmtpReceiverOptions {
  /** Require AUTH PLAIN or LOGIN with these credentials before MAIL FROM (port 587 style). */
  auth?: { user: string; pass: string };
  /** Offer STARTTLS with this key and certificate; AUTH is only taken after it. */
  tls?: { key: string; cert: string };
}

/**
 * A real SMTP server on loopback (smtp-server), recording every message; `reject(code)`
 * makes it refuse the next messages after DATA with that reply code. Plain by default; with
 * `tls` and `auth` it is a submission server as on port 587: STARTTLS offered, AUTH refused
 * until the session is encrypted, wrong credentials answered 535, MAIL FROM refused 530
 * until authenticated.
 */
export async function startSmtpReceiver(options: SmtpReceiverOptions = {}) {
  const mails: ReceivedMail[] = [];
  const rejections: number[] = [];
  const failedLogins: string[] = [];
  const server = new SMTPServer({
    ...security(options, failedLogins),
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const code = rejections.shift();
        if (code !== undefined) {
          const err = Object.assign(new Error(`rejected with ${code}`), { responseCode: code });
          return callback(err);
        }
        mails.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          raw: Buffer.concat(chunks).toString('utf8'),
          user: typeof session.user === 'string' ? session.user : undefined,
          secure: session.secure,
        });
        callback(null, 'OK: queued');
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.server.address() as AddressInfo;
  return {
    url: `smtp://127.0.0.1:${port}`,
    port,
    mails,
    /** Usernames of refused AUTH attempts, in order. */
    failedLogins,
    reject(...codes: number[]) {
      rejections.push(...codes);
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export type SmtpReceiver = Awaited<ReturnType<typeof startSmtpReceiver>>;

function security(options: SmtpReceiverOptions, failedLogins: string[]): SMTPServerOptions {
  const { auth, tls } = options;
  const disabled = [...(tls ? [] : ['STARTTLS']), ...(auth ? [] : ['AUTH'])];
  return {
    secure: false,
    ...(tls ? { key: tls.key, cert: tls.cert } : {}),
    disabledCommands: disabled,
    authOptional: !auth,
    authMethods: ['PLAIN', 'LOGIN'],
    onAuth(login, _session, callback) {
      if (auth && login.username === auth.user && login.password === auth.pass)
        return callback(null, { user: login.username });
      failedLogins.push(login.username ?? '');
      const err = Object.assign(new Error('Authentication credentials invalid'), {
        responseCode: 535,
      });
      callback(err);
    },
  };
}

/** A header's value from a raw message, unfolded (RFC 5322 §2.2.3). */
export function headerOf(raw: string, name: string): string | undefined {
  const head = raw.split(/\r?\n\r?\n/)[0]!.replace(/\r?\n[ \t]+/g, ' ');
  const line = head
    .split(/\r?\n/)
    .find((l) => l.toLowerCase().startsWith(`${name.toLowerCase()}:`));
  return line?.slice(name.length + 1).trim();
}
