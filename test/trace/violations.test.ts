/**
 * The tracer flags spec violations as it sees them: a fake front-end (the conformance probe, which
 * sends whatever it is told) talks to the TS back-end through the tracer and breaks the rules.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ProtocolFeature, featureMask } from '@vhost-user/codec';
import { BlkBackendDevice, VhostUserBackend } from '@vhost-user/transport';
import { Probe } from '../../packages/cli/src/conformance/probe.js';
import { startTrace, type Tracer } from '../../packages/cli/src/trace/proxy.js';

describe('vhost-user trace: violations and --filter on a fake front-end', () => {
  let dir: string;
  let backend: VhostUserBackend;
  let tracer: Tracer | undefined;
  let probe: Probe | undefined;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'vu-trace-'));
    writeFileSync(join(dir, 'disk.img'), Buffer.alloc(1 << 20));
    backend = new VhostUserBackend(join(dir, 'blk.sock'), () => new BlkBackendDevice(join(dir, 'disk.img')), {
      memoryBytes: 16 << 20,
    });
    await backend.listen();
  });
  afterEach(() => {
    probe?.close();
    tracer?.close();
    backend.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function traced(
    options: { json?: boolean; filter?: string[] } = {},
  ): Promise<{ lines: string[]; probe: Probe; tracer: Tracer }> {
    const lines: string[] = [];
    tracer = startTrace({
      listen: join(dir, 'trace.sock'),
      connect: join(dir, 'blk.sock'),
      out: (l) => lines.push(l),
      ...options,
    });
    probe = await Probe.connect(join(dir, 'trace.sock'));
    return { lines, probe, tracer };
  }

  it('flags a message sent before its protocol feature was negotiated, and only that one', async () => {
    const { lines, probe: p, tracer: t } = await traced({ json: true });
    p.send({ name: 'VHOST_USER_GET_FEATURES', payload: null });
    expect((await p.next()).kind).toBe('message');
    // Seeded: GET_QUEUE_NUM needs MQ, and no SET_PROTOCOL_FEATURES has been sent yet.
    p.send({ name: 'VHOST_USER_GET_QUEUE_NUM', payload: null });
    expect((await p.next()).kind).toBe('message');
    p.send({ name: 'VHOST_USER_GET_PROTOCOL_FEATURES', payload: null });
    await p.next();
    p.send({
      name: 'VHOST_USER_SET_PROTOCOL_FEATURES',
      payload: { value: featureMask(ProtocolFeature.VHOST_USER_PROTOCOL_F_MQ) },
    });
    p.protocolFeatures = featureMask(ProtocolFeature.VHOST_USER_PROTOCOL_F_MQ);
    // The same request is fine once MQ is negotiated.
    p.send({ name: 'VHOST_USER_GET_QUEUE_NUM', payload: null });
    expect((await p.next()).kind).toBe('message');
    // Seeded: need_reply without REPLY_ACK.
    p.send({ name: 'VHOST_USER_SET_OWNER', payload: null }, { needReply: true });
    p.send({ name: 'VHOST_USER_GET_FEATURES', payload: null });
    await p.next();
    const records = lines.map(
      (l) => JSON.parse(l) as { name: string; direction: string; kind: string; violations: string[] },
    );
    const flagged = records.filter((r) => r.violations.length > 0);
    expect(flagged.map((r) => [r.name, r.kind, r.violations])).toEqual([
      [
        'VHOST_USER_GET_QUEUE_NUM',
        'request',
        [expect.stringMatching(/GET_QUEUE_NUM sent before VHOST_USER_PROTOCOL_F_MQ was negotiated/)],
      ],
      ['VHOST_USER_SET_OWNER', 'request', ['need_reply set without REPLY_ACK negotiated']],
    ]);
    expect(t.violations).toBe(2);
    // Both directions are shown, in order.
    expect(records.slice(0, 2).map((r) => `${r.direction} ${r.kind}`)).toEqual([
      'front>back request',
      'back>front reply',
    ]);
  });

  it('shows the violation in the text form under its message', async () => {
    const { lines, probe: p } = await traced();
    p.send({ name: 'VHOST_USER_GET_MAX_MEM_SLOTS', payload: null });
    await p.next();
    expect(lines[0]).toMatch(
      /front>back\s+GET_MAX_MEM_SLOTS request \[v1\] size=0 fds=0\n\s+!! VHOST_USER_GET_MAX_MEM_SLOTS sent before VHOST_USER_PROTOCOL_F_CONFIGURE_MEM_SLOTS was negotiated/,
    );
  });

  it('--filter shows only the named messages (with or without the prefix) but still counts every violation', async () => {
    const { lines, probe: p, tracer: t } = await traced({ filter: ['GET_PROTOCOL_FEATURES'] });
    p.send({ name: 'VHOST_USER_GET_FEATURES', payload: null });
    await p.next();
    p.send({ name: 'VHOST_USER_GET_QUEUE_NUM', payload: null });
    await p.next();
    p.send({ name: 'VHOST_USER_GET_PROTOCOL_FEATURES', payload: null });
    await p.next();
    expect(lines).toHaveLength(2);
    for (const l of lines) expect(l).toMatch(/ GET_PROTOCOL_FEATURES (request|reply) /);
    expect(t.violations).toBe(1);
  });
});
