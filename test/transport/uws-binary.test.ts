import { describe, expect, it } from 'vitest';
import {
  chooseUwsBinary,
  compareVersions,
  type UwsPackage,
} from '../../src/transport/uws-binary.js';
import { recordedPackages } from '../../src/transport/uws.js';

const [truffle, btc] = recordedPackages;
const both: UwsPackage[] = [
  { record: truffle!, root: '/nm/uWebSockets.js' },
  { record: btc!, root: '/nm/@btc-vision/uwebsockets.js' },
];
const onlyMain: UwsPackage[] = [both[0]!, { record: btc!, root: undefined }];
const linux = (abi: string, glibc: string | undefined) =>
  ({ platform: 'linux', arch: 'x64', abi, glibc }) as const;

function chosen(selection: ReturnType<typeof chooseUwsBinary>) {
  return selection.ok ? `${selection.binary.record.name} ${selection.binary.file}` : null;
}

describe('chooseUwsBinary', () => {
  it('records the two packages in order of preference, the main dependency first', () => {
    expect(recordedPackages.map((p) => p.name)).toEqual([
      '@trufflesuite/uws-js-unofficial',
      '@btc-vision/uwebsockets.js',
    ]);
  });

  it('keeps the main dependency on Node 20, on glibc 2.36 and on 2.38 alike', () => {
    for (const glibc of ['2.36', '2.38', '2.41']) {
      expect(chosen(chooseUwsBinary(linux('115', glibc), both))).toBe(
        '@trufflesuite/uws-js-unofficial binaries/uws_linux_x64_115.node',
      );
    }
  });

  it('takes the re-published official builds for Node 22, 24 and 25 on glibc ≥ 2.38', () => {
    for (const abi of ['127', '137', '141']) {
      const selection = chooseUwsBinary(linux(abi, '2.39'), both);
      expect(chosen(selection)).toBe(`@btc-vision/uwebsockets.js uws_linux_x64_${abi}.node`);
      expect(selection.ok && selection.binary.sha256).toBe(
        btc!.sha256[`uws_linux_x64_${abi}.node`],
      );
    }
  });

  it('falls back on Node 22 with glibc 2.36 and says why for each package', () => {
    const selection = chooseUwsBinary(linux('127', '2.36'), both);
    expect(selection).toEqual({
      ok: false,
      reasons: [
        '@trufflesuite/uws-js-unofficial@20.30.0-unofficial.0: ships no uws_linux_x64_127.node (Node ABI 127 on linux-x64)',
        '@btc-vision/uwebsockets.js@20.57.0: needs glibc ≥ 2.38; this system has 2.36',
      ],
    });
  });

  it('falls back when the optional package is not installed', () => {
    const selection = chooseUwsBinary(linux('137', '2.41'), onlyMain);
    expect(selection.ok).toBe(false);
    expect(!selection.ok && selection.reasons[1]).toBe(
      '@btc-vision/uwebsockets.js@20.57.0: not installed',
    );
  });

  it('falls back on Node ABIs nobody ships (21, 23) and on Linux without glibc', () => {
    expect(chosen(chooseUwsBinary(linux('120', '2.41'), both))).toBeNull();
    expect(chosen(chooseUwsBinary(linux('131', '2.41'), both))).toBeNull();
    const musl = chooseUwsBinary(linux('115', undefined), both);
    expect(!musl.ok && musl.reasons[0]).toMatch(/no glibc/);
  });

  it('ignores glibc off Linux and picks by platform and arch', () => {
    const mac = { platform: 'darwin', arch: 'arm64', abi: '127', glibc: undefined };
    expect(chosen(chooseUwsBinary(mac, both))).toBe(
      '@btc-vision/uwebsockets.js uws_darwin_arm64_127.node',
    );
    const arm = { platform: 'linux', arch: 'arm64', abi: '115', glibc: '2.31' };
    expect(chosen(chooseUwsBinary(arm, both))).toBe(
      '@trufflesuite/uws-js-unofficial binaries/uws_linux_arm64_115.node',
    );
  });

  it('compares glibc versions by number, not text', () => {
    expect(compareVersions('2.36', '2.38')).toBe(-1);
    expect(compareVersions('2.100', '2.38')).toBe(1);
    expect(compareVersions('2.38', '2.38.0')).toBe(0);
  });
});
