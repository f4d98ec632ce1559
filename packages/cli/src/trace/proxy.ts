/**
 * The tracer's proxy: every front-end connecting to `listen` gets its own connection to
 * `connect`; whole messages are forwarded with their fds unchanged, and each one is decoded and
 * printed. The back-end channel is traced too: the fd of SET_BACKEND_REQ_FD is replaced by one
 * end of a socketpair, and the proxy relays between that pair and the front-end's socket.
 */
import { HEADER, MessageFramer, decode, messageInfo, readHeader, type Channel } from '@vhost-user/codec';
import { UnixListener, UnixSocket, closeFds, native } from '@vhost-user/transport';
import { describe, shortName, toJson, type AnyMessage } from './describe.js';
import { ViolationChecker } from './violations.js';

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

/** One direction of a stream: framed reads so fds stay with their message, then whole messages. */
export function pipeMessages(
  from: UnixSocket,
  onMessage: (bytes: Uint8Array, fds: number[]) => void,
  onClose: () => void,
): void {
  const framer = new MessageFramer({ maxPayloadSize: 1 << 20 });
  let headerLeft: number = HEADER.size;
  let payloadLeft = 0;
  const header = new Uint8Array(HEADER.size);
  from.nextReadSize = () => (headerLeft > 0 ? headerLeft : Math.min(payloadLeft, 1 << 16));
  from.start({
    onData(chunk, fds) {
      let pos = 0;
      while (pos < chunk.length) {
        if (headerLeft > 0) {
          const n = Math.min(headerLeft, chunk.length - pos);
          header.set(chunk.subarray(pos, pos + n), HEADER.size - headerLeft);
          headerLeft -= n;
          pos += n;
          if (headerLeft === 0) {
            payloadLeft = readHeader(new DataView(header.buffer), 0, true).size;
            if (payloadLeft === 0) headerLeft = HEADER.size;
          }
        } else {
          const n = Math.min(payloadLeft, chunk.length - pos);
          payloadLeft -= n;
          pos += n;
          if (payloadLeft === 0) headerLeft = HEADER.size;
        }
      }
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
  private readonly sockets = new Set<UnixSocket>();
  violations = 0;
  onSessionEnd: (() => void) | undefined;
  private readonly started: number;

  constructor(private readonly options: TraceOptions) {
    this.started = (options.now ?? Date.now)();
    this.listener = new UnixListener(options.listen, (front) => this.accept(front));
  }

  private track(socket: UnixSocket): UnixSocket {
    this.sockets.add(socket);
    return socket;
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
    const end = () => {
      front.close();
      back.close();
      this.onSessionEnd?.();
    };
    pipeMessages(
      front,
      (bytes, fds) => {
        let forward = fds;
        const id = new DataView(bytes.buffer, bytes.byteOffset).getUint32(HEADER.requestOffset, true);
        if (
          id === messageInfo('frontend', 'VHOST_USER_SET_BACKEND_REQ_FD')?.id &&
          fds.length === 1 &&
          !(new DataView(bytes.buffer, bytes.byteOffset).getUint32(HEADER.flagsOffset, true) & HEADER.replyFlag)
        ) {
          forward = [this.relayBackendChannel(fds[0] as number, checker)];
          fds = [fds[0] as number];
        }
        this.show('front>back', 'frontend', bytes, fds.length, checker);
        this.send(back, bytes, forward);
        // Our copies: the back-end has its own now (the back-end channel's front end stays with the relay).
        closeFds(forward === fds ? fds : forward);
      },
      end,
    );
    pipeMessages(
      back,
      (bytes, fds) => {
        this.show('back>front', 'frontend', bytes, fds.length, checker);
        this.send(front, bytes, fds);
        closeFds(fds);
      },
      end,
    );
  }

  /** Puts the proxy between the back-end channel's two ends; returns the fd to give the back-end. */
  private relayBackendChannel(frontendEnd: number, checker: ViolationChecker): number {
    const [ours, theirs] = native.socketpair();
    const toFront = this.track(new UnixSocket(frontendEnd));
    const toBack = this.track(new UnixSocket(ours));
    pipeMessages(
      toBack,
      (bytes, fds) => {
        this.show('backch:back>front', 'backend', bytes, fds.length, checker);
        this.send(toFront, bytes, fds);
        closeFds(fds);
      },
      () => toFront.close(),
    );
    pipeMessages(
      toFront,
      (bytes, fds) => {
        this.show('backch:front>back', 'backend', bytes, fds.length, checker);
        this.send(toBack, bytes, fds);
        closeFds(fds);
      },
      () => toBack.close(),
    );
    return theirs;
  }

  private send(to: UnixSocket, bytes: Uint8Array, fds: readonly number[]): void {
    try {
      to.send(bytes, fds);
    } catch {
      // the other side is gone; its close ends the session
    }
  }

  private show(
    direction: Direction,
    channel: Channel,
    bytes: Uint8Array,
    fds: number,
    checker: ViolationChecker,
  ): void {
    const time = (((this.options.now ?? Date.now)() - this.started) / 1000).toFixed(3);
    let line: string;
    let record: Record<string, unknown>;
    let name: string | undefined;
    let problems: string[];
    try {
      const message = decode(channel, bytes, {
        fds,
        protocolFeatures: checker.protocolFeatures,
      }) as unknown as AnyMessage;
      name = message.name;
      problems = checker.check(direction, message);
      line = describe(message, fds);
      record = toJson(message, fds);
    } catch (error) {
      problems = [`${(error as Error).message}`];
      const id = bytes.length >= HEADER.size ? new DataView(bytes.buffer, bytes.byteOffset).getUint32(0, true) : -1;
      name = messageInfo(channel, id)?.name;
      line = `${name ? shortName(name) : `id ${id}`} undecodable size=${bytes.length - HEADER.size} fds=${fds}`;
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
    for (const s of this.sockets) s.close();
  }
}

export function startTrace(options: TraceOptions): Tracer {
  return new Tracer(options);
}
