/**
 * Spec rules the tracer can check on a live session: gating by negotiated features (from the
 * message tables), need_reply without REPLY_ACK, reply flags. Fd counts and sizes are checked by
 * the codec's decode.
 */
import {
  HEADER,
  PROTOCOL_FEATURE_NAMES,
  ProtocolFeature,
  VirtioFeature,
  hasFeature,
  messageInfo,
} from '@vhost-user/codec';
import type { AnyMessage } from './describe.js';

export class ViolationChecker {
  protocolFeatures = 0n;
  offeredFeatures: bigint | undefined;
  ackedFeatures = 0n;

  check(direction: string, message: AnyMessage): string[] {
    const problems: string[] = [];
    const info = messageInfo(message.channel, message.id);
    if (!info) return problems;
    if (message.kind === 'reply') {
      if (message.flags & HEADER.needReplyFlag) problems.push('a reply with the need_reply bit set');
      if (message.channel === 'frontend' && message.name === 'VHOST_USER_GET_FEATURES' && message.payload)
        this.offeredFeatures = (message.payload as { value: bigint }).value;
      return problems;
    }
    for (const bit of info.protocolFeatures) {
      if (!hasFeature(this.protocolFeatures, bit))
        problems.push(
          `${message.name} sent before ${PROTOCOL_FEATURE_NAMES[bit] ?? `protocol bit ${bit}`} was negotiated`,
        );
    }
    for (const bit of info.virtioFeatures) {
      const mask =
        bit === VirtioFeature.VHOST_USER_F_PROTOCOL_FEATURES ? (this.offeredFeatures ?? 0n) : this.ackedFeatures;
      if (!hasFeature(mask, bit))
        problems.push(
          `${message.name} sent before virtio bit ${bit} was ${bit === VirtioFeature.VHOST_USER_F_PROTOCOL_FEATURES ? 'offered' : 'acked'}`,
        );
    }
    const replyAck = hasFeature(this.protocolFeatures, ProtocolFeature.VHOST_USER_PROTOCOL_F_REPLY_ACK);
    if (message.needReply && !replyAck && message.name !== 'VHOST_USER_SET_PROTOCOL_FEATURES')
      problems.push('need_reply set without REPLY_ACK negotiated');
    if (message.channel === 'frontend' && direction === 'front>back') {
      if (message.name === 'VHOST_USER_SET_PROTOCOL_FEATURES')
        this.protocolFeatures = (message.payload as { value: bigint }).value;
      if (message.name === 'VHOST_USER_SET_FEATURES') this.ackedFeatures = (message.payload as { value: bigint }).value;
    }
    return problems;
  }
}
