/**
 * A guest for vhost-user-blk sessions without an OS: a raw disk whose sector 0 prints a marker on
 * COM1 and halts, QEMU 7.2 or 10.0 (TCG, q35, SeaBIOS, shared memfd RAM) pointed at a socket, and QMP.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { Peer } from './peers.js';
import type { QemuGeneration } from './qemu-generations.js';

/** 16-bit real-mode code at 0x7c00: write `marker` and a newline to COM1 (0x3f8), then halt. */
export function bootSector(marker: string): Uint8Array {
  const code = [0xba, 0xf8, 0x03]; // mov dx, 0x3f8
  for (const ch of `${marker}\n`) code.push(0xb0, ch.charCodeAt(0), 0xee); // mov al, ch; out dx, al
  code.push(0xfa, 0xf4, 0xeb, 0xfd); // cli; hlt; jmp back to hlt
  const sector = new Uint8Array(512);
  sector.set(code);
  sector[510] = 0x55;
  sector[511] = 0xaa;
  return sector;
}

/** A raw image of `bytes` with the boot sector at sector 0. */
export function writeBootDisk(path: string, marker: string, bytes = 1 << 20): void {
  const disk = new Uint8Array(bytes);
  disk.set(bootSector(marker));
  writeFileSync(path, disk);
}

export interface QemuBlkOptions {
  /** Which QEMU: 7.2 (Debian's, the default) or 10.0 (unpacked beside it). */
  generation?: QemuGeneration;
  /** Guest RAM arguments (-m, memory backends, NUMA nodes). Default: 128 MiB of shared memfd. */
  memory?: string[];
  /** Extra vhost-user-blk-pci properties, e.g. `num-queues=2,packed=on`. */
  deviceProps?: string;
}

const DEFAULT_MEMORY = [
  '-m',
  '128',
  '-object',
  'memory-backend-memfd,id=mem,size=128M,share=on',
  '-numa',
  'node,memdev=mem',
];

/** QEMU with one vhost-user-blk-pci disk at `socket`. */
export function startQemuBlk(socket: string, serial: string, qmpPath: string, options: QemuBlkOptions = {}): Peer {
  const { generation } = options;
  const props = options.deviceProps ? `,${options.deviceProps}` : '';
  const args = [
    '-machine',
    'q35,accel=tcg',
    ...(options.memory ?? DEFAULT_MEMORY),
    '-chardev',
    `socket,id=c0,path=${socket}`,
    '-device',
    `vhost-user-blk-pci,chardev=c0,bootindex=1${props}`,
    '-display',
    'none',
    '-serial',
    `file:${serial}`,
    '-monitor',
    'none',
    '-qmp',
    `unix:${qmpPath},server=on,wait=off`,
    '-nodefaults',
    '-no-user-config',
    ...(generation?.systemArgs ?? []),
  ];
  return new Peer(generation?.system ?? 'qemu-system-x86_64', args, { env: generation?.env });
}

export function serialText(path: string): string {
  return existsSync(path) ? readFileSync(path, 'latin1') : '';
}

/** Waits for `marker` on the serial log; fails early when QEMU exits. */
export async function waitForMarker(qemu: Peer, serial: string, marker: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!serialText(serial).includes(marker)) {
    if (!qemu.running) throw new Error(`QEMU exited before the marker: ${qemu.log}`);
    if (Date.now() > deadline) throw new Error(`no marker on the serial log: ${serialText(serial)}\n${qemu.log}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Sends QMP commands once the greeting arrives; resolves when QEMU closes the connection (after quit). */
export function qmp(path: string, commands: string[]): Promise<string> {
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
    socket.on('error', (error: NodeJS.ErrnoException) =>
      sent && error.code === 'ECONNRESET' ? resolve(log) : reject(error),
    );
    socket.on('close', () => resolve(log));
  });
}
