/**
 * The TS vhost-user-blk back-end as its own process for `bench:blk`, so it competes with its
 * front-end for the CPU the way qemu-storage-daemon does:
 *
 *   tsx blk-serve.ts --socket PATH --image PATH --engine wasm|ts [--device MODULE]
 *
 * MODULE default-exports `(imagePath) => VhostUserDevice` (default: ./blk-device.ts). Prints
 * "ready" once listening; exits on SIGTERM.
 */
import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';
import { VhostUserBackend, type EngineName, type VhostUserDevice } from '../src/index.js';

function arg(flag: string): string | undefined {
  const at = process.argv.indexOf(flag);
  return at < 0 ? undefined : process.argv[at + 1];
}

const socket = arg('--socket');
const image = arg('--image');
const engine = (arg('--engine') ?? 'wasm') as EngineName;
if (!socket || !image || (engine !== 'wasm' && engine !== 'ts')) {
  console.error('usage: blk-serve.ts --socket PATH --image PATH --engine wasm|ts [--device MODULE]');
  process.exit(2);
}
const deviceModule = arg('--device');
const url = deviceModule ? pathToFileURL(resolve(deviceModule)).href : new URL('./blk-device.ts', import.meta.url).href;
const { default: createDevice } = (await import(url)) as { default: (image: string) => VhostUserDevice };

const backend = new VhostUserBackend(socket, () => createDevice(image), {
  engine,
  memSlots: true,
  onError: (error) => console.error(`blk-serve (${engine}): ${error.message}`),
});
await backend.listen();
process.on('SIGTERM', () => {
  backend.close();
  process.exit(0);
});
console.log('ready');
