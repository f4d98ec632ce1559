/** Bundles and minifies the browser scripts into the site's assets folder. */
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';

const ENTRIES = ['site.js', 'search.js'].map((name) => fileURLToPath(new URL(`./${name}`, import.meta.url)));

/** Writes assets/site.js and assets/search.js (ES modules); returns their names. */
export async function bundleClient(assetsDir: string): Promise<string[]> {
  await build({
    entryPoints: ENTRIES,
    outdir: assetsDir,
    bundle: true,
    minify: true,
    format: 'esm',
    target: 'es2022',
    // site.js imports ./search.js on first use: keep that a separate file.
    external: ['./search.js'],
    logLevel: 'silent',
  });
  return ['site.js', 'search.js'];
}
