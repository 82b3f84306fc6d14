import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { RequestDetails } from 'web-push';

/** What a push service answered. */
export interface PushAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  /** The start of the body: push services explain refusals there. */
  text: string;
}

const maxAnswerText = 1024;

/**
 * POSTs one encrypted push message (built by web-push's `generateRequestDetails`) to its
 * push service. web-push's own `sendNotification` always speaks TLS whatever the URL says,
 * so it could not reach a loopback `http:` push service; this follows the URL's scheme and
 * bounds the whole exchange, not just socket idleness, by `timeoutMs`. Rejects when no
 * answer came (network error or timeout): the caller treats that as retryable.
 */
export function postPushMessage(details: RequestDetails, timeoutMs: number): Promise<PushAnswer> {
  const url = new URL(details.endpoint);
  const send = url.protocol === 'http:' ? httpRequest : httpsRequest;
  return new Promise((resolve, reject) => {
    const req = send(url, {
      method: 'POST',
      headers: details.headers as Record<string, string | number>,
      signal: AbortSignal.timeout(timeoutMs),
    });
    req.on('error', reject);
    req.on('response', (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        if (text.length < maxAnswerText) text += chunk.slice(0, maxAnswerText - text.length);
      });
      res.on('error', reject);
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
    });
    req.end(details.body ?? undefined);
  });
}
