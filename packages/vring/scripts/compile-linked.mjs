// Compiles an AssemblyScript program that imports the core's library (wasm/lib) into a module
// that runs on a vring guest memory: the core's flags (imported shared memory, no runtime, no
// data segments). The compiler runs in a child process: loaded into the caller's process it
// would keep compiling in the background and disturb whatever runs next (benchmarks, tests).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

export const LINKED_FLAGS = [
  '--importMemory', '--sharedMemory', '--initialMemory', '1', '--maximumMemory', '65536',
  '--enable', 'threads', '--runtime', 'stub', '-O3', '--noAssert', '--noExportMemory',
];

/** Compiles `source` (a path) and returns the WebAssembly.Module. */
export function compileLinked(source) {
  const module = new WebAssembly.Module(compileLinkedBytes(source));
  const imports = WebAssembly.Module.imports(module).map((i) => `${i.module}.${i.name}`);
  if (imports.join() !== 'env.memory') throw new Error(`${source}: the program must import only env.memory (it imports ${imports.join(', ')})`);
  return module;
}

/** Compiles `source` (a path) and returns the module's bytes. */
export function compileLinkedBytes(source) {
  const asc = join(dirname(createRequire(import.meta.url).resolve('assemblyscript/package.json')), 'bin', 'asc.js');
  const dir = mkdtempSync(join(tmpdir(), 'vring-linked-'));
  try {
    const out = join(dir, 'program.wasm');
    execFileSync(process.execPath, [asc, source, '-o', out, ...LINKED_FLAGS], { stdio: ['ignore', 'inherit', 'inherit'] });
    return new Uint8Array(readFileSync(out));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
