import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type * as UWS from 'uWebSockets.js';
import recorded from './uws-binaries.json' with { type: 'json' };
import {
  chooseUwsBinary,
  type UwsBinary,
  type UwsHost,
  type UwsPackage,
  type UwsPackageRecord,
} from './uws-binary.js';

export type Uws = typeof UWS;

export class UwsFallbackError extends Error {
  constructor(reasons: readonly string[]) {
    super(
      'uWebSockets.js would run on its slow `ws` shim, not a native binary; refusing to start. ' +
        'Set BACKLINE_ALLOW_WS_FALLBACK=1 to run on the shim anyway. ' +
        `Why: ${reasons.join('; ')}`,
    );
    this.name = 'UwsFallbackError';
  }
}

export class UwsChecksumError extends Error {
  constructor(path: string, expected: string, actual: string) {
    super(
      `refusing to load ${path}: its sha256 is ${actual}, but src/transport/uws-binaries.json ` +
        `records ${expected}. Reinstall the package (npm ci) or, after checking the new ` +
        'tarball, record its checksums.',
    );
    this.name = 'UwsChecksumError';
  }
}

export interface LoadedUws {
  uws: Uws;
  native: boolean;
  /** The binary loaded, when native. */
  binary?: UwsBinary;
  /** Why no native binary was loaded, when not native. */
  reasons: readonly string[];
}

export interface LoadOptions {
  /** Defaults to the recorded packages where Node resolves them from here. */
  packages?: readonly UwsPackage[];
  host?: UwsHost;
  env?: NodeJS.ProcessEnv;
}

const require = createRequire(import.meta.url);
// JSON literal types mark the keys one package lacks as optional; every present value is a string.
export const recordedPackages = recorded.packages as unknown as readonly UwsPackageRecord[];

/**
 * Loads uWebSockets.js: the recorded binary that fits this Node ABI, platform and glibc (the
 * main dependency's first, then the optional re-publication of newer official builds), after
 * checking its sha256. Without one it returns the `ws` shim of the main dependency only when
 * `allowFallback`, since the shim serves a fraction of the throughput.
 *
 * @example
 * const { uws, native } = loadUws(config.allowWsFallback);
 */
export function loadUws(allowFallback: boolean, options: LoadOptions = {}): LoadedUws {
  const env = options.env ?? process.env;
  const forced = /^(1|true)$/i.test(env.UWS_USE_FALLBACK ?? '');
  const selection = forced
    ? { ok: false as const, reasons: ['UWS_USE_FALLBACK is set'] }
    : chooseUwsBinary(options.host ?? currentHost(), options.packages ?? installedPackages());
  let reasons = selection.ok ? [] : selection.reasons;
  if (selection.ok) {
    const path = join(selection.binary.root, selection.binary.file);
    verifyBinary(path, selection.binary.sha256);
    try {
      return { uws: require(path) as Uws, native: true, binary: selection.binary, reasons };
    } catch (error) {
      reasons = [`${path} did not load: ${(error as Error).message}`];
    }
  }
  if (!allowFallback) throw new UwsFallbackError(reasons);
  return { uws: require('uWebSockets.js/dist/index.js') as Uws, native: false, reasons };
}

/** Throws `UwsChecksumError` unless the file's sha256 is `expected` (hex). */
export function verifyBinary(path: string, expected: string): void {
  const actual = createHash('sha256').update(readFileSync(path)).digest('hex');
  if (actual !== expected) throw new UwsChecksumError(path, expected, actual);
}

export function currentHost(): UwsHost {
  return {
    platform: process.platform,
    arch: process.arch,
    abi: process.versions.modules,
    glibc: process.platform === 'linux' ? glibcVersion() : undefined,
  };
}

function glibcVersion(): string | undefined {
  const header = (process.report.getReport() as { header?: { glibcVersionRuntime?: string } })
    .header;
  return header?.glibcVersionRuntime;
}

function installedPackages(): UwsPackage[] {
  return recordedPackages.map((record) => ({ record, root: packageRoot(record.installedAs) }));
}

/** Found by folder, not `require.resolve`: a package's `exports` may hide its package.json. */
function packageRoot(name: string): string | undefined {
  for (const dir of require.resolve.paths(name) ?? []) {
    const root = join(dir, name);
    if (existsSync(join(root, 'package.json'))) return root;
  }
  return undefined;
}
