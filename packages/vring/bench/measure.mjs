// One measurement of split-pingpong in a process of its own, as the workload defines it (each
// process warms up with 1,000,000 chains, then times N): no JIT state carries over between the
// implementations a benchmark run compares. Runs the built package (dist/).
// node bench/measure.mjs '{"impl":{"layout","engine","api"},"variant":"A"|"B","n":N,"warmup":W,"wasm":"file"}'
// prints one JSON line: {sum, hash, errors, seconds}.
import { readFileSync } from 'node:fs';
import * as vring from '../dist/index.js';
import { measureVariantA, measureVariantB } from './sides.mjs';
import { createGuest, resetGuest } from './workload.mjs';

const { impl, variant, n, warmup, wasm } = JSON.parse(process.argv[2]);
const module = wasm ? new WebAssembly.Module(readFileSync(wasm)) : undefined;
let result;
if (variant === 'B') {
  result = await measureVariantB(vring, impl, n, warmup, module);
} else {
  // One memory for the warm-up and the timed run: the timed run re-initialises the queues and the
  // region, and starts on code that is already optimised for this memory.
  const guest = createGuest(vring);
  measureVariantA(vring, impl, warmup, module, guest);
  resetGuest(guest);
  result = measureVariantA(vring, impl, n, module, guest);
}
process.stdout.write(`${JSON.stringify(result)}\n`);
