import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

/** A file the server sends as it is, built in memory. */
export interface StaticAsset {
  contentType: string;
  body: Uint8Array;
  /** The same bytes gzipped, for clients that accept it. */
  gzip: Uint8Array;
  /** Named by content hash: cacheable for ever. */
  immutable: boolean;
}

export interface StaticAssets {
  /** The asset at a URL path (`/index.html`, `/assets/main-3FZ2.js`); rejects when the build failed. */
  get(path: string): Promise<StaticAsset | undefined>;
}

const sources = fileURLToPath(new URL('../dashboard/', import.meta.url));
const types: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json',
};

/**
 * The dashboard page: `src/dashboard/*.ts` bundled by esbuild into memory on the first request,
 * so that `npm start` needs no build step and a server nobody opens the page on pays nothing.
 * A failed build is retried on the next request.
 *
 * @example
 * const assets = createDashboardAssets();
 * const page = await assets.get('/index.html'); // builds once, then from memory
 */
export function createDashboardAssets(): StaticAssets {
  let built: Promise<Map<string, StaticAsset>> | undefined;
  return {
    async get(path) {
      built ??= bundle().catch((err: unknown) => {
        built = undefined;
        throw err;
      });
      return (await built).get(path);
    },
  };
}

async function bundle(): Promise<Map<string, StaticAsset>> {
  const result = await build({
    entryPoints: [`${sources}main.ts`],
    tsconfig: `${sources}tsconfig.json`,
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'browser',
    target: 'es2020',
    minify: true,
    sourcemap: 'linked',
    // Nothing is written: `outdir` only names the outputs, as the URLs they are served at.
    outdir: '/assets',
    entryNames: '[name]-[hash]',
    logLevel: 'silent',
  });
  const assets = new Map<string, StaticAsset>();
  const add = (path: string, body: Uint8Array, immutable: boolean) =>
    assets.set(path, {
      contentType: types[extname(path)] ?? 'application/octet-stream',
      body,
      gzip: gzipSync(body),
      immutable,
    });
  for (const file of result.outputFiles) add(file.path, file.contents, true);

  const named = (ext: string) => [...assets.keys()].find((path) => path.endsWith(ext)) ?? '';
  const html = (await readFile(`${sources}index.html`, 'utf8'))
    .replace('{{script}}', named('.js'))
    .replace('{{style}}', named('.css'));
  add('/index.html', new TextEncoder().encode(html), false);
  return assets;
}
