/**
 * Front-end mode's recorder: the suite listens where the front-end connects, relays every message
 * with its fds unchanged to an in-process back-end (the transport's VhostUserBackend), and keeps
 * each message's raw header, decoded form and fd count, so the cases can judge what the
 * front-end sent after the session.
 */
import { HEADER, VHOST_USER_VRING_IDX_MASK, decode, messageInfo, u64Value } from '@vhost-user/codec';
import { EventFd, UnixListener, UnixSocket, closeFds } from '@vhost-user/transport';
import { pipeMessages } from '../../trace/proxy.js';
import type { AnyMessage } from '../../trace/describe.js';

export interface RecordedMessage {
  /** Order in the session (both directions). */
  seq: number;
  direction: 'front>back' | 'back>front';
  id: number;
  /** Header flags exactly as sent. */
  flags: number;
  /** Header size field. */
  size: number;
  fds: number;
  /** Decoded leniently (reserved bits and fd counts are judged by the cases); undefined if undecodable. */
  message: AnyMessage | undefined;
  error?: string;
}

/** A kick the front-end signalled on a ring's kick eventfd (relayed to the back-end). */
export interface RecordedKick {
  /** How many messages were recorded before it: it came after message `seq - 1`. */
  seq: number;
  ring: number;
}

export interface RecordedSession {
  messages: RecordedMessage[];
  kicks: RecordedKick[];
  /** Requests of the front-end, in order. */
  readonly requests: RecordedMessage[];
}

function recordOf(
  seq: number,
  direction: RecordedMessage['direction'],
  bytes: Uint8Array,
  fds: number,
): RecordedMessage {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const id = view.getUint32(HEADER.requestOffset, true);
  const flags = view.getUint32(HEADER.flagsOffset, true);
  const size = view.getUint32(HEADER.sizeOffset, true);
  try {
    const message = decode('frontend', bytes, { strictHeader: false }) as unknown as AnyMessage;
    return { seq, direction, id, flags, size, fds, message };
  } catch (error) {
    return {
      seq,
      direction,
      id,
      flags,
      size,
      fds,
      message: undefined,
      error: `${messageInfo('frontend', id)?.name ?? `id ${id}`}: ${(error as Error).message}`,
    };
  }
}

export function newSession(): RecordedSession {
  const messages: RecordedMessage[] = [];
  return {
    messages,
    kicks: [],
    get requests() {
      return messages.filter((m) => m.direction === 'front>back');
    },
  };
}

export class FrontendRecorder {
  private readonly listener: UnixListener;
  private readonly sockets = new Set<UnixSocket>();
  readonly sessions: RecordedSession[] = [];
  /** Called when a front-end's connection ends. */
  onSessionEnd: ((session: RecordedSession) => void) | undefined;

  constructor(
    listen: string,
    private readonly backend: string,
  ) {
    this.listener = new UnixListener(listen, (front) => this.accept(front));
  }

  private accept(front: UnixSocket): void {
    let back: UnixSocket;
    try {
      back = UnixSocket.connect(this.backend);
    } catch {
      front.close();
      return;
    }
    this.sockets.add(front);
    this.sockets.add(back);
    const session = newSession();
    this.sessions.push(session);
    let ended = false;
    const kickFds: EventFd[] = [];
    const end = () => {
      front.close();
      back.close();
      for (const k of kickFds.splice(0)) k.close();
      if (ended) return;
      ended = true;
      this.onSessionEnd?.(session);
    };
    pipeMessages(
      front,
      (bytes, fds) => {
        const record = recordOf(session.messages.length, 'front>back', bytes, fds.length);
        session.messages.push(record);
        if (
          record.message?.name === 'VHOST_USER_SET_VRING_KICK' &&
          record.message.kind === 'request' &&
          fds.length === 1
        )
          return relayKicks(back, bytes, fds[0] as number, record, session, kickFds);
        send(back, bytes, fds);
      },
      end,
    );
    pipeMessages(
      back,
      (bytes, fds) => {
        session.messages.push(recordOf(session.messages.length, 'back>front', bytes, fds.length));
        send(front, bytes, fds);
      },
      end,
    );
  }

  close(): void {
    this.listener.close();
    for (const s of this.sockets) s.close();
  }
}

/** Forwards a message and closes our copies of its fds (the receiver has its own). */
function send(to: UnixSocket, bytes: Uint8Array, fds: number[]): void {
  try {
    to.send(bytes, fds);
  } catch {
    // the other side is gone; its close ends the session
  } finally {
    closeFds(fds);
  }
}

/**
 * Puts the recorder between a ring's kick eventfd and the back-end: the back-end gets our own
 * eventfd, and each kick the front-end signals is recorded (with its place among the messages)
 * and passed on. Both eventfds live until the session ends.
 */
function relayKicks(
  back: UnixSocket,
  bytes: Uint8Array,
  frontendKick: number,
  record: RecordedMessage,
  session: RecordedSession,
  held: EventFd[],
): void {
  const ring = Number((u64Value(record.message?.payload) ?? 0n) & BigInt(VHOST_USER_VRING_IDX_MASK));
  const theirs = new EventFd(frontendKick);
  const ours = new EventFd();
  held.push(theirs, ours);
  theirs.watch(() => {
    session.kicks.push({ seq: session.messages.length, ring });
    ours.signal();
  });
  try {
    back.send(bytes, [ours.fd]);
  } catch {
    // the other side is gone; its close ends the session
  }
}
