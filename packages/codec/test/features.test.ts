/** Feature masks: test, set, negotiate, name and check requirements, with bits from the spec. */
import { describe, expect, it } from 'vitest';
import {
  ProtocolFeature,
  VirtioFeature,
  featureBits,
  featureMask,
  hasFeature,
  missingRequirements,
  negotiate,
  protocolFeatureNames,
  virtioFeatureNames,
  withFeature,
  withoutFeature,
} from '@vhost-user/codec';

describe('feature helpers', () => {
  it('builds and tests masks, bits above 31 included', () => {
    const mask = featureMask(VirtioFeature.VIRTIO_F_VERSION_1, VirtioFeature.VHOST_USER_F_PROTOCOL_FEATURES);
    expect(mask).toBe((1n << 32n) | (1n << 30n));
    expect(hasFeature(mask, 32)).toBe(true);
    expect(hasFeature(withoutFeature(mask, 32), 32)).toBe(false);
    expect(withFeature(0n, 63)).toBe(1n << 63n);
    expect(featureBits(mask)).toEqual([30, 32]);
  });

  it('negotiates what the front-end wants among what the back-end offers', () => {
    expect(
      negotiate(
        0x8f2bn,
        featureMask(
          ProtocolFeature.VHOST_USER_PROTOCOL_F_MQ,
          ProtocolFeature.VHOST_USER_PROTOCOL_F_STATUS,
          ProtocolFeature.VHOST_USER_PROTOCOL_F_REPLY_ACK,
        ),
      ),
    ).toBe(featureMask(ProtocolFeature.VHOST_USER_PROTOCOL_F_MQ, ProtocolFeature.VHOST_USER_PROTOCOL_F_REPLY_ACK));
  });

  it('names the bits qemu-storage-daemon offers', () => {
    expect(protocolFeatureNames(0x8f2bn)).toEqual([
      'VHOST_USER_PROTOCOL_F_MQ',
      'VHOST_USER_PROTOCOL_F_LOG_SHMFD',
      'VHOST_USER_PROTOCOL_F_REPLY_ACK',
      'VHOST_USER_PROTOCOL_F_BACKEND_REQ',
      'VHOST_USER_PROTOCOL_F_PAGEFAULT',
      'VHOST_USER_PROTOCOL_F_CONFIG',
      'VHOST_USER_PROTOCOL_F_BACKEND_SEND_FD',
      'VHOST_USER_PROTOCOL_F_HOST_NOTIFIER',
      'VHOST_USER_PROTOCOL_F_CONFIGURE_MEM_SLOTS',
    ]);
    expect(virtioFeatureNames(0x175007e46n)).toContain('VHOST_USER_F_PROTOCOL_FEATURES');
    expect(virtioFeatureNames(1n << 1n)).toEqual(['bit 1']);
    // Device bits are named from the spec data when the device type is given.
    expect(virtioFeatureNames((1n << 2n) | (1n << 12n) | (1n << 32n), 'blk')).toEqual([
      'VIRTIO_BLK_F_SEG_MAX',
      'VIRTIO_BLK_F_MQ',
      'VIRTIO_F_VERSION_1',
    ]);
    expect(virtioFeatureNames((1n << 2n) | (1n << 22n), 'net')).toEqual([
      'VIRTIO_NET_F_CTRL_GUEST_OFFLOADS',
      'VIRTIO_NET_F_MQ',
    ]);
    expect(virtioFeatureNames(1n << 12n)).toEqual(['bit 12']);
  });

  it('reports features selected without the features they require', () => {
    expect(
      missingRequirements(
        featureMask(
          ProtocolFeature.VHOST_USER_PROTOCOL_F_GET_VRING_BASE_SKIP_DRAIN,
          ProtocolFeature.VHOST_USER_PROTOCOL_F_INFLIGHT_SHMFD,
        ),
      ),
    ).toEqual([
      {
        bit: ProtocolFeature.VHOST_USER_PROTOCOL_F_GET_VRING_BASE_SKIP_DRAIN,
        missing: [ProtocolFeature.VHOST_USER_PROTOCOL_F_GET_VRING_BASE_INFLIGHT],
      },
    ]);
    expect(
      missingRequirements(
        featureMask(
          ProtocolFeature.VHOST_USER_PROTOCOL_F_INBAND_NOTIFICATIONS,
          ProtocolFeature.VHOST_USER_PROTOCOL_F_BACKEND_REQ,
          ProtocolFeature.VHOST_USER_PROTOCOL_F_REPLY_ACK,
        ),
      ),
    ).toEqual([]);
  });
});
