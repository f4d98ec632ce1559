/**
 * `npm run generate` writes every generated file (generated/ and the codec's src/generated/)
 * from spec/; `npm run generate:check` (--check) fails when any of them differs from what spec/
 * produces. Refuses to generate from a spec with lint errors, so generated code never encodes a
 * broken table.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { emitAll, GENERATED_DIRS } from '../emit/index.js';
import { checkRepository } from '../lint/index.js';
import { formatIssue } from '../yaml-file.js';

const check = process.argv.includes('--check');
const root = resolve(process.argv.find((a, i) => i > 1 && !a.startsWith('--')) ?? '.');
const started = performance.now();

const { repo, issues } = checkRepository(root);
if (!repo || issues.length > 0) {
  for (const issue of issues) console.error(formatIssue(issue));
  console.error(`\nnot generating: the spec has ${issues.length} problem(s); run npm run lint`);
  process.exit(1);
}

const files = emitAll(repo);

function listFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? listFiles(path) : [path];
  });
}

const existing = GENERATED_DIRS.flatMap((dir) => listFiles(join(root, dir))).map((p) => relative(root, p));
const stale: string[] = [];
for (const [path, content] of files) {
  const full = join(root, path);
  const current = existsSync(full) ? readFileSync(full, 'utf8') : undefined;
  if (current === content) continue;
  stale.push(current === undefined ? `missing: ${path}` : `differs: ${path}`);
  if (!check) {
    mkdirSync(dirname(full), { recursive: true });
    writeFileSync(full, content);
  }
}
for (const path of existing) {
  if (files.has(path)) continue;
  stale.push(`not produced by the generator: ${path}`);
  if (!check) rmSync(join(root, path));
}

const seconds = ((performance.now() - started) / 1000).toFixed(2);
const where = GENERATED_DIRS.map((d) => `${d}/`).join(' and ');
if (check) {
  if (stale.length > 0) {
    console.error(stale.join('\n'));
    console.error(`\n${where} are stale (${stale.length} file(s)); run npm run generate and commit the result`);
    process.exit(1);
  }
  console.log(`${where} are up to date (${files.size} files, ${seconds} s)`);
} else {
  console.log(`generated ${files.size} files (${stale.length} changed) in ${seconds} s`);
}
