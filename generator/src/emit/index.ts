/**
 * Every generated file, computed from the repository in memory: a map from a path under
 * generated/ to its content. `generate` writes them; `generate:check` compares.
 */
import type { SpecRepository } from '../repository.js';
import { emitJson } from './json.js';
import { emitC } from './c.js';
import { emitRust } from './rust.js';
import { emitTypeScript } from './ts/index.js';

export type GeneratedFiles = Map<string, string>;

export function emitAll(repo: SpecRepository): GeneratedFiles {
  const files: GeneratedFiles = new Map();
  files.set('spec.json', emitJson(repo.draft));
  for (const release of repo.releases) files.set(`releases/${release.meta.version}.json`, emitJson(release));
  for (const [name, text] of emitTypeScript(repo.draft)) files.set(`ts/${name}`, text);
  files.set('c/vhost_user.h', emitC(repo.draft));
  files.set('rust/vhost_user.rs', emitRust(repo.draft));
  return files;
}
