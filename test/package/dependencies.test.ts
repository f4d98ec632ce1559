/**
 * Every workspace declares what its shipped code imports. A package that works inside the
 * repository only because the root (or a sibling) happens to install a module breaks the day a
 * user installs its tarball alone; this test reads every import of the code a package ships and
 * checks it against that package's own package.json.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const root = join(new URL('.', import.meta.url).pathname, '../..');
const WORKSPACES = [
  'generator',
  'packages/codec',
  'packages/vring',
  'packages/transport',
  'packages/cli',
  'packages/site',
];
/** Folders whose code runs for users (tests and benchmarks use the root's devDependencies). */
const SHIPPED = ['src', 'bin', 'scripts'];
const SOURCE = /\.(ts|mts|mjs|js)$/;

interface Manifest {
  name: string;
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
}

interface ImportUse {
  file: string;
  specifier: string;
  typeOnly: boolean;
}

function filesUnder(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names.flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === 'generated' && dir.endsWith('wasm') ? [] : filesUnder(path);
    return SOURCE.test(name) && !name.endsWith('.d.ts') ? [path] : [];
  });
}

/** Bare-specifier imports of one file: static imports, re-exports and dynamic import('...'). */
function importsOf(file: string): ImportUse[] {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
  const uses: ImportUse[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
      uses.push({ file, specifier: node.moduleSpecifier.text, typeOnly: node.importClause?.isTypeOnly ?? false });
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      uses.push({ file, specifier: node.moduleSpecifier.text, typeOnly: node.isTypeOnly });
    } else if (
      ts.isCallExpression(node) &&
      node.expression.kind === ts.SyntaxKind.ImportKeyword &&
      node.arguments[0] &&
      ts.isStringLiteral(node.arguments[0])
    ) {
      uses.push({ file, specifier: node.arguments[0].text, typeOnly: false });
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return uses.filter((u) => !u.specifier.startsWith('.') && !u.specifier.startsWith('data:'));
}

/** `@scope/name/sub` -> `@scope/name`, `name/sub` -> `name`. */
function packageOf(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : (parts[0] ?? specifier);
}

const isBuiltin = (name: string) => name.startsWith('node:') || builtinModules.includes(name);

describe('every workspace declares what it imports', () => {
  for (const workspace of WORKSPACES) {
    it(workspace, () => {
      const manifest = JSON.parse(readFileSync(join(root, workspace, 'package.json'), 'utf8')) as Manifest;
      const runtime = new Set([
        manifest.name,
        ...Object.keys(manifest.dependencies ?? {}),
        ...Object.keys(manifest.peerDependencies ?? {}),
      ]);
      const typesToo = new Set([...runtime, ...Object.keys(manifest.devDependencies ?? {})]);
      const files = SHIPPED.flatMap((dir) => filesUnder(join(root, workspace, dir)));
      expect(files.length).toBeGreaterThan(0);
      const undeclared = new Set<string>();
      for (const use of files.flatMap(importsOf)) {
        const name = packageOf(use.specifier);
        if (isBuiltin(name)) continue;
        const declared = use.typeOnly
          ? typesToo.has(name) || typesToo.has(`@types/${name}`) || runtime.has(`@types/${name}`)
          : runtime.has(name);
        if (!declared) undeclared.add(`${name} (${use.file.slice(root.length)})`);
      }
      expect([...undeclared], `imported by ${workspace} but not declared in its package.json`).toEqual([]);
    });
  }
});
