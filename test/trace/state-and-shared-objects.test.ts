/**
 * Device state transfer and shared objects between the TS front-end and TS back-ends, each
 * connection through `vhost-user trace` (in-process), which must see every message and fd pass
 * and report no violation.
 */
import { readSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ProtocolFeature, TransferDirection, VirtioFeature, featureMask } from '@vhost-user/codec';
import {
  FRONTEND_PROTOCOL_FEATURES,
  DeviceStateError,
  SharedObjectBroker,
  SharedObjectError,
  VhostUserBackend,
  VhostUserFrontend,
  closeFds,
  loadDeviceState,
  native,
  saveDeviceState,
  uuidBytes,
  type BackendSession,
  type VhostUserDevice,
} from '@vhost-user/transport';
import { startTrace, type Tracer } from '../../packages/cli/src/trace/proxy.js';
import { TempDir } from '../interop/peers.js';

/** A device whose whole state is a byte string; loading refuses a state without its magic. */
class StatefulDevice implements VhostUserDevice {
  readonly features = featureMask(VirtioFeature.VIRTIO_F_VERSION_1);
  readonly queueCount = 1;
  constructor(public state: Uint8Array) {}
  process(): void {}
  saveState(): Uint8Array {
    return this.state;
  }
  loadState(state: Uint8Array): void {
    if (state[0] !== 0x5a) throw new Error('not a state of this device (bad magic)');
    this.state = state;
  }
}

const WANT =
  FRONTEND_PROTOCOL_FEATURES |
  featureMask(ProtocolFeature.VHOST_USER_PROTOCOL_F_DEVICE_STATE, ProtocolFeature.VHOST_USER_PROTOCOL_F_SHARED_OBJECT);
const FEATURES = featureMask(VirtioFeature.VIRTIO_F_VERSION_1);

describe('device state and shared objects, TS front-end <-> trace <-> TS back-end', () => {
  let dir: TempDir;
  const closers: (() => void)[] = [];
  const lines: string[] = [];
  const tracers: Tracer[] = [];

  beforeEach(() => {
    dir = new TempDir();
    lines.length = 0;
  });
  afterEach(() => {
    for (const c of closers.splice(0).reverse()) c();
    tracers.length = 0;
    dir.remove();
  });

  /** A back-end with its own device behind a tracer; returns the path to connect to. */
  async function serve(name: string, device: StatefulDevice): Promise<{ path: string; session: () => BackendSession }> {
    const backendPath = dir.file(`${name}.sock`);
    const tracePath = dir.file(`${name}-trace.sock`);
    const backend = await VhostUserBackend.listen(backendPath, () => device, {
      memoryBytes: 16 << 20,
      sharedObjects: true,
    });
    const tracer = startTrace({ listen: tracePath, connect: backendPath, out: (l) => lines.push(`${name} ${l}`) });
    tracers.push(tracer);
    closers.push(
      () => backend.close(),
      () => tracer.close(),
    );
    return { path: tracePath, session: () => [...backend.sessions][0] as BackendSession };
  }

  async function connect(path: string, broker?: SharedObjectBroker): Promise<VhostUserFrontend> {
    let fe: VhostUserFrontend | undefined;
    fe = VhostUserFrontend.connect(path, {
      onBackendRequest: (req) => broker?.handle((fe as VhostUserFrontend).conn, req),
      onClose: () => fe && broker?.dropBackend(fe.conn),
    });
    closers.push(() => fe?.close());
    await fe.handshake(FEATURES, WANT);
    await fe.setFeatures();
    return fe;
  }

  it('saves the source back-end state and loads it into the destination; CHECK reports failures', async () => {
    // Larger than a socket buffer: the back-end must reply before the transfer ends.
    const state = new Uint8Array(300_000).map((_, i) => (i * 7) & 0xff);
    state[0] = 0x5a;
    const source = await serve('src', new StatefulDevice(state));
    const target = new StatefulDevice(new Uint8Array([0x5a]));
    const destination = await serve('dst', target);
    const src = await connect(source.path);
    const dst = await connect(destination.path);
    expect(src.hasProtocolFeature(ProtocolFeature.VHOST_USER_PROTOCOL_F_DEVICE_STATE)).toBe(true);

    const saved = await saveDeviceState(src.conn);
    expect(Buffer.from(saved).equals(Buffer.from(state))).toBe(true);
    await loadDeviceState(dst.conn, saved);
    expect(Buffer.from(target.state).equals(Buffer.from(state))).toBe(true);

    // A state the device cannot use: the transfer itself works, CHECK_DEVICE_STATE says it failed.
    await expect(loadDeviceState(dst.conn, new Uint8Array([1, 2, 3]))).rejects.toThrow(DeviceStateError);
    expect(target.state[0]).toBe(0x5a);
    // An unknown phase is refused in the reply, with no fd.
    const [a, b] = native.socketpair();
    const reply = await dst.conn.call(
      {
        name: 'VHOST_USER_SET_DEVICE_STATE_FD',
        payload: { direction: TransferDirection.VHOST_TRANSFER_STATE_DIRECTION_LOAD, phase: 7 },
      },
      { fds: [b] },
    );
    closeFds([a, b]);
    expect(reply.value & 0xffn).not.toBe(0n);
    expect(reply.value & 0x100n).toBe(0x100n);

    const names = lines.join('\n');
    expect(names).toMatch(/src .*SET_DEVICE_STATE_FD/);
    expect(names).toMatch(/dst .*CHECK_DEVICE_STATE/);
    expect(tracers.map((t) => t.violations)).toEqual([0, 0]);
  });

  it('one back-end exports an object, another imports it through the front-end broker', async () => {
    const broker = new SharedObjectBroker();
    const exporter = await serve('exp', new StatefulDevice(new Uint8Array([0x5a])));
    const importer = await serve('imp', new StatefulDevice(new Uint8Array([0x5a])));
    const feExp = await connect(exporter.path, broker);
    await connect(importer.path, broker);
    expect(feExp.hasProtocolFeature(ProtocolFeature.VHOST_USER_PROTOCOL_F_SHARED_OBJECT)).toBe(true);

    const uuid = uuidBytes('9b2d3b1e-5c4a-4f7e-8a11-0c2d3e4f5a6b');
    const buffer = native.memfdCreate('shared-object', 4096); // stands in for a dma-buf
    const mapping = native.mmap(buffer, 0, 4096, true);
    new Uint8Array(mapping).set(new TextEncoder().encode('rendered frame'));
    native.munmap(mapping);
    await exporter.session().sharedObjects.add(uuid, buffer);
    expect(broker.has(uuid)).toBe(true);
    await expect(exporter.session().sharedObjects.add(uuid, native.memfdCreate('again', 16))).rejects.toThrow(
      SharedObjectError,
    );

    const imported = await importer.session().sharedObjects.lookup(uuid);
    const seen = new Uint8Array(14);
    readSync(imported, seen, 0, 14, 0);
    closeFds([imported]);
    expect(new TextDecoder().decode(seen)).toBe('rendered frame');

    // Only the exporter can withdraw; the importer's REMOVE is ignored.
    await expect(importer.session().sharedObjects.remove(uuid)).rejects.toThrow(/not exported here/);
    await exporter.session().sharedObjects.remove(uuid);
    expect(broker.has(uuid)).toBe(false);
    await expect(importer.session().sharedObjects.lookup(uuid)).rejects.toThrow(/has no object/);

    const names = lines.join('\n');
    expect(names).toMatch(/exp .*backch:back>front.*SHARED_OBJECT_ADD/);
    expect(names).toMatch(/imp .*backch:back>front.*SHARED_OBJECT_LOOKUP/);
    expect(names).toMatch(/exp .*front>back.*GET_SHARED_OBJECT/);
    expect(tracers.map((t) => t.violations)).toEqual([0, 0]);
  });
});
