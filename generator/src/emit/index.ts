/**
 * Every generated file, computed from the repository in memory: a map from a path relative to
 * the repository root to its content. `generate` writes them; `generate:check` compares.
 *
 * Most output lands in generated/. The TypeScript lands where it is imported: inside the codec
 * package (packages/codec/src/generated/), committed, so a fresh clone, the tests, the CLI and
 * the published package all see the same code with no copy step.
 */
import type { SpecRepository } from '../repository.js';
import { emitJson } from './json.js';
import { emitC } from './c.js';
import { emitRust } from './rust.js';
import { emitTypeScript } from './ts/index.js';

export type GeneratedFiles = Map<string, string>;

/** Where the generated TypeScript lives, relative to the repository root. */
export const GENERATED_TS_DIR = 'packages/codec/src/generated';

/** Folders holding only generator output: anything else found in them is stale. */
export const GENERATED_DIRS = ['generated', GENERATED_TS_DIR] as const;

export function emitAll(repo: SpecRepository): GeneratedFiles {
  const files: GeneratedFiles = new Map();
  files.set('generated/spec.json', emitJson(repo.draft));
  for (const release of repo.releases) files.set(`generated/releases/${release.meta.version}.json`, emitJson(release));
  for (const [name, text] of emitTypeScript(repo.draft)) files.set(`${GENERATED_TS_DIR}/${name}`, text);
  files.set('generated/c/vhost_user.h', emitC(repo.draft));
  files.set('generated/rust/vhost_user.rs', emitRust(repo.draft));
  return files;
}
