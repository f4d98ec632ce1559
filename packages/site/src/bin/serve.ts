/**
 * `npm start`: builds the site into packages/site/dist with progress output, then serves it
 * on localhost and prints the URL. PORT picks the port (default 8080; 0 for any free one).
 */
import { fileURLToPath } from 'node:url';
import { buildSite, SiteBuildError } from '../build.js';
import { serveStatic } from '../serve/static-server.js';

const REPO_ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const OUT = fileURLToPath(new URL('../../dist/', import.meta.url));

try {
  const started = performance.now();
  const result = await buildSite({ root: REPO_ROOT, outDir: OUT, progress: (line) => console.log(`site: ${line}`) });
  for (const warning of result.warnings) console.warn(`warning: ${warning}`);
  console.log(`site: built ${result.files} files in ${((performance.now() - started) / 1000).toFixed(2)} s`);
  const running = await serveStatic(OUT, Number(process.env.PORT ?? 8080), process.env.HOST ?? '127.0.0.1');
  console.log(`site: serving ${OUT} at ${running.url} (latest draft: ${running.url}latest/) — Ctrl-C stops`);
  const stop = (): void => void running.close().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
} catch (error) {
  if (error instanceof SiteBuildError) {
    console.error(`site: ${error.message}`);
    process.exitCode = 1;
  } else if (error instanceof Error && 'code' in error && error.code === 'EADDRINUSE') {
    console.error(
      `site: port ${process.env.PORT ?? 8080} is in use; set PORT to another port (PORT=0 picks a free one)`,
    );
    process.exitCode = 1;
  } else {
    throw error;
  }
}
