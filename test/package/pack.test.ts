/**
 * The published shape of every package a user installs: each one is packed with `npm pack`,
 * installed from its tarball into a new project outside the repository, type-checked there under
 * strict NodeNext, and run with plain Node (no TypeScript loader, no access to the workspace).
 */
import { cpSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO, Tarballs } from './tarball.js';

const tarballs = new Tarballs();
afterAll(() => tarballs.dispose());

const LONG = 600_000;

/** Every tarball ships compiled code with declarations and source maps that resolve. */
function expectPublishedShape(listing: string[], entry: string): void {
  expect(listing).toContain(`package/dist/${entry}.js`);
  expect(listing).toContain(`package/dist/${entry}.d.ts`);
  expect(listing).toContain(`package/dist/${entry}.js.map`);
  // Nothing a user does not need: no tests, benchmarks or build folders.
  expect(listing.filter((f) => /^package\/(test|bench|build)\//.test(f))).toEqual([]);
}

describe('@vhost-user/codec tarball', () => {
  it(
    'installs into a new project, type-checks, encodes and decodes',
    () => {
      const listing = tarballs.listing('@vhost-user/codec');
      expectPublishedShape(listing, 'index');
      expect(listing).toContain('package/dist/generated/payloads.js');
      // The sources the maps and the "@vhost-user/source" condition point at are shipped.
      expect(listing).toContain('package/src/index.ts');

      const app = tarballs.app('codec-app', ['@vhost-user/codec'], {
        'index.ts': `
import { decode, encode, FrontendRequest, ProtocolFeature, protocolFeatureNames, VhostUserError, type DecodedMessage } from '@vhost-user/codec';

const bytes: Uint8Array = encode('frontend', { name: 'VHOST_USER_SET_VRING_NUM', payload: { index: 0, num: 256 } });
const msg: DecodedMessage<'frontend'> = decode('frontend', bytes);
if (msg.kind !== 'request' || msg.name !== 'VHOST_USER_SET_VRING_NUM') throw new Error('wrong message');
const num: number = msg.payload.num;
let code = '';
try {
  decode('frontend', bytes.subarray(0, 5));
} catch (error) {
  if (error instanceof VhostUserError) code = error.code;
}
console.log(JSON.stringify({ id: FrontendRequest.VHOST_USER_SET_VRING_NUM, num, code, names: protocolFeatureNames(1n << BigInt(ProtocolFeature.VHOST_USER_PROTOCOL_F_SHMEM)) }));
`,
      });
      app.typecheck();
      expect(JSON.parse(app.node('out/index.js'))).toEqual({
        id: 8,
        num: 256,
        code: 'TRUNCATED',
        names: ['VHOST_USER_PROTOCOL_F_SHMEM'],
      });
    },
    LONG,
  );
});

describe('@vhost-user/vring tarball', () => {
  it(
    'runs a driver/device round trip on the WebAssembly core',
    () => {
      const listing = tarballs.listing('@vhost-user/vring');
      expectPublishedShape(listing, 'index');
      expect(listing).toContain('package/wasm/build/vring-core.wasm');

      const app = tarballs.app('vring-app', ['@vhost-user/vring'], {
        'index.ts': `
import { GuestMemory, VirtqueueDevice, VirtqueueDriver, type ChainFiller, type ChainHandler, type CompletionFolder, type QueueOptions } from '@vhost-user/vring';

const GPA = 0x100000;
const guest = GuestMemory.create({ guestBytes: 1 << 20, scratchBytes: 1 << 20 });
guest.setRegions([{ gpa: GPA, size: 1 << 20, offset: guest.scratchEnd }]);
const at = (gpa: number) => guest.scratchEnd + (gpa - GPA);
const options: QueueOptions = {
  memory: guest, layout: 'split', engine: 'wasm', queueSize: 8, batch: 8,
  desc: GPA, driverArea: GPA + 0x1000, deviceArea: GPA + 0x2000,
};
const driver = new VirtqueueDriver(options);
const device = new VirtqueueDevice(options);

const REQUEST = GPA + 0x10000;
const REPLY = GPA + 0x20000;
const filler: ChainFiller = {
  fill() { guest.view.setUint32(at(REQUEST), 41, true); },
  address(_chain, k) { return k === 0 ? REQUEST : REPLY; },
  length() { return 4; },
  flags(_chain, k) { return k === 0 ? 0 : 2; },
};
if (driver.submit(1, 2, filler) !== 1) throw new Error('submit refused');

const handler: ChainHandler = {
  serve(_id, readAt, _readLength, writeAt) {
    guest.view.setUint32(writeAt, guest.view.getUint32(readAt, true) + 1, true);
    return 4;
  },
};
const served = device.serve(handler, 8);
const folder: CompletionFolder<number> = { complete: (acc, _id, length) => acc + length };
const lengths = driver.reclaimFold(folder, 0);
console.log(JSON.stringify({ served, lengths, answer: guest.view.getUint32(at(REPLY), true) }));
`,
      });
      app.typecheck();
      expect(JSON.parse(app.node('out/index.js'))).toEqual({ served: 1, lengths: 4, answer: 42 });
    },
    LONG,
  );
});

const TRANSPORT_APP = `
import { MemorySpace, closeFds, native } from '@vhost-user/transport';

// A message with an fd over a socket pair (SCM_RIGHTS) ...
const [a, b] = native.socketpair();
const memfd = native.memfdCreate('guest', 1 << 20);
const sent = native.sendmsg(a, new Uint8Array([1, 2, 3, 4]), [memfd]);
const got = native.recvmsg(b, new Uint8Array(16));
if (!got || got.fds.length !== 1) throw new Error('no fd arrived');
const theirs = got.fds[0] as number;

// ... whose memory is then mapped into the WebAssembly.Memory that queues run on.
const space = new MemorySpace({ bytes: 8 << 20, reservedBytes: 64 << 10 });
const range = space.mapFile(theirs, 0, 1 << 20);
const mine = new Uint8Array(native.mmap(memfd, 0, 1 << 20, true));
mine[0x1234] = 0x5a;
const seen = space.bytes[range.memOffset + 0x1234];
space.bytes[range.memOffset + 0x10] = 0xa5;
const back = mine[0x10];
native.munmap(mine.buffer as ArrayBuffer);
space.unmap(range);
closeFds([a, b, memfd, theirs]);
console.log(JSON.stringify({ sent, bytes: got.bytes, seen, back }));
`;
const TRANSPORT_RESULT = { sent: 4, bytes: 4, seen: 0x5a, back: 0xa5 };

describe('@vhost-user/transport tarball', () => {
  it(
    'ships a prebuilt addon and the sources to build one, and nothing of the packer machine',
    () => {
      const listing = tarballs.listing('@vhost-user/transport');
      expectPublishedShape(listing, 'index');
      expect(listing.some((f) => /^package\/prebuilds\/linux-x64\/.+\.node$/.test(f))).toBe(true);
      expect(listing).toContain('package/native/addon.c');
      expect(listing).toContain('package/binding.gyp');
    },
    LONG,
  );

  it(
    'passes an fd over a socket pair and maps the memfd into a queue memory',
    () => {
      const app = tarballs.app('transport-app', ['@vhost-user/transport'], { 'index.ts': TRANSPORT_APP });
      app.typecheck();
      expect(JSON.parse(app.node('out/index.js'))).toEqual(TRANSPORT_RESULT);
    },
    LONG,
  );

  it(
    'works with --ignore-scripts: the prebuilt binary loads',
    () => {
      const app = tarballs.app(
        'transport-noscripts',
        ['@vhost-user/transport'],
        { 'index.ts': TRANSPORT_APP },
        { ignoreScripts: true },
      );
      app.typecheck();
      expect(JSON.parse(app.node('out/index.js'))).toEqual(TRANSPORT_RESULT);
    },
    LONG,
  );
});

describe('@vhost-user/cli tarball', () => {
  it(
    'installs the vhost-user command: --help, decode, and lint --spec on a copied spec folder',
    () => {
      const listing = tarballs.listing('@vhost-user/cli');
      expect(listing).toContain('package/bin/vhost-user.mjs');
      expect(listing).toContain('package/dist/main.js');
      expect(listing).toContain('package/dist/conformance/expectations/qemu-7.2-frontend.yaml');
      expect(listing.filter((f) => f.startsWith('package/src/'))).toEqual([]);

      const app = tarballs.app('cli-app', ['@vhost-user/cli'], {});
      expect(app.bin('vhost-user', ['--help'])).toContain('vhost-user conformance');
      // SET_VRING_NUM { index 0, num 256 }, as a user would paste it.
      expect(app.bin('vhost-user', ['decode', '08000000 01000000 08000000 00000000 00010000'])).toContain(
        'SET_VRING_NUM',
      );
      const spec = join(app.dir, 'my-spec');
      cpSync(join(REPO, 'spec'), spec, { recursive: true });
      expect(app.bin('vhost-user', ['lint', '--spec', spec])).toContain('spec lint clean');
      expect(app.bin('vhost-user', ['conformance', '--list'])).toContain('MUST');
    },
    LONG,
  );
});
