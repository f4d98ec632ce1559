/** QEMU 7.2 and 10.0 (TCG, SeaBIOS, no guest OS) boot a boot sector served by the TS vhost-user-blk back-end. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BlkBackendDevice, VhostUserBackend, type BackendSession } from '@vhost-user/transport';
import { qmp, serialText, startQemuBlk, waitForMarker, writeBootDisk } from './guest.js';
import { Peer, TempDir } from './peers.js';
import { qemuGenerations } from './qemu-generations.js';

const MARKER = 'VHOST-TS-BOOT';

for (const { label, generation, missing } of qemuGenerations())
  describe.skipIf(!generation)(
    `${label} <-> TS vhost-user-blk back-end${missing ? ` (skipped: ${missing})` : ''}`,
    () => {
      let dir: TempDir;
      let qemu: Peer | undefined;
      let backend: VhostUserBackend | undefined;

      beforeEach(() => {
        dir = new TempDir();
      });
      afterEach(async () => {
        await qemu?.stop();
        backend?.close();
        dir.remove();
      });

      for (const memSlots of [true, false]) {
        it(`SeaBIOS boots sector 0 from the TS back-end (${memSlots ? 'ADD_MEM_REG' : 'SET_MEM_TABLE'})`, async () => {
          const image = dir.file('boot.img');
          writeBootDisk(image, MARKER);
          const sock = dir.file('blk.sock');
          const serial = dir.file('serial.log');
          const qmpPath = dir.file('qmp.sock');
          const errors: Error[] = [];
          const trace: string[] = [];
          const ended: BackendSession[] = [];
          backend = new VhostUserBackend(sock, () => new BlkBackendDevice(image), {
            memoryBytes: 256 << 20,
            memSlots,
            onError: (e) => errors.push(e),
            onSessionEnd: (session) => ended.push(session),
            trace: (req) =>
              trace.push(
                `${req.name.replace('VHOST_USER_', '')} ${JSON.stringify(req.payload, (_, v) => (typeof v === 'bigint' ? `0x${v.toString(16)}` : v))}`,
              ),
          });
          await backend.listen();
          qemu = startQemuBlk(sock, serial, qmpPath, { generation });
          await waitForMarker(qemu, serial, MARKER);
          expect(serialText(serial)).toContain(MARKER);
          // A clean quit: QEMU disables and stops the ring (GET_VRING_BASE), then hangs up.
          await qmp(qmpPath, ['qmp_capabilities', 'quit']);
          await qemu.exited;
          for (let i = 0; i < 100 && ended.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
          if (process.env.VU_TRACE) console.log(trace.join('\n'));
          expect(ended).toHaveLength(1);
          const session = ended[0] as BackendSession;
          expect(session.isOwned).toBe(true);
          // SeaBIOS made requests available and QEMU's GET_VRING_BASE at quit reported how far we got.
          expect(session.ringState(0).base).toBeGreaterThan(0);
          expect(session.ringState(0).started).toBe(false);
          expect(errors).toEqual([]);
        });
      }
    },
  );
