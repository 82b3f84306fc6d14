/**
 * One npm package of uWebSockets.js native binaries, as recorded in `uws-binaries.json`
 * from the tarball npm served (`npm pack`, checked against `dist.integrity`).
 */
export interface UwsPackageRecord {
  /** npm name of the tarball. */
  readonly name: string;
  /** Folder under `node_modules` it installs to (the main dependency is an alias). */
  readonly installedAs: string;
  readonly version: string;
  /** npm's `dist.integrity` of the tarball the checksums were taken from. */
  readonly integrity: string;
  /** Folder inside the package that holds `uws_<platform>_<arch>_<abi>.node`. */
  readonly dir: string;
  /**
   * Lowest glibc the Linux binaries load on, by arch: the highest `GLIBC_x.y` symbol version
   * they import (`objdump -T`). Linux without glibc (musl) loads none of them.
   */
  readonly glibc: Readonly<Record<string, string>>;
  /** sha256 (hex) of every binary backline may load, by file name. */
  readonly sha256: Readonly<Record<string, string>>;
}

/** A recorded package and where it is installed (`root` is undefined when it is not). */
export interface UwsPackage {
  readonly record: UwsPackageRecord;
  readonly root: string | undefined;
}

export interface UwsHost {
  readonly platform: string;
  readonly arch: string;
  /** `process.versions.modules`: the Node ABI a native addon is built for. */
  readonly abi: string;
  /** glibc at run time (`process.report` header); undefined off glibc. */
  readonly glibc: string | undefined;
}

export interface UwsBinary {
  readonly record: UwsPackageRecord;
  readonly root: string;
  /** `<dir>/uws_<platform>_<arch>_<abi>.node`, relative to `root`. */
  readonly file: string;
  readonly sha256: string;
}

export type UwsSelection =
  | { readonly ok: true; readonly binary: UwsBinary }
  | { readonly ok: false; readonly reasons: readonly string[] };

/**
 * Picks the first package, in the given order of preference, that ships a binary for the
 * host's platform, arch and Node ABI, whose glibc need the host meets, and that is installed.
 * Otherwise says, per package, why not.
 *
 * @example
 * chooseUwsBinary({ platform: 'linux', arch: 'x64', abi: '127', glibc: '2.36' }, packages);
 * // { ok: false, reasons: ['@btc-vision/uwebsockets.js@20.57.0: needs glibc ≥ 2.38, …'] }
 */
export function chooseUwsBinary(host: UwsHost, packages: readonly UwsPackage[]): UwsSelection {
  const reasons: string[] = [];
  for (const { record, root } of packages) {
    const why = unfit(host, record, root);
    if (why) {
      reasons.push(`${record.name}@${record.version}: ${why}`);
      continue;
    }
    const name = binaryName(host);
    const file = record.dir === '.' ? name : `${record.dir}/${name}`;
    return { ok: true, binary: { record, root: root!, file, sha256: record.sha256[name]! } };
  }
  return { ok: false, reasons };
}

function unfit(host: UwsHost, record: UwsPackageRecord, root: string | undefined): string | null {
  const name = binaryName(host);
  if (!record.sha256[name])
    return `ships no ${name} (Node ABI ${host.abi} on ${host.platform}-${host.arch})`;
  if (host.platform === 'linux') {
    const needed = record.glibc[host.arch];
    if (!needed) return `records no glibc need for linux-${host.arch}`;
    if (!host.glibc) return `needs glibc ≥ ${needed}; this Linux has no glibc (musl?)`;
    if (compareVersions(host.glibc, needed) < 0)
      return `needs glibc ≥ ${needed}; this system has ${host.glibc}`;
  }
  if (root === undefined) return 'not installed';
  return null;
}

function binaryName(host: UwsHost): string {
  return `uws_${host.platform}_${host.arch}_${host.abi}.node`;
}

/** Compares dotted numeric versions (`2.36` < `2.38` < `2.100`). */
export function compareVersions(a: string, b: string): number {
  const x = a.split('.').map(Number);
  const y = b.split('.').map(Number);
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const d = (x[i] ?? 0) - (y[i] ?? 0);
    if (d !== 0) return Math.sign(d);
  }
  return 0;
}
