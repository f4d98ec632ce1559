/**
 * What changes in the generated TypeScript API between two versions: the exported names of
 * each generated file, and for each export that stays, whether its declaration (or the
 * members of an object, interface or enum) changed. Doc comments are ignored.
 */
import type { SpecModel } from '../load.js';
import type { SpecRepository } from '../repository.js';

// The emitters load ts-morph (a whole TypeScript compiler): imported on demand, so importing
// the generator package stays cheap for everything that never emits.
async function emitters() {
  const [ts, all, c, rust] = await Promise.all([
    import('../emit/ts/index.js'),
    import('../emit/index.js'),
    import('../emit/c.js'),
    import('../emit/rust.js'),
  ]);
  return { emitTypeScript: ts.emitTypeScript, emitAll: all.emitAll, emitC: c.emitC, emitRust: rust.emitRust };
}

/** Every generated file for a repository, as `npm run generate` writes them (path from the root -> text). */
export async function emitGenerated(repo: SpecRepository): Promise<Map<string, string>> {
  return (await emitters()).emitAll(repo);
}

export interface ApiFileDiff {
  file: string;
  added: string[];
  removed: string[];
  /** `FrontendRequest: +GET_SHMEM_CONFIG` or `decodeConfig: declaration changed`. */
  changed: string[];
}

export interface ApiDiff {
  files: ApiFileDiff[];
}

interface Declaration {
  key: string;
  text: string;
  members: string[] | undefined;
}

const EXPORT = /^export\s+(?:declare\s+)?(const|let|function|interface|type|enum|class)\s+([A-Za-z_$][\w$]*)/;
const MEMBER = /^ {2}(?:readonly\s+)?['"]?([A-Za-z_$][\w$]*)['"]?\??:/;

/** Top-level exported declarations of one generated file. */
export function exportedDeclarations(source: string): Map<string, Declaration> {
  const out = new Map<string, Declaration>();
  const lines = source.split('\n');
  let current: { key: string; kind: string; lines: string[] } | undefined;
  const flush = () => {
    if (!current) return;
    const body = current.lines;
    const memberKinds = new Set(['const', 'interface', 'type', 'enum']);
    const members = memberKinds.has(current.kind)
      ? body
          .slice(1)
          .map((l) => MEMBER.exec(l)?.[1])
          .filter((m): m is string => m !== undefined)
      : undefined;
    out.set(current.key, {
      key: current.key,
      text: body.join('\n').trim(),
      members: members && members.length > 0 ? members : undefined,
    });
    current = undefined;
  };
  for (const line of lines) {
    const topLevel = line.length > 0 && !/^\s/.test(line) && !line.startsWith('}') && !line.startsWith(')');
    if (topLevel) {
      flush();
      const match = EXPORT.exec(line);
      if (match) current = { key: `${match[1]} ${match[2]}`, kind: match[1] ?? '', lines: [line] };
      else if (line.startsWith('export '))
        out.set(line.trim(), { key: line.trim(), text: line.trim(), members: undefined });
      continue;
    }
    if (current && !/^\s*(\/\*\*|\*)/.test(line)) current.lines.push(line);
  }
  flush();
  return out;
}

function diffFile(file: string, before: string | undefined, after: string | undefined): ApiFileDiff {
  const a = exportedDeclarations(before ?? '');
  const b = exportedDeclarations(after ?? '');
  const added = [...b.keys()].filter((k) => !a.has(k));
  const removed = [...a.keys()].filter((k) => !b.has(k));
  const changed: string[] = [];
  for (const [key, old] of a) {
    const now = b.get(key);
    if (!now || now.text === old.text) continue;
    const name = key.split(' ').pop() ?? key;
    if (old.members && now.members) {
      const plus = now.members.filter((m) => !old.members?.includes(m)).map((m) => `+${m}`);
      const minus = old.members.filter((m) => !now.members?.includes(m)).map((m) => `-${m}`);
      const moved = plus.length + minus.length === 0 ? ['values or types changed'] : [];
      changed.push(`${name}: ${[...plus, ...minus, ...moved].join(', ')}`);
    } else {
      changed.push(`${name}: declaration changed`);
    }
  }
  return { file, added, removed, changed };
}

/** Emits the TypeScript API of both versions and compares them file by file. */
export async function diffGeneratedApi(from: SpecModel, to: SpecModel): Promise<ApiDiff> {
  const { emitTypeScript } = await emitters();
  const before = emitTypeScript(from);
  const after = emitTypeScript(to);
  const files = [...new Set([...before.keys(), ...after.keys()])].sort();
  return { files: files.map((f) => diffFile(f, before.get(f), after.get(f))) };
}

/**
 * Named declarations of a generated C header or Rust module: macros and constants (by name,
 * Rust ones qualified by their module) and structs (with their member lines), so a change of
 * value or layout shows as `changed`.
 */
export function nativeDeclarations(source: string, language: 'c' | 'rust'): Map<string, string> {
  const out = new Map<string, string>();
  const lines = source.split('\n');
  const modules: string[] = [];
  let block: { key: string; lines: string[] } | undefined;
  for (const line of lines) {
    if (block) {
      block.lines.push(line.trim());
      if (/^\s*}/.test(line)) {
        out.set(block.key, block.lines.join(' '));
        block = undefined;
      }
      continue;
    }
    if (language === 'c') {
      const define = /^#define\s+(\w+)\s+(.+)$/.exec(line);
      if (define) out.set(`#define ${define[1]}`, define[2]?.trim() ?? '');
      const struct = /^(?:typedef\s+)?struct\s+(\w+)\s*{/.exec(line);
      if (struct) block = { key: `struct ${struct[1]}`, lines: [] };
      const member = /^\s+(\w+)\s*=\s*([^,]+),?$/.exec(line);
      if (member) out.set(`enumerator ${member[1]}`, member[2]?.trim() ?? '');
    } else {
      const mod = /^\s*pub mod (\w+) {/.exec(line);
      if (mod) modules.push(mod[1] ?? '');
      else if (/^}/.test(line)) modules.pop();
      const constant = /^\s*pub const (\w+):\s*([^=]+)=\s*(.+);/.exec(line);
      if (constant)
        out.set(`${[...modules, constant[1]].join('::')}`, `${constant[2]?.trim()} = ${constant[3]?.trim()}`);
      const struct = /^\s*pub struct (\w+)\s*{/.exec(line);
      if (struct) block = { key: `struct ${[...modules, struct[1]].join('::')}`, lines: [] };
    }
  }
  return out;
}

function diffDeclarations(file: string, a: Map<string, string>, b: Map<string, string>): ApiFileDiff {
  return {
    file,
    added: [...b.keys()].filter((k) => !a.has(k)),
    removed: [...a.keys()].filter((k) => !b.has(k)),
    changed: [...a].filter(([k, v]) => b.has(k) && b.get(k) !== v).map(([k, v]) => `${k}: ${v} -> ${b.get(k) ?? ''}`),
  };
}

/** Emits the C header and the Rust module of both versions and compares their declarations. */
export async function diffNativeApi(from: SpecModel, to: SpecModel): Promise<ApiDiff> {
  const { emitC, emitRust } = await emitters();
  return {
    files: [
      diffDeclarations('c/vhost_user.h', nativeDeclarations(emitC(from), 'c'), nativeDeclarations(emitC(to), 'c')),
      diffDeclarations(
        'rust/vhost_user.rs',
        nativeDeclarations(emitRust(from), 'rust'),
        nativeDeclarations(emitRust(to), 'rust'),
      ),
    ],
  };
}
