/**
 * `vhost-user trace` between QEMU and qemu-storage-daemon (7.2 and 10.0) while SeaBIOS boots a boot sector
 * through it: the session works through the proxy (bytes and fds forwarded unchanged), and every
 * message is shown once, decoded, with no violation flagged for this clean session.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { main } from '../../packages/cli/src/main.js';
import type { Io } from '../../packages/cli/src/io.js';
import { Peer, TempDir } from '../interop/peers.js';
import { qemuGenerations, type QemuGeneration } from '../interop/qemu-generations.js';
import { qmp, serialText, startQemuBlk, waitForMarker, writeBootDisk } from '../interop/guest.js';

const MARKER = 'TRACED-BOOT-OK';

function capture(): Io & { lines: string[] } {
  const lines: string[] = [];
  return {
    lines,
    out: (t) => lines.push(...t.split('\n')),
    err: (t) => lines.push(`stderr: ${t}`),
    colour: false,
    cwd: process.cwd(),
  };
}

for (const { label, generation, missing } of qemuGenerations())
  describe.skipIf(!generation)(
    `vhost-user trace: ${label} -> trace -> qemu-storage-daemon (same generation)${missing ? ` (skipped: ${missing})` : ''}`,
    () => {
      const qemuGen = generation as QemuGeneration;
      let dir: TempDir;
      let qsd: Peer | undefined;
      let qemu: Peer | undefined;

      beforeEach(() => {
        dir = new TempDir();
      });
      afterEach(async () => {
        await qemu?.stop();
        await qsd?.stop();
        dir.remove();
      });

      /** Boots the guest through `vhost-user trace <extra>` (in-process, --once) and returns its exit code and output. */
      async function tracedBoot(extra: string[]): Promise<{ code: number; io: ReturnType<typeof capture> }> {
        const image = dir.file('disk.img');
        writeBootDisk(image, MARKER, 16 << 20);
        const backend = dir.file('qsd.sock');
        const proxy = dir.file('proxy.sock');
        qsd = new Peer(
          qemuGen.storageDaemon,
          [
            '--blockdev',
            `driver=file,node-name=file0,filename=${image}`,
            '--export',
            `type=vhost-user-blk,id=exp0,node-name=file0,addr.type=unix,addr.path=${backend},writable=on`,
          ],
          { env: qemuGen.env },
        );
        await qsd.waitForPath(backend);
        const io = capture();
        const traced = main(['trace', '--listen', proxy, '--connect', backend, '--once', ...extra], io);
        await new Promise((r) => setTimeout(r, 50)); // the listener is bound synchronously; let main() reach it
        const serial = dir.file('serial.log');
        const qmpPath = dir.file('qmp.sock');
        qemu = startQemuBlk(proxy, serial, qmpPath, { generation: qemuGen });
        await waitForMarker(qemu, serial, MARKER);
        await qmp(qmpPath, ['qmp_capabilities', 'quit']);
        await qemu.exited;
        const code = await traced;
        expect(serialText(serial)).toContain(MARKER);
        return { code, io };
      }

      it('boots through the tracer and shows every message once, decoded, without violations', async () => {
        const { code, io } = await tracedBoot([]);
        if (process.env.VU_TRACE) console.log(io.lines.join('\n'));
        const lines = io.lines.filter((l) => /^\s+\d+\.\d{3} /.test(l));
        const text = io.lines.join('\n');
        expect(text).not.toContain('!!');
        expect(text).not.toContain('undecodable');
        expect(code).toBe(0);
        const parsed = lines.map((l) => {
          const m = /^\s+(\d+\.\d{3}) (\S+)\s+(\S+) (request|reply|ack) \[([^\]]*)\] size=(\d+).* fds=(\d+)$/.exec(l);
          expect(m, l).not.toBeNull();
          const [, time, direction, name, kind, flags, , fds] = m as RegExpExecArray;
          return { time: Number(time), direction, name, kind, flags, fds: Number(fds) };
        });
        // QEMU's opening and closing messages, in order.
        expect(parsed[0]).toMatchObject({
          direction: 'front>back',
          name: 'GET_FEATURES',
          kind: 'request',
          flags: 'v1',
          fds: 0,
        });
        expect(parsed[1]).toMatchObject({
          direction: 'back>front',
          name: 'GET_FEATURES',
          kind: 'reply',
          flags: 'v1 REPLY',
          fds: 0,
        });
        const requests = parsed.filter((p) => p.kind === 'request' && p.direction === 'front>back');
        const names = requests.map((p) => p.name);
        expect(names.slice(0, 3)).toEqual(['GET_FEATURES', 'GET_PROTOCOL_FEATURES', 'SET_PROTOCOL_FEATURES']);
        expect(names.at(-1)).toBe('GET_VRING_BASE');
        // Memory goes as ADD_MEM_REG (qsd offers CONFIGURE_MEM_SLOTS), each with its region's fd.
        const memory = requests.filter((p) => p.name === 'ADD_MEM_REG');
        expect(memory.length).toBeGreaterThan(0);
        for (const m of memory) expect(m.fds).toBe(1);
        for (const name of ['SET_VRING_KICK', 'SET_VRING_CALL', 'SET_BACKEND_REQ_FD'])
          expect(requests.find((p) => p.name === name)?.fds, name).toBe(1);
        // One line per message: every request QEMU expects an answer to is followed by exactly one reply.
        for (const name of [
          'GET_FEATURES',
          'GET_PROTOCOL_FEATURES',
          'GET_QUEUE_NUM',
          'GET_CONFIG',
          'GET_VRING_BASE',
          'GET_MAX_MEM_SLOTS',
        ]) {
          const asked = requests.filter((p) => p.name === name).length;
          const answered = parsed.filter((p) => p.name === name && p.kind === 'reply').length;
          expect(asked, name).toBeGreaterThan(0);
          expect(answered, name).toBe(asked);
        }
        const needReply = requests.filter((p) => p.flags?.includes('NEED_REPLY'));
        expect(needReply.length).toBeGreaterThan(0);
        expect(parsed.filter((p) => p.kind === 'ack').length).toBe(needReply.length);
        // Times are seconds since the tracer started, non-decreasing.
        for (let i = 1; i < parsed.length; i++)
          expect((parsed[i] as { time: number }).time).toBeGreaterThanOrEqual((parsed[i - 1] as { time: number }).time);
      }, 60_000);

      it('--json prints one parseable object per message and --filter keeps only the named messages', async () => {
        const { code, io } = await tracedBoot(['--json', '--filter', 'add_mem_reg,VHOST_USER_GET_VRING_BASE']);
        expect(code).toBe(0);
        const records = io.lines
          .filter((l) => l.trim() !== '')
          .map(
            (l) =>
              JSON.parse(l) as {
                name: string;
                direction: string;
                kind: string;
                fds: number;
                violations: string[];
                payload: Record<string, unknown>;
              },
          );
        expect(new Set(records.map((r) => r.name))).toEqual(
          new Set(['VHOST_USER_ADD_MEM_REG', 'VHOST_USER_GET_VRING_BASE']),
        );
        for (const r of records) expect(r.violations).toEqual([]);
        const add = records.find((r) => r.name === 'VHOST_USER_ADD_MEM_REG' && r.kind === 'request');
        expect(add).toMatchObject({ direction: 'front>back', fds: 1 });
        expect(add?.payload).toHaveProperty('region');
        const base = records.filter((r) => r.name === 'VHOST_USER_GET_VRING_BASE' && r.kind === 'reply');
        expect(base).toHaveLength(1);
        // SeaBIOS read sector 0 (and more): the ring moved, and the stopped position says so.
        expect((base[0]?.payload as { num: number }).num).toBeGreaterThan(0);
      }, 60_000);
    },
  );
