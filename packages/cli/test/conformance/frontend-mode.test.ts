/**
 * Front-end mode judges what a front-end sent: a fake front-end (the raw probe) plays a session
 * through `runFrontend`, clean or with seeded mistakes, each caught by the case for its rule.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { HEADER, ProtocolFeature, encode, featureMask } from '@vhost-user/codec';
import { FrontendGuestMemory } from '@vhost-user/transport';
import { runFrontend, type FrontendRun } from '../../src/conformance/frontend/runner.js';
import { Probe } from '../../src/conformance/probe.js';
import { DEVICES, Session, type DeviceProfile } from '../../src/conformance/session.js';
import { main } from '../../src/main.js';
import type { Io } from '../../src/io.js';

const dir = mkdtempSync(join(tmpdir(), 'vu-conf-frontend-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

/** Runs the suite in front-end mode while `play` drives it, then hangs up. */
async function session(play: (p: Probe) => Promise<void>): Promise<FrontendRun> {
  const socket = join(dir, `s${n++}.sock`);
  let probe: Probe | undefined;
  const run = runFrontend({ listen: socket, device: 'blk', waitMs: 10_000, onListening: () => undefined });
  probe = await Probe.connect(socket);
  try {
    await play(probe);
  } finally {
    probe.close();
  }
  return run;
}

const outcome = (run: FrontendRun, id: string) => run.results.find((r) => r.id === id);

async function negotiate(p: Probe, protocol: bigint): Promise<void> {
  p.send({ name: 'VHOST_USER_GET_FEATURES', payload: null });
  await p.next();
  p.send({ name: 'VHOST_USER_GET_PROTOCOL_FEATURES', payload: null });
  await p.next();
  p.send({ name: 'VHOST_USER_SET_PROTOCOL_FEATURES', payload: { value: protocol } });
  p.protocolFeatures = protocol;
}

describe('conformance --frontend', () => {
  it('a clean front-end session passes every case it exercises', async () => {
    const memory = new FrontendGuestMemory({ size: 1 << 20, guestBase: 0 });
    try {
      const run = await session(async (p) => {
        await negotiate(
          p,
          featureMask(
            ProtocolFeature.VHOST_USER_PROTOCOL_F_REPLY_ACK,
            ProtocolFeature.VHOST_USER_PROTOCOL_F_CONFIGURE_MEM_SLOTS,
          ),
        );
        p.send({ name: 'VHOST_USER_GET_MAX_MEM_SLOTS', payload: null });
        await p.next();
        p.send({ name: 'VHOST_USER_SET_OWNER', payload: null }, { needReply: true });
        await p.next();
        p.send(
          { name: 'VHOST_USER_ADD_MEM_REG', payload: { region: memory.memoryRegion } },
          { needReply: true, fds: [memory.fd] },
        );
        await p.next();
      });
      expect(run.results.filter((r) => r.outcome === 'fail').map((r) => `${r.id}: ${r.detail}`)).toEqual([]);
      for (const id of [
        'header/need-reply-only-with-reply-ack',
        'fds/ADD_MEM_REG',
        'memory/slots-respected',
        'gating/ADD_MEM_REG',
        'features/set-protocol-features-offered-only',
      ])
        expect(outcome(run, id)?.outcome, id).toBe('pass');
      expect(outcome(run, 'memory/ring-addresses-in-regions')?.outcome).toBe('skip');
    } finally {
      memory.close();
    }
  });

  it('catches seeded mistakes, each with the case for its rule', async () => {
    const a = new FrontendGuestMemory({ size: 1 << 20, guestBase: 0 });
    const b = new FrontendGuestMemory({ size: 1 << 20, guestBase: 1 << 19 }); // overlaps a
    try {
      // The TS back-end closes on a malformed header, so the header mistakes end the first session.
      const first = await session(async (p) => {
        // need_reply before REPLY_ACK; GET_QUEUE_NUM before MQ.
        p.send({ name: 'VHOST_USER_GET_FEATURES', payload: null }, { needReply: true });
        await p.next();
        p.send({ name: 'VHOST_USER_GET_QUEUE_NUM', payload: null });
        await p.next();
        // A request with the reply flag and a reserved bit.
        const bytes = encode('frontend', { name: 'VHOST_USER_GET_FEATURES', payload: null });
        new DataView(bytes.buffer).setUint32(HEADER.flagsOffset, HEADER.version | HEADER.replyFlag | 0x10, true);
        p.sendRaw(bytes);
        await p.next(300);
      });
      const run = await session(async (p) => {
        // Protocol bits never offered (bit 63); then overlapping regions, one without its fd, before SET_OWNER.
        await negotiate(p, featureMask(ProtocolFeature.VHOST_USER_PROTOCOL_F_CONFIGURE_MEM_SLOTS, 63));
        p.send(
          { name: 'VHOST_USER_SET_MEM_TABLE', payload: { regions: [a.memoryRegion, b.memoryRegion] } },
          { fds: [a.fd] },
        );
        p.send({ name: 'VHOST_USER_SET_OWNER', payload: null });
        await p.next(300);
      });
      const failed = new Set([...first.results, ...run.results].filter((r) => r.outcome === 'fail').map((r) => r.id));
      for (const id of [
        'header/need-reply-only-with-reply-ack',
        'gating/GET_QUEUE_NUM',
        'header/no-reply-flag-on-requests',
        'header/reserved-bits-zero',
        'features/set-protocol-features-offered-only',
        'memory/no-overlaps',
        'fds/SET_MEM_TABLE',
        'order/set-owner-once-before-memory-and-rings',
      ])
        expect(failed.has(id), id).toBe(true);
      expect(outcome(first, 'header/version')?.outcome).toBe('pass');
      expect(outcome(run, 'memory/no-overlaps')?.detail).toMatch(/guest 0x0 and 0x80000 overlap/);
    } finally {
      a.close();
      b.close();
    }
  });

  it('flags a kick sent right after SET_VRING_ENABLE without REPLY_ACK and without a barrier', async () => {
    /** Sets a ring up without REPLY_ACK (barriers between steps), enables it, and kicks. */
    const play = (barrier: boolean) =>
      session(async (p) => {
        const s = new Session(p, DEVICES.generic as DeviceProfile, 2000);
        await s.handshake({ protocol: 0n });
        await s.setFeatures();
        await s.shareMemory();
        const ring = await s.setupRing(0);
        if (barrier) await s.enable(0);
        else p.send({ name: 'VHOST_USER_SET_VRING_ENABLE', payload: { index: 0, num: 1 } });
        ring.kick?.signal();
        await new Promise((r) => setTimeout(r, 200)); // the kick reaches the recorder
        await s.barrier('the kick');
      });
    const hasty = await play(false);
    expect(outcome(hasty, 'rings/kick-after-enable-waits')?.outcome).toBe('fail');
    expect(outcome(hasty, 'rings/kick-after-enable-waits')?.detail).toMatch(
      /SET_VRING_ENABLE ring 0 was followed by a kick before a GET_FEATURES barrier came back \(no REPLY_ACK\)/,
    );
    const patient = await play(true);
    expect(outcome(patient, 'rings/kick-after-enable-waits')?.outcome).toBe('pass');
  });

  it('is reached through main(): --list, and usage errors without --listen', async () => {
    const lines: string[] = [];
    const io: Io = { out: (t) => lines.push(t), err: (t) => lines.push(t), colour: false, cwd: process.cwd() };
    expect(await main(['conformance', '--frontend', '--list', '--format', 'json'], io)).toBe(0);
    const cases = JSON.parse(lines.join('')) as { id: string; derivedFrom?: string }[];
    expect(cases.find((c) => c.id === 'fds/ADD_MEM_REG')?.derivedFrom).toBe('messages: VHOST_USER_ADD_MEM_REG.fds');
    expect(cases.find((c) => c.id === 'features/protocol-features-need-offer')?.derivedFrom).toBe(
      'rules.preconditions: protocol-features-need-offer',
    );
    expect(await main(['conformance', '--frontend'], io)).toBe(2);
    expect(await main(['conformance', '--frontend', '--listen', 'x', '--device', 'gpu'], io)).toBe(2);
  });
});
