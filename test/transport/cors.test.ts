import { describe, expect, it } from 'vitest';
import { createCors } from '../../src/transport/cors.js';

const cors = (origins: string[]) => createCors({ origins, maxAgeSeconds: 600 });

describe('createCors', () => {
  it('is off without origins: no headers, and every origin allowed (no check)', () => {
    const off = cors([]);
    expect(off.enabled).toBe(false);
    expect(off.headers('https://evil.example', 'api.example')).toEqual({});
    expect(off.allows('https://evil.example', 'api.example')).toBe(true);
  });

  it('allows listed origins exactly, case-insensitively, on their scheme and port', () => {
    const on = cors(['https://app.example', 'http://localhost:3000']);
    const allows = (origin: string) => on.allows(origin, 'api.example');
    expect(allows('https://app.example')).toBe(true);
    expect(allows('HTTPS://APP.EXAMPLE')).toBe(true);
    expect(allows('http://app.example')).toBe(false);
    expect(allows('https://app.example:8443')).toBe(false);
    expect(allows('https://app.example.evil')).toBe(false);
    expect(allows('http://localhost:3000')).toBe(true);
    expect(allows('http://localhost:3001')).toBe(false);
    expect(allows('null')).toBe(false);
  });

  it('allows subdomains of `*.` patterns, not the bare domain nor look-alikes', () => {
    const on = cors(['https://*.shop.example']);
    const allows = (origin: string) => on.allows(origin, 'api.example');
    expect(allows('https://eu.shop.example')).toBe(true);
    expect(allows('https://a.b.shop.example')).toBe(true);
    expect(allows('https://shop.example')).toBe(false);
    expect(allows('https://evilshop.example')).toBe(false);
    expect(allows('https://x.shop.example.evil')).toBe(false);
    expect(allows('http://eu.shop.example')).toBe(false);
  });

  it('allows the server’s own origin and requests without an Origin (not browsers)', () => {
    const on = cors(['https://app.example']);
    expect(on.allows('https://api.example:8443', 'api.example:8443')).toBe(true);
    expect(on.allows('https://api.example', 'other.example')).toBe(false);
    expect(on.allows('', 'api.example')).toBe(true);
    expect(cors(['*']).allows('https://anything.example', 'api.example')).toBe(true);
  });

  it('echoes an allowed origin with Vary, and only Vary for others', () => {
    const on = cors(['https://app.example']);
    expect(on.headers('https://app.example', 'api.example')).toEqual({
      vary: 'origin',
      'access-control-allow-origin': 'https://app.example',
      'access-control-expose-headers': 'retry-after',
    });
    expect(on.headers('https://evil.example', 'api.example')).toEqual({ vary: 'origin' });
    expect(on.preflightHeaders('https://app.example')).toMatchObject({
      'access-control-allow-methods': 'GET, POST, PUT, DELETE',
      'access-control-max-age': '600',
    });
  });
});
