// Builds @vhost-user/vring's WebAssembly core (`npm run build:core -w @vhost-user/vring`): writes
// the engines' constants (scripts/constants.ts: the codec's generated ring layouts, never
// retyped, and this package's state layout) for the WebAssembly core and the TypeScript path,
// then compiles wasm/core.ts with AssemblyScript into wasm/build/vring-core.wasm. The outputs are
// committed, so a fresh clone runs without a build; `--check` rebuilds into a temporary folder
// and fails when a committed file differs.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import asc from 'assemblyscript/asc';
import { LINKED_FLAGS } from './compile-linked.mjs';
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
const check = process.argv.includes('--check');
const constants = engineConstants();
const outputs: [string, string][] = [
  [`${wasmDir}generated/constants.ts`, assemblyScriptSource(constants)],
  [`${srcDir}generated/constants.ts`, typeScriptSource(constants)],
];
for (const [path, text] of outputs) {
  if (check) {
    if (!existsSync(path) || readFileSync(path, 'utf8') !== text) {
      console.error(`vring: ${path} is stale; run npm run build:core -w @vhost-user/vring and commit`);
      process.exit(1);
    }
  } else {
    mkdirSync(join(path, '..'), { recursive: true });
    writeFileSync(path, text);
  }
}

const outDir = check ? mkdtempSync(join(tmpdir(), 'vring-core-')) : `${wasmDir}build`;
mkdirSync(outDir, { recursive: true });
const { error, stderr } = await asc.main([
  `${wasmDir}core.ts`,
  '-o',
  `${outDir}/vring-core.wasm`,
  '-t',
  `${outDir}/vring-core.wat`,
  ...LINKED_FLAGS, // the flags programs linked with the core's library use too
]);
if (error) {
  console.error(stderr.toString());
  console.error(error.message);
  process.exit(1);
}
if (check) {
  const fresh = readFileSync(`${outDir}/vring-core.wasm`);
  const committed = `${wasmDir}build/vring-core.wasm`;
  const same = existsSync(committed) && fresh.equals(readFileSync(committed));
  rmSync(outDir, { recursive: true, force: true });
  if (!same) {
    console.error('vring: wasm/build/vring-core.wasm is stale; run npm run build:core -w @vhost-user/vring and commit');
    process.exit(1);
  }
  console.log('vring: the committed WebAssembly core and constants match their sources');
} else {
  console.log('vring: built wasm/build/vring-core.wasm');
}
