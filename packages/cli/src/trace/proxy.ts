/**
 * The tracer's proxy: every front-end connecting to `listen` gets its own connection to
 * `connect`; bytes and fds are forwarded unchanged as they arrive (stream.ts), and each message
 * is decoded and printed once it went through. A session's sockets are released when it ends.
 * The back-end channel is traced too: the fd of SET_BACKEND_REQ_FD is replaced by one end of a
 * socketpair, and the proxy relays between that pair and the front-end's socket.
 */
import { HEADER, MessageFramer, decode, messageInfo, type Channel } from '@vhost-user/codec';
import { UnixListener, UnixSocket, closeFds, native } from '@vhost-user/transport';
import { describe, shortName, toJson, type AnyMessage } from './describe.js';
import { ViolationChecker } from './violations.js';
import { streamMessages, type SeenMessage } from './stream.js';

export interface TraceOptions {
  listen: string;
  connect: string;
  json?: boolean;
  /** Message names (with or without VHOST_USER_) to show; others are forwarded silently. */
  filter?: string[];
  out: (line: string) => void;
  now?: () => number;
}

export type Direction = 'front>back' | 'back>front' | 'backch:back>front' | 'backch:front>back';

/**
 * One direction of a stream as whole messages (for relays that act on a message before passing
 * it on, such as the front-end recorder): framed reads keep fds with their message; a message
 * over 1 MiB or one that cannot be framed is dropped with its fds. The tracer streams instead.
 */
export function pipeMessages(
  from: UnixSocket,
  onMessage: (bytes: Uint8Array, fds: number[]) => void,
  onClose: () => void,
): void {
  const framer = new MessageFramer({ maxPayloadSize: 1 << 20 });
  from.nextReadSize = () => Math.min(framer.bytesToBoundary, 1 << 16);
  from.start({
    onData(chunk, fds) {
      for (const e of framer.push(chunk, fds)) {
        if (e.kind === 'message') onMessage(e.bytes, e.fds);
        else closeFds(e.fds);
      }
    },
    onClose,
  });
}

export class Tracer {
  private readonly listener: UnixListener;
  /** Sockets of the sessions still running (a session's are released when it ends). */
  private readonly sockets = new Set<UnixSocket>();
  violations = 0;
  onSessionEnd: (() => void) | undefined;
  private readonly started: number;

  constructor(private readonly options: TraceOptions) {
    this.started = (options.now ?? Date.now)();
    this.listener = new UnixListener(options.listen, (front) => this.accept(front));
  }

  /** Sockets held for running sessions (0 once every session has ended). */
  get openSockets(): number {
    return this.sockets.size;
  }

  private track(socket: UnixSocket): UnixSocket {
    this.sockets.add(socket);
    return socket;
  }

  private release(...sockets: UnixSocket[]): void {
    for (const s of sockets) {
      s.close();
      this.sockets.delete(s);
    }
  }

  private accept(front: UnixSocket): void {
    let back: UnixSocket;
    try {
      back = UnixSocket.connect(this.options.connect);
    } catch (error) {
      this.options.out(`trace: cannot connect to ${this.options.connect}: ${(error as Error).message}`);
      front.close();
      return;
    }
    this.track(front);
    this.track(back);
    const checker = new ViolationChecker();
    const channel: UnixSocket[] = [];
    let ended = false;
    const end = () => {
      if (ended) return;
      ended = true;
      this.release(front, back, ...channel);
      this.onSessionEnd?.();
    };
    const backendReqFd = messageInfo('frontend', 'VHOST_USER_SET_BACKEND_REQ_FD')?.id;
    streamMessages(front, back, {
      onHeader: (header, fds) => {
        const view = new DataView(header.buffer, header.byteOffset);
        const isRequest = !(view.getUint32(HEADER.flagsOffset, true) & HEADER.replyFlag);
        if (view.getUint32(HEADER.requestOffset, true) !== backendReqFd || !isRequest || fds.length !== 1)
          return { forward: fds };
        // The back-end gets one end of our pair; the front-end's end stays with the relay.
        const frontendEnd = fds[0] as number;
        return { forward: [this.relayBackendChannel(frontendEnd, checker, channel)], keep: [frontendEnd] };
      },
      onMessage: (m) => this.show('front>back', 'frontend', m, checker),
      onClose: end,
    });
    streamMessages(back, front, {
      onMessage: (m) => this.show('back>front', 'frontend', m, checker),
      onClose: end,
    });
  }

  /** Puts the proxy between the back-end channel's two ends; returns the fd to give the back-end. */
  private relayBackendChannel(frontendEnd: number, checker: ViolationChecker, held: UnixSocket[]): number {
    const [ours, theirs] = native.socketpair();
    const toFront = this.track(new UnixSocket(frontendEnd));
    const toBack = this.track(new UnixSocket(ours));
    held.push(toFront, toBack);
    const close = () => this.release(toFront, toBack);
    streamMessages(toBack, toFront, {
      onMessage: (m) => this.show('backch:back>front', 'backend', m, checker),
      onClose: close,
    });
    streamMessages(toFront, toBack, {
      onMessage: (m) => this.show('backch:front>back', 'backend', m, checker),
      onClose: close,
    });
    return theirs;
  }

  private show(direction: Direction, channel: Channel, seen: SeenMessage, checker: ViolationChecker): void {
    const time = (((this.options.now ?? Date.now)() - this.started) / 1000).toFixed(3);
    const fds = seen.fds;
    let line: string;
    let record: Record<string, unknown>;
    let name: string | undefined;
    let problems: string[];
    try {
      // A message too large to keep was forwarded whole; the codec judges its size from the header alone.
      const message = decode(channel, seen.bytes ?? seen.header, {
        fds,
        protocolFeatures: checker.protocolFeatures,
      }) as unknown as AnyMessage;
      name = message.name;
      problems = checker.check(direction, message);
      line = describe(message, fds);
      record = toJson(message, fds);
    } catch (error) {
      problems = [`${(error as Error).message}`];
      const id = new DataView(seen.header.buffer, seen.header.byteOffset).getUint32(HEADER.requestOffset, true);
      name = messageInfo(channel, id)?.name;
      line = `${name ? shortName(name) : `id ${id}`} undecodable size=${seen.size} fds=${fds}`;
      record = { name: name ?? null, id, undecodable: true, fds };
    }
    this.violations += problems.length;
    if (this.options.filter && !(name && this.options.filter.some((f) => name === f || shortName(name) === f))) return;
    if (this.options.json)
      this.options.out(JSON.stringify({ time: Number(time), direction, ...record, violations: problems }));
    else
      this.options.out(
        `${time.padStart(9)} ${direction.padEnd(17)} ${line}${problems.map((p) => `\n          !! ${p}`).join('')}`,
      );
  }

  close(): void {
    this.listener.close();
    this.release(...this.sockets);
  }
}

export function startTrace(options: TraceOptions): Tracer {
  return new Tracer(options);
}
