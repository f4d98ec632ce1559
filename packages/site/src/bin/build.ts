/**
 * `npm run site`: builds the site into packages/site/dist. With `--bench`, builds it and
 * prints the time of the full build of all versions (the target is under 5 s).
 * Options: `--out <dir>`, `--quiet`, `--check` (then check every internal link of the output
 * and fail on a broken one).
 */
import { fileURLToPath } from 'node:url';
import { buildSite, SiteBuildError } from '../build.js';
import { checkLinks } from '../check/links.js';

const REPO_ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const DEFAULT_OUT = fileURLToPath(new URL('../../dist/', import.meta.url));

async function main(argv: string[]): Promise<number> {
  const bench = argv.includes('--bench');
  const quiet = argv.includes('--quiet') || bench;
  const outAt = argv.indexOf('--out');
  const outDir = outAt >= 0 && argv[outAt + 1] ? (argv[outAt + 1] as string) : DEFAULT_OUT;
  const started = performance.now();
  try {
    const result = await buildSite({
      root: REPO_ROOT,
      outDir,
      progress: quiet ? undefined : (line) => console.log(`site: ${line}`),
    });
    const ms = performance.now() - started;
    for (const warning of result.warnings) console.warn(`warning: ${warning}`);
    if (bench) {
      const steps = Object.entries(result.timings)
        .map(([k, v]) => `${k} ${v} ms`)
        .join(', ');
      console.log(
        `site build: ${result.versions.length} versions, ${result.files} files in ${(ms / 1000).toFixed(2)} s (${steps}); target < 5 s`,
      );
    } else {
      console.log(
        `site: wrote ${result.files} files for ${result.versions.join(', ')} to ${result.outDir} in ${(ms / 1000).toFixed(2)} s`,
      );
    }
    if (argv.includes('--check')) {
      const report = checkLinks(result.outDir);
      for (const problem of report.problems) console.error(`broken: ${problem}`);
      console.log(
        `site: checked ${report.links} internal links on ${report.pages} pages, ${report.problems.length} broken`,
      );
      if (report.problems.length > 0) return 1;
    }
    return 0;
  } catch (error) {
    if (error instanceof SiteBuildError) {
      console.error(`site: ${error.message}`);
      return 1;
    }
    throw error;
  }
}

process.exitCode = await main(process.argv.slice(2));
