/**
 * results/matrix.json is built from one rows file per test file (rows-<name>.json), so the
 * back-end and front-end peer tests, which run in separate workers, never overwrite each other.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { SECTION_ORDER } from '../../packages/cli/src/conformance/cases.js';
import { renderMatrix, type Matrix, type MatrixRow } from '../../packages/cli/src/conformance/matrix.js';

export const RESULTS_DIR = new URL('./results/', import.meta.url).pathname;

export function writeRows(name: string, rows: MatrixRow[]): void {
  if (rows.length === 0) return;
  mkdirSync(RESULTS_DIR, { recursive: true });
  writeFileSync(`${RESULTS_DIR}rows-${name}.json`, `${JSON.stringify(rows, null, 2)}\n`);
  const all = readdirSync(RESULTS_DIR)
    .filter((f) => /^rows-.+\.json$/.test(f))
    .sort()
    .flatMap((f) => JSON.parse(readFileSync(`${RESULTS_DIR}${f}`, 'utf8')) as MatrixRow[]);
  const matrix: Matrix = { format: 1, generated: new Date().toISOString(), sections: SECTION_ORDER, rows: all };
  writeFileSync(`${RESULTS_DIR}matrix.json`, `${JSON.stringify(matrix, null, 2)}\n`);
  writeFileSync(`${RESULTS_DIR}matrix.html`, renderMatrix(matrix));
}

/** The Debian version of a package, or "unknown". */
export function debianVersion(pkg: string): string {
  try {
    return execFileSync('dpkg-query', ['-W', '-f', '${Version}', pkg], { encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

/** The first line of `<program> --version` ("QEMU emulator version 10.0.2 (Debian ...)"), or "unknown". */
export async function programVersion(program: string, env?: NodeJS.ProcessEnv): Promise<string> {
  try {
    return execFileSync(program, ['--version'], { encoding: 'utf8', env }).split('\n')[0]?.trim() || 'unknown';
  } catch {
    return 'unknown';
  }
}
