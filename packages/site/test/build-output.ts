/** Builds the site once into a temporary folder for a test file; removed afterwards. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildSite, type BuildResult } from '../src/build.js';

export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

export async function buildIntoTemp(
  options: { matrixPath?: string } = {},
): Promise<{ dir: string; result: BuildResult; remove: () => void }> {
  const dir = mkdtempSync(join(tmpdir(), 'vhost-user-site-'));
  const result = await buildSite({ root: REPO_ROOT, outDir: join(dir, 'site'), matrixPath: options.matrixPath });
  return { dir: join(dir, 'site'), result, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
