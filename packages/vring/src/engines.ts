/** One engine of each kind per WebAssembly.Memory and thread (instances are cheap to share). */
import type { Engine, EngineName } from './engine.js';
import { createTsEngine } from './engine-ts.js';
import { createWasmEngine } from './engine-wasm.js';

const cache = new WeakMap<WebAssembly.Memory, Partial<Record<EngineName, Engine>>>();

export function engineFor(memory: WebAssembly.Memory, name: EngineName): Engine {
  let entry = cache.get(memory);
  if (!entry) {
    entry = {};
    cache.set(memory, entry);
  }
  let engine = entry[name];
  if (!engine) {
    engine = name === 'wasm' ? createWasmEngine(memory) : createTsEngine(memory);
    entry[name] = engine;
  }
  return engine;
}
