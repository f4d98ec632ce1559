// compileLinked refuses programs that would write into the shared guest memory when they are
// instantiated (static data) or that import anything but the memory.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { compileLinked } from '../scripts/compile-linked.mjs';

const dir = mkdtempSync(join(tmpdir(), 'vring-compile-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const lib = fileURLToPath(new URL('../wasm/lib/index', import.meta.url));

function program(name: string, body: string): string {
  const path = join(dir, `${name}.ts`);
  // AssemblyScript resolves relative paths (not absolute ones).
  writeFileSync(path, `import { splitDeviceServe } from ${JSON.stringify(relative(dir, lib))};\n${body}\n`);
  return path;
}

describe('compileLinked', () => {
  it('compiles a program on the library that imports only the memory', () => {
    const module = compileLinked(
      program(
        'ok',
        'class H { serve(id: u32, a: u32, b: u32, c: u32, d: u32): u32 { return b; } }\nexport function pass(cb: u32): u32 { return splitDeviceServe<H>(cb, 8); }',
      ),
    );
    expect(WebAssembly.Module.imports(module).map((i) => `${i.module}.${i.name}`)).toEqual(['env.memory']);
    expect(WebAssembly.Module.exports(module).map((e) => e.name)).toContain('pass');
  }, 60_000);

  it('refuses static data, which would be written over the memory header', () => {
    const source = program(
      'data',
      'const TABLE: StaticArray<u32> = [1, 2, 3, 4];\nexport function get(i: i32): u32 { return TABLE[i]; }',
    );
    expect(() => compileLinked(source)).toThrow(/static data \(\d+ data segment/);
  }, 60_000);

  it('refuses imports other than the memory', () => {
    const source = program(
      'imports',
      '@external("env", "log") declare function log(x: u32): void;\nexport function f(x: u32): void { log(x); }',
    );
    expect(() => compileLinked(source)).toThrow(/must import only env.memory/);
  }, 60_000);
});
