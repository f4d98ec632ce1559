/**
 * Which Debian 12 peers offer the restart and migration features the TS front-end and back-end
 * implement: none offers DEVICE_STATE or SHARED_OBJECT, so those are tested TS <-> TS only
 * (test/trace/state-and-shared-objects.test.ts). If a peer starts offering one, this fails, and a
 * test against that peer should be written.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ProtocolFeature, hasFeature } from '@vhost-user/codec';
import { APT_QEMU, Peer, TempDir, connectFrontend, missingPeer } from './peers.js';

const VIRTIOFSD = '/usr/lib/qemu/virtiofsd';
const GPU = '/usr/lib/qemu/vhost-user-gpu';
const skip = missingPeer(['qemu-storage-daemon', VIRTIOFSD, GPU], `${APT_QEMU} qemu-system-gui`);

describe.skipIf(skip !== undefined)('restart and migration features offered by Debian peers', () => {
  let dir: TempDir;
  let peer: Peer | undefined;
  beforeEach(() => {
    dir = new TempDir();
    mkdirSync(dir.file('share'));
    writeFileSync(dir.file('disk.img'), Buffer.alloc(1 << 20));
  });
  afterEach(async () => {
    await peer?.stop();
    dir.remove();
  });

  const peers: [string, string, (sock: string, d: TempDir) => string[]][] = [
    [
      'virtiofsd',
      VIRTIOFSD,
      (s, d) => [`--socket-path=${s}`, '-o', `source=${d.file('share')}`, '-o', 'sandbox=chroot'],
    ],
    [
      'qemu-storage-daemon',
      'qemu-storage-daemon',
      (s, d) => [
        '--blockdev',
        `driver=file,node-name=f,filename=${d.file('disk.img')}`,
        '--export',
        `type=vhost-user-blk,id=e,node-name=f,addr.type=unix,addr.path=${s},writable=on`,
      ],
    ],
    ['vhost-user-gpu', GPU, (s) => [`--socket-path=${s}`]],
  ];

  for (const [name, command, args] of peers) {
    it(`${name} offers neither DEVICE_STATE nor SHARED_OBJECT`, async () => {
      const sock = dir.file('peer.sock');
      peer = new Peer(command, args(sock, dir));
      await peer.waitForPath(sock);
      const fe = await connectFrontend(sock);
      const offered = (await fe.conn.call({ name: 'VHOST_USER_GET_PROTOCOL_FEATURES', payload: null })).value;
      fe.close();
      expect(hasFeature(offered, ProtocolFeature.VHOST_USER_PROTOCOL_F_DEVICE_STATE)).toBe(false);
      expect(hasFeature(offered, ProtocolFeature.VHOST_USER_PROTOCOL_F_SHARED_OBJECT)).toBe(false);
      // Nor INFLIGHT_SHMFD: QEMU's reconnect with these peers resumes from the used index only.
      expect(hasFeature(offered, ProtocolFeature.VHOST_USER_PROTOCOL_F_INFLIGHT_SHMFD)).toBe(false);
    });
  }
});
