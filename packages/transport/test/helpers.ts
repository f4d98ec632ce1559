/** Test helpers: a tiny WebAssembly module over a shared memory, and an fd leak counter. */
import { readdirSync, readlinkSync } from 'node:fs';
import wabtInit from 'wabt';

const PROBE_WAT = `(module
  (import "env" "memory" (memory PAGES PAGES shared))
  (func (export "load32") (param i32) (result i32) (i32.atomic.load (local.get 0)))
  (func (export "store32") (param i32 i32) (i32.atomic.store (local.get 0) (local.get 1))))`;

export interface Probe {
  load32(offset: number): number;
  store32(offset: number, value: number): void;
}

/** A wasm module whose loads and stores go through `memory` (what a ring core does). */
export async function wasmProbe(memory: WebAssembly.Memory): Promise<Probe> {
  const wabt = await wabtInit();
  const pages = memory.buffer.byteLength / 65536;
  const module = wabt.parseWat('probe.wat', PROBE_WAT.replaceAll('PAGES', String(pages)), { threads: true });
  const { buffer } = module.toBinary({});
  module.destroy();
  const instance = await WebAssembly.instantiate(new WebAssembly.Module(buffer as Uint8Array<ArrayBuffer>), {
    env: { memory },
  });
  return instance.exports as unknown as Probe;
}

/** Open fds of this process (to prove nothing leaks). */
export function openFdCount(): number {
  return readdirSync('/proc/self/fd').length;
}

/** Open fds of this process with what they point to (to name a leak). */
export function openFds(): Map<string, string> {
  const out = new Map<string, string>();
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      out.set(fd, readlinkSync(`/proc/self/fd/${fd}`));
    } catch {
      // closed while listing
    }
  }
  return out;
}
