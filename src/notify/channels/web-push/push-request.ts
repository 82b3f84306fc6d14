import { Agent as HttpAgent, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { LookupFunction } from 'node:net';
import type { RequestDetails } from 'web-push';

/** What a push service answered. */
export interface PushAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  /** The start of the body: push services explain refusals there. */
  text: string;
}

/** Agents whose every connection resolves through one lookup. */
export interface PushAgents {
  http: HttpAgent;
  https: HttpsAgent;
}

const maxAnswerText = 1024;

/**
 * Keep-alive agents of their own, not the global ones: a pooled socket is reused without a
 * new lookup, so only sockets this `lookup` opened may carry push messages.
 */
export const createPushAgents = (lookup: LookupFunction): PushAgents => ({
  http: new HttpAgent({ keepAlive: true, lookup }),
  https: new HttpsAgent({ keepAlive: true, lookup }),
});

/**
 * POSTs one encrypted push message (built by web-push's `generateRequestDetails`) to its
 * push service. web-push's own `sendNotification` always speaks TLS whatever the URL says,
 * so it could not reach a loopback `http:` push service; this follows the URL's scheme and
 * bounds the whole exchange, not just socket idleness, by `timeoutMs`. Rejects when no
 * answer came (network error, timeout, or the agents' lookup refused the address).
 */
export function postPushMessage(
  details: RequestDetails,
  agents: PushAgents,
  timeoutMs: number,
): Promise<PushAnswer> {
  const url = new URL(details.endpoint);
  const secure = url.protocol !== 'http:';
  const send = secure ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = send(url, {
      method: 'POST',
      headers: details.headers as Record<string, string | number>,
      agent: secure ? agents.https : agents.http,
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
