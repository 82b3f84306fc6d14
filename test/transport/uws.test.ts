import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  UwsChecksumError,
  UwsFallbackError,
  currentHost,
  loadUws,
  recordedPackages,
  verifyBinary,
} from '../../src/transport/uws.js';
import { removeDir, tempDir } from '../helpers/server-process.js';

const dir = tempDir('backline-uws-');
afterAll(() => removeDir(dir));

describe('loadUws', () => {
  it('loads the checked native binary that fits this Node and glibc', () => {
    const { uws, native, binary } = loadUws(false);
    expect(native).toBe(true);
    expect(typeof uws.SSLApp).toBe('function');
    const host = currentHost();
    // This machine kind (Node 20, glibc 2.36) runs the main dependency's build.
    if (host.abi === '115' && host.platform === 'linux') {
      expect(binary?.record.name).toBe('@trufflesuite/uws-js-unofficial');
      expect(binary?.file).toBe(`binaries/uws_linux_${host.arch}_115.node`);
    }
  });

  it('refuses a binary whose sha256 differs from the recorded one', () => {
    const host = currentHost();
    const { binary } = loadUws(false);
    const root = join(dir, 'tampered');
    mkdirSync(join(root, 'binaries'), { recursive: true });
    const copy = join(root, binary!.file);
    copyFileSync(join(binary!.root, binary!.file), copy);
    expect(() => verifyBinary(copy, binary!.sha256)).not.toThrow();

    const bytes = readFileSync(copy);
    bytes[bytes.length >> 1]! ^= 0xff;
    writeFileSync(copy, bytes);
    const packages = [{ record: binary!.record, root }];
    expect(() => loadUws(true, { packages, host })).toThrow(UwsChecksumError);
    expect(() => loadUws(true, { packages, host })).toThrow(binary!.sha256);
  });

  it('refuses the ws shim unless allowed, naming why no binary fits', () => {
    const host = { platform: 'linux', arch: 'x64', abi: '131', glibc: '2.41' };
    const packages = recordedPackages.map((record) => ({ record, root: undefined }));
    expect(() => loadUws(false, { packages, host })).toThrow(UwsFallbackError);
    expect(() => loadUws(false, { packages, host })).toThrow(/BACKLINE_ALLOW_WS_FALLBACK.*ABI 131/);
    const shim = loadUws(true, { packages, host });
    expect(shim.native).toBe(false);
    expect(typeof shim.uws.App).toBe('function');
    expect(shim.reasons).toHaveLength(2);
  });

  it('takes the shim when UWS_USE_FALLBACK is set', () => {
    expect(() => loadUws(false, { env: { UWS_USE_FALLBACK: '1' } })).toThrow(/UWS_USE_FALLBACK/);
  });
});
