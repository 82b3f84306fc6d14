import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  exportJWK,
  generateKeyPair,
  SignJWT,
  type CryptoKey,
  type JWK,
  type JWTPayload,
} from 'jose';

export type AsymmetricAlg = 'RS256' | 'ES256' | 'EdDSA';

/** A signing key of the identity provider, made in the test. */
export interface ProviderKey {
  kid: string;
  alg: AsymmetricAlg;
  privateKey: CryptoKey;
  /** The public JWK as a provider publishes it (`kid`, `alg`, `use: sig`). */
  jwk: JWK;
}

export async function makeKey(kid: string, alg: AsymmetricAlg = 'RS256'): Promise<ProviderKey> {
  const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true });
  const jwk = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' };
  return { kid, alg, privateKey, jwk };
}

/** A JWT signed with `key`, valid for an hour from `nowMs` unless `claims` say otherwise. */
export async function signWith(
  key: ProviderKey,
  claims: JWTPayload,
  nowMs = Date.now(),
  header: { kid?: string } = { kid: key.kid },
): Promise<string> {
  const iat = Math.floor(nowMs / 1000);
  return new SignJWT({ iat, exp: iat + 3600, ...claims })
    .setProtectedHeader({ alg: key.alg, ...header })
    .sign(key.privateKey);
}

/** What the server answers instead of the key set. */
export type JwksFault = 'ok' | '503' | 'not-json' | 'not-a-jwks' | 'hang';

/**
 * An identity provider's JWKS endpoint on a real loopback HTTP server: `GET
 * /.well-known/jwks.json` only (404 for other paths, 405 for other methods, as the real ones),
 * `application/json`, the keys set by the test. It counts the requests it gets, so a test can
 * see when the verifier fetched.
 */
export async function startJwksServer() {
  let keys: JWK[] = [];
  let fault: JwksFault = 'ok';
  let requests = 0;
  const hanging = new Set<ServerResponse>();

  const server = createServer((req, res) => {
    requests += 1;
    req.resume();
    if (req.url !== '/.well-known/jwks.json') return end(res, 404, { error: 'not found' });
    if (req.method !== 'GET') return end(res, 405, { error: 'method not allowed' });
    if (fault === 'hang') return void hanging.add(res);
    if (fault === '503') return end(res, 503, { error: 'unavailable' });
    if (fault === 'not-json') return end(res, 200, '<html>maintenance</html>');
    if (fault === 'not-a-jwks') return end(res, 200, { keys: 'none' });
    end(res, 200, { keys });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}/.well-known/jwks.json`,
    port,
    /** Requests received so far (every path and method). */
    get requests() {
      return requests;
    },
    serve(next: ProviderKey[]) {
      keys = next.map((key) => key.jwk);
    },
    fail(next: JwksFault) {
      fault = next;
    },
    async close() {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export type JwksServer = Awaited<ReturnType<typeof startJwksServer>>;

function end(res: ServerResponse, status: number, body: unknown) {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  const type = typeof body === 'string' ? 'text/html' : 'application/json';
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(text) });
  res.end(text);
}
