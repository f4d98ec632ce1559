/**
 * A deliberately broken back-end for the suite's own tests: a proxy in front of the project's
 * TypeScript blk back-end that seeds one bug at a time into what the front-end sees.
 */
import { HEADER, decode, encode, hasFeature, messageInfo, type OutgoingMessage } from '@vhost-user/codec';
import { BlkBackendDevice, UnixListener, UnixSocket, VhostUserBackend, closeFds } from '@vhost-user/transport';
import { pipeMessages } from '../../src/trace/proxy.js';

export type Bug =
  /** Never answers need_reply with an ack. */
  | 'ignores-need-reply'
  /** GET_VRING_BASE replies carry 4 bytes instead of a VringState. */
  | 'short-get-vring-base-reply'
  /** Gated messages are accepted (acked / answered) before their feature is negotiated. */
  | 'accepts-ungated'
  /** fds sent with messages that take none are kept open. */
  | 'leaks-fds'
  /** SET_VRING_KICK also enables the ring, even with VHOST_USER_F_PROTOCOL_FEATURES acked. */
  | 'enables-on-kick'
  /** GET_VRING_BASE resets the ring and reports 0. */
  | 'resets-on-get-vring-base'
  /** A request answered anyway, sent with need_reply, gets an ack too. */
  | 'acks-answered-requests'
  /** RESET_DEVICE is acked but the rings keep running. */
  | 'ignores-reset-device';

export const BUGS: Bug[] = [
  'ignores-need-reply',
  'short-get-vring-base-reply',
  'accepts-ungated',
  'leaks-fds',
  'enables-on-kick',
  'resets-on-get-vring-base',
  'acks-answered-requests',
  'ignores-reset-device',
];

const id = (name: string) => messageInfo('frontend', name)?.id as number;

export class BrokenBackend {
  private readonly backend: VhostUserBackend;
  private readonly listener: UnixListener;
  private readonly leaked: number[] = [];
  private readonly sockets: UnixSocket[] = [];

  constructor(
    readonly socket: string,
    innerSocket: string,
    image: string,
    readonly bug: Bug,
  ) {
    this.backend = new VhostUserBackend(innerSocket, () => new BlkBackendDevice(image), { memoryBytes: 64 << 20 });
    void this.backend.listen();
    this.listener = new UnixListener(socket, (front) => this.accept(front, innerSocket));
  }

  private accept(front: UnixSocket, innerSocket: string): void {
    const back = UnixSocket.connect(innerSocket);
    this.sockets.push(front, back);
    let protocolFeatures = 0n;
    const pendingAcks: string[] = [];
    const reply = (message: OutgoingMessage<'frontend'>) => {
      if (!front.isClosed) front.send(encode('frontend', message));
    };
    pipeMessages(
      front,
      (bytes, fds) => {
        const m = decode('frontend', bytes, { strictHeader: false });
        if (m.kind !== 'request') return;
        const info = messageInfo('frontend', m.id);
        if (m.name === 'VHOST_USER_SET_PROTOCOL_FEATURES') protocolFeatures = m.payload.value;
        if (
          this.bug === 'accepts-ungated' &&
          info &&
          info.protocolFeatures.some((b) => !hasFeature(protocolFeatures, b))
        ) {
          closeFds(fds);
          if (
            m.name === 'VHOST_USER_GET_QUEUE_NUM' ||
            m.name === 'VHOST_USER_GET_MAX_MEM_SLOTS' ||
            m.name === 'VHOST_USER_GET_STATUS'
          )
            reply({ kind: 'reply', name: m.name, payload: { value: 1n } } as OutgoingMessage<'frontend'>);
          else if (m.needReply) reply({ kind: 'reply', ack: true, name: m.name, payload: { value: 0n } });
          return;
        }
        let forward = fds;
        if (this.bug === 'leaks-fds' && info?.fds.request.rule === 'none' && fds.length > 0) {
          this.leaked.push(...fds);
          forward = [];
        }
        if (this.bug === 'ignores-reset-device' && m.name === 'VHOST_USER_RESET_DEVICE') {
          if (m.needReply) reply({ kind: 'reply', ack: true, name: m.name, payload: { value: 0n } });
          return;
        }
        if (this.bug === 'acks-answered-requests' && m.needReply && info?.reply.kind === 'always')
          pendingAcks.push(m.name);
        if (this.bug === 'ignores-need-reply' && m.needReply)
          new DataView(bytes.buffer, bytes.byteOffset).setUint32(HEADER.flagsOffset, HEADER.version, true);
        back.send(bytes, forward);
        if (forward === fds) closeFds(fds);
        if (this.bug === 'enables-on-kick' && m.name === 'VHOST_USER_SET_VRING_KICK') {
          back.send(
            encode('frontend', {
              name: 'VHOST_USER_SET_VRING_ENABLE',
              payload: { index: Number(m.payload.value & 0xffn), num: 1 },
            }),
          );
        }
      },
      () => front.close(),
    );
    pipeMessages(
      back,
      (bytes, fds) => {
        closeFds(fds);
        const requestId = new DataView(bytes.buffer, bytes.byteOffset).getUint32(HEADER.requestOffset, true);
        if (requestId === id('VHOST_USER_GET_VRING_BASE')) {
          if (this.bug === 'short-get-vring-base-reply') {
            const short = bytes.slice(0, HEADER.size + 4);
            new DataView(short.buffer).setUint32(HEADER.sizeOffset, 4, true);
            bytes = short;
          }
          if (this.bug === 'resets-on-get-vring-base' && bytes.length === HEADER.size + 8)
            new DataView(bytes.buffer, bytes.byteOffset).setUint32(HEADER.size + 4, 0, true);
        }
        if (front.isClosed) return;
        front.send(bytes);
        const extra = pendingAcks.shift();
        if (extra)
          reply({ kind: 'reply', ack: true, name: extra, payload: { value: 0n } } as OutgoingMessage<'frontend'>);
      },
      () => back.close(),
    );
  }

  close(): void {
    this.listener.close();
    for (const s of this.sockets) s.close();
    this.backend.close();
    closeFds(this.leaked.splice(0));
  }
}
