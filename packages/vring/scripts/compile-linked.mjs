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
  '--importMemory',
  '--sharedMemory',
  '--initialMemory',
  '1',
  '--maximumMemory',
  '65536',
  '--enable',
  'threads',
  '--runtime',
  'stub',
  '-O3',
  '--noAssert',
  '--noExportMemory',
];

/** Reads an unsigned LEB128 at `at`; returns [value, next offset]. */
function leb(bytes, at) {
  let value = 0;
  let shift = 0;
  for (;;) {
    const byte = bytes[at++];
    if (byte === undefined) throw new Error('truncated WebAssembly module');
    value += (byte & 0x7f) * 2 ** shift;
    if ((byte & 0x80) === 0) return [value, at];
    shift += 7;
  }
}

const DATA_SECTION = 11;

/**
 * Number of data segments in a module. A linked program shares the guest memory, whose first
 * bytes are the vring memory header and regions table: any static data (string literals, static
 * arrays) would be written over them when the program is instantiated.
 */
export function dataSegments(bytes) {
  for (let at = 8; at < bytes.length;) {
    const id = bytes[at];
    const [size, body] = leb(bytes, at + 1);
    if (id === DATA_SECTION) return leb(bytes, body)[0];
    at = body + size;
  }
  return 0;
}

/** Compiles `source` (a path) and returns the WebAssembly.Module. */
export function compileLinked(source) {
  const bytes = compileLinkedBytes(source);
  const segments = dataSegments(bytes);
  if (segments !== 0) {
    throw new Error(
      `${source}: the program has static data (${segments} data segment(s)), which would overwrite the start of the guest memory; use no string literals or static arrays`,
    );
  }
  const module = new WebAssembly.Module(bytes);
  const imports = WebAssembly.Module.imports(module).map((i) => `${i.module}.${i.name}`);
  if (imports.join() !== 'env.memory')
    throw new Error(`${source}: the program must import only env.memory (it imports ${imports.join(', ')})`);
  return module;
}

/** Compiles `source` (a path) and returns the module's bytes. */
export function compileLinkedBytes(source) {
  const asc = join(dirname(createRequire(import.meta.url).resolve('assemblyscript/package.json')), 'bin', 'asc.js');
  const dir = mkdtempSync(join(tmpdir(), 'vring-linked-'));
  try {
    const out = join(dir, 'program.wasm');
    execFileSync(process.execPath, [asc, source, '-o', out, ...LINKED_FLAGS], {
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    return new Uint8Array(readFileSync(out));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
