/**
 * Spec rules the tracer can check on a live session: gating and preconditions (the codec's
 * Negotiation, from the message tables and rules.preconditions), need_reply without REPLY_ACK,
 * reply flags. Fd counts and sizes are checked by the codec's decode.
 */
import { HEADER, Negotiation, ProtocolFeature, hasFeature, messageInfo } from '@vhost-user/codec';
import type { AnyMessage } from './describe.js';

export class ViolationChecker {
  readonly negotiation = new Negotiation();

  /** Negotiated protocol features (for decoding what follows). */
  get protocolFeatures(): bigint {
    return this.negotiation.protocolFeatures;
  }

  check(direction: string, message: AnyMessage): string[] {
    const problems: string[] = [];
    const info = messageInfo(message.channel, message.id);
    if (!info) return problems;
    if (message.kind === 'reply') {
      if (message.flags & HEADER.needReplyFlag) problems.push('a reply with the need_reply bit set');
      if (message.channel === 'frontend') this.negotiation.onReply(message.name, message.payload, message.ack);
      return problems;
    }
    // Back-end channel requests are gated by the same negotiated protocol features.
    for (const breach of this.negotiation.check(info, message.payload))
      problems.push(breach.level === 'MUST' ? breach.reason : `${breach.reason} (${breach.level})`);
    const replyAck = hasFeature(this.negotiation.protocolFeatures, ProtocolFeature.VHOST_USER_PROTOCOL_F_REPLY_ACK);
    if (message.needReply && !replyAck && message.name !== 'VHOST_USER_SET_PROTOCOL_FEATURES')
      problems.push('need_reply set without REPLY_ACK negotiated');
    if (message.channel === 'frontend' && direction === 'front>back')
      this.negotiation.onRequest(message.name, message.payload);
    return problems;
  }
}
