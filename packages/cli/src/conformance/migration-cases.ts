/**
 * Cases for restart and migration features, each run only against a back-end that offers the
 * feature: inflight tracking, dirty logging, RESET_DEVICE and status, device state transfer.
 * Levels follow upstream: where its text describes behaviour without a MUST, the case is a SHOULD.
 */
import {
  MigrationPhase,
  ProtocolFeature,
  TransferDirection,
  VHOST_LOG_PAGE,
  VirtioFeature,
  featureMask,
  hasFeature,
} from '@vhost-user/codec';
import { closeFds, native } from '@vhost-user/transport';
import type { ConformanceCase } from './model.js';
import { CaseFailure, CaseSkipped, SUITE_PROTOCOL_FEATURES, replyOrFail, type Session } from './session.js';

async function openWith(s: Session, bit: number, what: string): Promise<void> {
  await s.handshake({ protocol: SUITE_PROTOCOL_FEATURES | featureMask(bit) });
  s.requireProtocol(bit, what);
}

export function migrationCases(): ConformanceCase[] {
  return [
    {
      id: 'inflight/get-inflight-fd-returns-buffer',
      section: 'inflight',
      anchor: 'inflight.html#obtaining-and-restoring-the-buffer',
      level: 'SHOULD',
      title: 'GET_INFLIGHT_FD is answered with the completed description and one fd',
      async run(ctx) {
        const s = await ctx.open();
        await openWith(s, ProtocolFeature.VHOST_USER_PROTOCOL_F_INFLIGHT_SHMFD, 'INFLIGHT_SHMFD');
        await s.setFeatures();
        s.probe.send({
          name: 'VHOST_USER_GET_INFLIGHT_FD',
          payload: { mmapSize: 0n, mmapOffset: 0n, numQueues: 1, queueSize: 128 },
        });
        const r = await s.probe.next(ctx.timeoutMs);
        const fds = r.kind === 'message' ? r.fds.length : 0;
        const reply = replyOrFail(r, 'VHOST_USER_GET_INFLIGHT_FD');
        const p = reply.payload as { mmapSize: bigint; numQueues: number; queueSize: number } | null;
        if (!p) throw new CaseFailure('GET_INFLIGHT_FD was answered with an empty body');
        if (p.mmapSize === 0n) throw new CaseFailure('the back-end answered mmap_size 0 (no buffer)');
        if (fds !== 1) throw new CaseFailure(`the reply carries ${fds} fds, not 1`);
        if (p.numQueues !== 1 || p.queueSize !== 128)
          throw new CaseFailure(`the reply describes ${p.numQueues} queues of ${p.queueSize}, not 1 of 128`);
      },
    },
    {
      id: 'migration/set-log-base-answered',
      section: 'migration',
      anchor: 'migration.html#passing-the-log',
      level: 'SHOULD',
      title: 'With LOG_SHMFD, SET_LOG_BASE is answered with its own code once the log is mapped',
      async run(ctx) {
        const s = await ctx.open();
        await openWith(s, ProtocolFeature.VHOST_USER_PROTOCOL_F_LOG_SHMFD, 'LOG_SHMFD');
        const log = native.memfdCreate('conformance-log', 4096);
        try {
          await s.query(
            { name: 'VHOST_USER_SET_LOG_BASE', payload: { mmapSize: 4096n, mmapOffset: 0n } },
            { fds: [log] },
          );
        } finally {
          closeFds([log]);
        }
      },
    },
    {
      id: 'migration/log-marks-device-writes',
      section: 'migration',
      anchor: 'migration.html#turning-logging-on-and-off',
      level: 'SHOULD',
      title: 'While VHOST_F_LOG_ALL is on, the page of a buffer the device wrote is marked in the log',
      async run(ctx) {
        const s = await ctx.open();
        await openWith(s, ProtocolFeature.VHOST_USER_PROTOCOL_F_LOG_SHMFD, 'LOG_SHMFD');
        if (!hasFeature(s.offer?.features ?? 0n, VirtioFeature.VHOST_F_LOG_ALL))
          throw new CaseSkipped('the peer does not offer VHOST_F_LOG_ALL');
        const device = s.requireDataPath();
        const features = await s.setFeatures();
        if (!hasFeature(features, VirtioFeature.VHOST_F_LOG_ALL)) throw new CaseSkipped('VHOST_F_LOG_ALL not acked');
        const memory = await s.shareMemory();
        const logBytes = Math.ceil(memory.size / VHOST_LOG_PAGE / 8);
        const log = native.memfdCreate('conformance-log', logBytes);
        const bits = new Uint8Array(native.mmap(log, 0, logBytes, true));
        try {
          await s.query(
            { name: 'VHOST_USER_SET_LOG_BASE', payload: { mmapSize: BigInt(logBytes), mmapOffset: 0n } },
            { fds: [log] },
          );
          const ring = await s.setupRing(device.queue);
          await s.enable(device.queue);
          const { marker, usedBefore } = s.submit(ring);
          if (!marker) throw new CaseSkipped(`the ${device.name} request has no buffer the device writes`);
          if (!(await s.waitUsed(ring, usedBefore, ctx.timeoutMs)))
            throw new CaseFailure('the request was not used, so nothing could be logged');
          const page = Math.floor(marker.addr / VHOST_LOG_PAGE);
          if (!((bits[page >>> 3] ?? 0) & (1 << (page & 7))))
            throw new CaseFailure(
              `page ${page} (guest address 0x${marker.addr.toString(16)}) was written but not logged`,
            );
        } finally {
          native.munmap(bits.buffer as ArrayBuffer);
          closeFds([log]);
        }
      },
    },
    {
      id: 'reset/reset-device-keeps-session',
      section: 'reset',
      anchor: 'frontend-messages.html#vhost_user_reset_device',
      level: 'SHOULD',
      title: 'After RESET_DEVICE the session stays, and GET_STATUS (if offered) reads 0',
      async run(ctx) {
        const s = await ctx.open();
        await openWith(s, ProtocolFeature.VHOST_USER_PROTOCOL_F_RESET_DEVICE, 'RESET_DEVICE');
        await s.setFeatures();
        const status = hasFeature(s.protocolFeatures, ProtocolFeature.VHOST_USER_PROTOCOL_F_STATUS);
        if (status) await s.ack({ name: 'VHOST_USER_SET_STATUS', payload: { value: 0x0fn } });
        await s.ack({ name: 'VHOST_USER_RESET_DEVICE', payload: null });
        await s.barrier('RESET_DEVICE');
        if (status) {
          const reply = await s.query({ name: 'VHOST_USER_GET_STATUS', payload: null });
          const value = (reply.payload as { value: bigint }).value;
          if (value !== 0n) throw new CaseFailure(`GET_STATUS reads 0x${value.toString(16)} after RESET_DEVICE`);
        }
      },
    },
    {
      id: 'device-state/unknown-phase-refused',
      section: 'device-state',
      anchor: 'device-state.html#parameters',
      level: 'MUST',
      title: 'SET_DEVICE_STATE_FD with an unknown phase is answered with an error and no fd',
      async run(ctx) {
        const s = await ctx.open();
        await openWith(s, ProtocolFeature.VHOST_USER_PROTOCOL_F_DEVICE_STATE, 'DEVICE_STATE');
        const [ours, theirs] = native.socketpair();
        try {
          s.probe.send(
            {
              name: 'VHOST_USER_SET_DEVICE_STATE_FD',
              payload: {
                direction: TransferDirection.VHOST_TRANSFER_STATE_DIRECTION_SAVE,
                phase: MigrationPhase.VHOST_TRANSFER_STATE_PHASE_STOPPED + 99,
              },
            },
            { fds: [theirs] },
          );
          const r = await s.probe.next(ctx.timeoutMs);
          const fds = r.kind === 'message' ? r.fds.length : 0;
          const reply = replyOrFail(r, 'VHOST_USER_SET_DEVICE_STATE_FD');
          const value = (reply.payload as { value: bigint } | null)?.value;
          if (value === undefined) return; // an empty body is a refusal too
          if ((value & 0xffn) === 0n) throw new CaseFailure('an unknown transfer phase was accepted');
          if (fds !== 0) throw new CaseFailure('an error reply came with an fd');
        } finally {
          closeFds([ours, theirs]);
        }
      },
    },
  ];
}
