/** QEMU 7.2 (TCG, SeaBIOS, no guest OS) boots a boot sector served by the TS vhost-user-blk back-end. */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BlkBackendDevice, VhostUserBackend, type BackendSession } from '@vhost-user/transport';
import { APT_QEMU, Peer, TempDir, missingPeer } from './peers.js';

const skip = missingPeer(['qemu-system-x86_64'], APT_QEMU);
const MARKER = 'VHOST-TS-BOOT';

/** 16-bit real-mode code at 0x7c00: print MARKER on COM1, then halt. */
function bootSector(): Uint8Array {
  const code = [0xba, 0xf8, 0x03]; // mov dx, 0x3f8
  for (const ch of `${MARKER}\n`) code.push(0xb0, ch.charCodeAt(0), 0xee); // mov al, ch; out dx, al
  code.push(0xfa, 0xf4, 0xeb, 0xfd); // cli; hlt; jmp $-1
  const sector = new Uint8Array(512);
  sector.set(code);
  sector[510] = 0x55;
  sector[511] = 0xaa;
  return sector;
}

/** Sends QMP commands and resolves when the connection closes (after quit). */
function qmp(path: string, commands: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(path);
    let log = '';
    let sent = false;
    socket.on('data', (d) => {
      log += d.toString();
      if (!sent && log.includes('QMP')) {
        sent = true;
        for (const c of commands) socket.write(`${JSON.stringify({ execute: c })}\n`);
      }
    });
    // QEMU may reset the connection as it exits after quit.
    socket.on('error', (error: NodeJS.ErrnoException) => (sent && error.code === 'ECONNRESET' ? resolve(log) : reject(error)));
    socket.on('close', () => resolve(log));
  });
}

describe.skipIf(skip !== undefined)('QEMU <-> TS vhost-user-blk back-end', () => {
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
      const disk = new Uint8Array(1 << 20);
      disk.set(bootSector());
      writeFileSync(image, disk);
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
        trace: (req) => trace.push(`${req.name.replace('VHOST_USER_', '')} ${JSON.stringify(req.payload, (_, v) => (typeof v === 'bigint' ? `0x${v.toString(16)}` : v))}`),
      });
      qemu = new Peer('qemu-system-x86_64', [
        '-machine', 'q35,accel=tcg', '-m', '128',
        '-object', 'memory-backend-memfd,id=mem,size=128M,share=on', '-numa', 'node,memdev=mem',
        '-chardev', `socket,id=c0,path=${sock}`, '-device', 'vhost-user-blk-pci,chardev=c0,bootindex=1',
        '-display', 'none', '-serial', `file:${serial}`, '-monitor', 'none', '-qmp', `unix:${qmpPath},server=on,wait=off`,
        '-nodefaults', '-no-user-config',
      ]);
      const deadline = Date.now() + 20_000;
      while (!(existsSync(serial) && readFileSync(serial, 'latin1').includes(MARKER))) {
        if (!qemu.running) throw new Error(`QEMU exited: ${qemu.log}`);
        if (Date.now() > deadline) throw new Error(`no marker on the serial log: ${existsSync(serial) ? readFileSync(serial, 'latin1') : ''}\n${qemu.log}`);
        await new Promise((r) => setTimeout(r, 20));
      }
      expect(readFileSync(serial, 'latin1')).toContain(MARKER);
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
});
