/** Loads the WebAssembly core (built by scripts/build-core.ts) onto a guest memory. */
import { readFileSync } from 'node:fs';
import type { Engine } from './engine.js';
import { VringError } from './errors.js';

const CORE_URL = new URL('../wasm/build/vring-core.wasm', import.meta.url);
let compiled: WebAssembly.Module | undefined;

/** The compiled core module (compiled once per thread). */
export function coreModule(bytes?: BufferSource): WebAssembly.Module {
  if (bytes) return new WebAssembly.Module(bytes);
  if (!compiled) {
    let source: Buffer;
    try {
      source = readFileSync(CORE_URL);
    } catch {
      throw new VringError(
        'WASM_UNAVAILABLE',
        `missing ${CORE_URL.pathname}: the package is incomplete; in the repository run npm run build:core -w @vhost-user/vring`,
      );
    }
    compiled = new WebAssembly.Module(new Uint8Array(source));
  }
  return compiled;
}

type CoreExports = Omit<Engine, 'name'>;

export function createWasmEngine(memory: WebAssembly.Memory, module: WebAssembly.Module = coreModule()): Engine {
  const instance = new WebAssembly.Instance(module, { env: { memory } });
  const e = instance.exports as unknown as CoreExports;
  return {
    name: 'wasm',
    splitDevicePop: e.splitDevicePop,
    splitDevicePush: e.splitDevicePush,
    splitDevicePopCompact: e.splitDevicePopCompact,
    splitDevicePushCompact: e.splitDevicePushCompact,
    splitDriverReserve: e.splitDriverReserve,
    splitDriverPublish: e.splitDriverPublish,
    splitDriverReclaim: e.splitDriverReclaim,
    packedDevicePop: e.packedDevicePop,
    packedDevicePush: e.packedDevicePush,
    packedDevicePopCompact: e.packedDevicePopCompact,
    packedDevicePushCompact: e.packedDevicePushCompact,
    packedDriverReserve: e.packedDriverReserve,
    packedDriverPublish: e.packedDriverPublish,
    packedDriverReclaim: e.packedDriverReclaim,
  };
}
