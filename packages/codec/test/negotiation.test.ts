/** The one negotiation model: gates from the message tables, preconditions from rules.preconditions, reply meanings. */
import { describe, expect, it } from 'vitest';
import {
  Negotiation,
  PRECONDITIONS,
  ProtocolFeature,
  VirtioFeature,
  featureMask,
  messageInfo,
  replyMeaning,
  type MessageInfo,
} from '../src/index.js';

const info = (name: string) => messageInfo('frontend', name) as MessageInfo;
const BIT30 = featureMask(VirtioFeature.VHOST_USER_F_PROTOCOL_FEATURES);

describe('Negotiation', () => {
  it('GET/SET_PROTOCOL_FEATURES need bit 30 offered, not acked (the allowed-before precondition)', () => {
    const n = new Negotiation();
    // One report, by the precondition that states the rule (not a second one by the gate).
    expect(n.check(info('VHOST_USER_GET_PROTOCOL_FEATURES')).map((b) => [b.rule, b.level])).toEqual([
      ['protocol-features-need-offer', 'MUST'],
    ]);
    n.onReply('VHOST_USER_GET_FEATURES', { value: BIT30 });
    expect(n.check(info('VHOST_USER_GET_PROTOCOL_FEATURES'))).toEqual([]);
    expect(n.features).toBe(0n); // offered, never acked
  });

  it('SET_VRING_ENABLE without bit 30 acked breaks the SHOULD precondition, not the gate', () => {
    const n = new Negotiation();
    n.onReply('VHOST_USER_GET_FEATURES', { value: BIT30 });
    const breaches = n.check(info('VHOST_USER_SET_VRING_ENABLE'), { index: 0, num: 1 });
    expect(breaches.map((b) => [b.rule, b.level])).toEqual([['set-vring-enable-needs-protocol-features', 'SHOULD']]);
    n.onRequest('VHOST_USER_SET_FEATURES', { value: BIT30 });
    expect(n.check(info('VHOST_USER_SET_VRING_ENABLE'), { index: 0, num: 1 })).toEqual([]);
  });

  it('a protocol-feature gate holds once SET_PROTOCOL_FEATURES selected the bit', () => {
    const n = new Negotiation();
    expect(n.check(info('VHOST_USER_GET_QUEUE_NUM'))).toEqual([
      {
        rule: 'gate',
        level: 'MUST',
        reason: 'VHOST_USER_GET_QUEUE_NUM sent before VHOST_USER_PROTOCOL_F_MQ was negotiated',
      },
    ]);
    n.onRequest('VHOST_USER_SET_PROTOCOL_FEATURES', { value: featureMask(ProtocolFeature.VHOST_USER_PROTOCOL_F_MQ) });
    expect(n.check(info('VHOST_USER_GET_QUEUE_NUM'))).toEqual([]);
  });

  it('SET_PROTOCOL_FEATURES is judged on the bits it selects (never-when preconditions)', () => {
    const n = new Negotiation();
    n.onReply('VHOST_USER_GET_FEATURES', { value: BIT30 });
    const inband = featureMask(ProtocolFeature.VHOST_USER_PROTOCOL_F_INBAND_NOTIFICATIONS);
    const rules = n.check(info('VHOST_USER_SET_PROTOCOL_FEATURES'), { value: inband }).map((b) => b.rule);
    expect(rules).toEqual(['inband-notifications-need-backend-req-and-reply-ack']);
    const ok =
      inband |
      featureMask(ProtocolFeature.VHOST_USER_PROTOCOL_F_BACKEND_REQ, ProtocolFeature.VHOST_USER_PROTOCOL_F_REPLY_ACK);
    expect(n.check(info('VHOST_USER_SET_PROTOCOL_FEATURES'), { value: ok })).toEqual([]);
  });

  it('PRECONDITIONS carries the table with feature names resolved to bits', () => {
    const p = PRECONDITIONS.find((x) => x.id === 'protocol-features-need-offer');
    expect(p?.condition).toEqual({ virtioFeatureOffered: VirtioFeature.VHOST_USER_F_PROTOCOL_FEATURES });
  });
});

describe('replyMeaning', () => {
  const u64 = (value: bigint) => ({ kind: 'reply' as const, ack: false, size: 8, payload: { value } });
  it('reads refusals the way the reply column says', () => {
    expect(
      replyMeaning(info('VHOST_USER_SET_OWNER'), { kind: 'reply', ack: true, size: 8, payload: { value: 1n } }).refused,
    ).toBe(true);
    expect(
      replyMeaning(info('VHOST_USER_SET_OWNER'), { kind: 'reply', ack: true, size: 8, payload: { value: 0n } }).refused,
    ).toBe(false);
    expect(
      replyMeaning(info('VHOST_USER_GET_CONFIG'), { kind: 'reply', ack: false, size: 0, payload: null }).refused,
    ).toBe(true);
    expect(replyMeaning(info('VHOST_USER_CHECK_DEVICE_STATE'), u64(1n)).refused).toBe(true);
    // SET_DEVICE_STATE_FD: only bits 0-7 are the error; bit 8 alone says "no fd" on success.
    expect(replyMeaning(info('VHOST_USER_SET_DEVICE_STATE_FD'), u64(0x101n)).refused).toBe(true);
    expect(replyMeaning(info('VHOST_USER_SET_DEVICE_STATE_FD'), u64(0x100n)).refused).toBe(false);
    // A u64 that is data (a queue count) is an answer, not a refusal.
    expect(replyMeaning(info('VHOST_USER_GET_QUEUE_NUM'), u64(1n)).refused).toBe(false);
    expect(replyMeaning(info('VHOST_USER_GET_QUEUE_NUM'), { kind: 'closed' }).refused).toBe(true);
  });
});
