/** TS front-end <-> qemu-storage-daemon 7.2 and 10.0 (vhost-user-blk export). */
import { openSync, closeSync, ftruncateSync, readFileSync, writeSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ProtocolFeature, VirtioFeature, featureMask, hasFeature } from '@vhost-user/codec';
import { FrontendGuestMemory, VhostUserBlkClient, splitRingFootprint } from '@vhost-user/transport';
import { Peer, TempDir, connectFrontend } from './peers.js';
import { qemuGenerations, type QemuGeneration } from './qemu-generations.js';

const IMAGE_BYTES = 16 << 20;

for (const { label, generation, missing } of qemuGenerations())
  describe.skipIf(!generation)(
    `TS front-end <-> qemu-storage-daemon ${label.replace('QEMU ', '')}${missing ? ` (skipped: ${missing})` : ''}`,
    () => {
      const qemuGen = generation as QemuGeneration;
      let dir: TempDir;
      let qsd: Peer;
      let image: string;
      let sock: string;

      beforeEach(async () => {
        dir = new TempDir();
        image = dir.file('disk.img');
        sock = dir.file('qsd.sock');
        const fd = openSync(image, 'w');
        ftruncateSync(fd, IMAGE_BYTES);
        writeSync(fd, Buffer.from('sector-seven'), 0, 12, 7 * 512);
        closeSync(fd);
        qsd = new Peer(
          qemuGen.storageDaemon,
          [
            '--blockdev',
            `driver=file,node-name=file0,filename=${image}`,
            '--export',
            `type=vhost-user-blk,id=exp0,node-name=file0,addr.type=unix,addr.path=${sock},writable=on`,
          ],
          { env: qemuGen.env },
        );
        await qsd.waitForPath(sock);
        (await connectFrontend(sock)).close(); // listening (qsd serves the next front-end after a hang-up)
      });

      afterEach(async () => {
        await qsd.stop();
        dir.remove();
      });

      it('handshake, GET_CONFIG, ring set-up and GET_VRING_BASE', async () => {
        const fe = await connectFrontend(sock);
        const n = await fe.handshake(featureMask(VirtioFeature.VIRTIO_F_VERSION_1));
        expect(hasFeature(n.offeredFeatures, VirtioFeature.VHOST_USER_F_PROTOCOL_FEATURES)).toBe(true);
        expect(hasFeature(n.protocolFeatures, ProtocolFeature.VHOST_USER_PROTOCOL_F_REPLY_ACK)).toBe(true);
        expect(hasFeature(n.protocolFeatures, ProtocolFeature.VHOST_USER_PROTOCOL_F_CONFIG)).toBe(true);
        expect(await fe.queueCount()).toBeGreaterThanOrEqual(1);
        const config = await fe.getConfig(0, 60);
        const view = new DataView(config.buffer, config.byteOffset, config.byteLength);
        expect(view.getBigUint64(0, true)).toBe(BigInt(IMAGE_BYTES / 512)); // capacity in sectors
        expect(view.getUint32(20, true)).toBe(512); // blk_size
        // A window larger than the device's config: libvhost-user answers with an empty body.
        await expect(fe.getConfig(0, 256)).rejects.toMatchObject({ code: 'EMPTY_REPLY' });

        const memory = new FrontendGuestMemory({ size: 1 << 20 });
        await fe.setFeatures();
        await fe.setMemory(memory);
        const f = splitRingFootprint(64);
        const ring = {
          index: 0,
          size: 64,
          descAddr: memory.allocate(f.desc[0], 4096),
          availAddr: memory.allocate(f.avail[0], 2),
          usedAddr: memory.allocate(f.used[0], 4096),
          base: 5,
        };
        await fe.startRing(memory, ring);
        // Nothing was made available: the back-end stops where SET_VRING_BASE put it.
        expect(await fe.stopRing(0)).toBe(5);
        fe.close();
        memory.close();
      });

      it('writes then reads sectors, flushes and gets the id; the data is in the image file', async () => {
        const client = await VhostUserBlkClient.open(sock);
        expect(client.sizeBytes).toBe(IMAGE_BYTES);
        const seven = await client.read(3584, 512);
        expect(Buffer.from(seven.subarray(0, 12)).toString()).toBe('sector-seven');

        const data = new Uint8Array(8 * 512).map((_, i) => (i * 31 + 7) & 0xff);
        await client.write(51200, data);
        expect(Buffer.from(await client.read(51200, 4096)).equals(Buffer.from(data))).toBe(true);
        // Many requests in flight at once.
        const reads = await Promise.all(Array.from({ length: 40 }, (_, i) => client.read((100 + (i % 8)) * 512, 512)));
        reads.forEach((r, i) => expect(r[0]).toBe(data[(i % 8) * 512]));
        await client.flush();
        expect(typeof (await client.getId())).toBe('string');
        const base = await client.stop();
        expect(base).toEqual([1 + 1 + 40 + 1 + 1 + 1]); // every request made available was processed
        client.close();

        const file = readFileSync(image);
        expect(file.subarray(100 * 512, 108 * 512).equals(Buffer.from(data))).toBe(true);
      });
    },
  );
