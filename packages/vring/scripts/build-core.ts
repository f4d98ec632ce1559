// Build step of @vhost-user/vring: writes the engines' constants (scripts/constants.ts: the
// codec's generated ring layouts, never retyped, and this package's state layout) for the
// WebAssembly core and the TypeScript path, then compiles wasm/core.ts with AssemblyScript into
// wasm/build/vring-core.wasm.
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import asc from 'assemblyscript/asc';
import { PACKED_DESC, SPLIT_DESC } from '@vhost-user/codec';
import { assemblyScriptSource, engineConstants, typeScriptSource } from './constants.js';

const wasmDir = fileURLToPath(new URL('../wasm/', import.meta.url));
const srcDir = fileURLToPath(new URL('../src/', import.meta.url));

// The core's split fast path loads len, flags and next as one u64.
if (SPLIT_DESC.flags !== SPLIT_DESC.len + 4 || SPLIT_DESC.next !== SPLIT_DESC.flags + 2) {
  throw new Error('SPLIT_DESC: len, flags and next are no longer adjacent; update the fast path in wasm/core.ts');
}
// The core's packed submit writes len, id and flags as one u64.
if (PACKED_DESC.id !== PACKED_DESC.len + 4 || PACKED_DESC.flags !== PACKED_DESC.id + 2) {
  throw new Error(
    'PACKED_DESC: len, id and flags are no longer adjacent; update storePackedDescriptor in wasm/lib/packed.ts',
  );
}
const constants = engineConstants();
mkdirSync(`${wasmDir}generated`, { recursive: true });
writeFileSync(`${wasmDir}generated/constants.ts`, assemblyScriptSource(constants));
mkdirSync(`${srcDir}generated`, { recursive: true });
writeFileSync(`${srcDir}generated/constants.ts`, typeScriptSource(constants));

mkdirSync(`${wasmDir}build`, { recursive: true });
const { error, stderr } = await asc.main([
  `${wasmDir}core.ts`,
  '-o',
  `${wasmDir}build/vring-core.wasm`,
  '-t',
  `${wasmDir}build/vring-core.wat`,
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
]);
if (error) {
  console.error(stderr.toString());
  console.error(error.message);
  process.exit(1);
}
console.log('vring: built wasm/build/vring-core.wasm');
