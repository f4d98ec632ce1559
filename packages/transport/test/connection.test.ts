import { afterEach, describe, expect, it } from 'vitest';
import { ProtocolFeature, featureMask, type DecodedRequest } from '@vhost-user/codec';
import { Connection, ConnectionError, EventFd, UnixSocket, native, type ReceivedFds } from '@vhost-user/transport';
import { openFdCount } from './helpers.js';

type Handler = (request: DecodedRequest<'frontend'>, fds: ReceivedFds) => unknown;

/** A front-end connection and a back-end connection over a socket pair. */
function pair(handler: Handler, timeoutMs = 2000) {
  const [a, b] = native.socketpair();
  const errors: Error[] = [];
  const front = new Connection(new UnixSocket(a), { channel: 'frontend', timeoutMs });
  const back = new Connection(new UnixSocket(b), {
    channel: 'frontend',
    onRequest: handler,
    onProtocolError: (e) => errors.push(e),
  });
  return { front, back, errors };
}

const REPLY_ACK = featureMask(ProtocolFeature.VHOST_USER_PROTOCOL_F_REPLY_ACK);
let open: Connection<'frontend'>[] = [];
afterEach(() => {
  for (const c of open) c.close();
  open = [];
});

describe('request/reply matching', () => {
  it('answers requests with replies, in order, by id', async () => {
    const { front, back } = pair((req) => {
      if (req.name === 'VHOST_USER_GET_FEATURES') return { value: 0x1234n };
      if (req.name === 'VHOST_USER_GET_QUEUE_NUM') return { value: 3n };
      return undefined;
    });
    open.push(front, back);
    const [features, queues] = await Promise.all([
      front.call({ name: 'VHOST_USER_GET_FEATURES', payload: null }),
      front.call({ name: 'VHOST_USER_GET_QUEUE_NUM', payload: null }),
    ]);
    expect(features.value).toBe(0x1234n);
    expect(queues.value).toBe(3n);
  });

  it('an empty reply body (the failure signal of GET_CONFIG) is an EMPTY_REPLY error', async () => {
    const { front, back } = pair(() => {
      throw new Error('no config');
    });
    open.push(front, back);
    front.protocolFeatures = back.protocolFeatures = featureMask(ProtocolFeature.VHOST_USER_PROTOCOL_F_CONFIG);
    await expect(
      front.call({ name: 'VHOST_USER_GET_CONFIG', payload: { offset: 0, flags: 0, data: new Uint8Array(4) } }),
    ).rejects.toMatchObject({ code: 'EMPTY_REPLY' });
  });
});

describe('REPLY_ACK and need_reply', () => {
  it('without REPLY_ACK a request without its own reply is not answered', async () => {
    const seen: boolean[] = [];
    const { front, back } = pair((req) => void seen.push(req.needReply));
    open.push(front, back);
    expect(await front.request({ name: 'VHOST_USER_SET_VRING_NUM', payload: { index: 0, num: 64 } })).toBeNull();
    // GET_FEATURES as a barrier: its reply proves the earlier request was read without an answer.
    await front.request({ name: 'VHOST_USER_GET_FEATURES', payload: null });
    expect(seen).toEqual([false, false]);
  });

  it('with REPLY_ACK the request carries need_reply and a zero ack resolves it', async () => {
    const seen: boolean[] = [];
    const { front, back } = pair((req) => void seen.push(req.needReply));
    open.push(front, back);
    front.protocolFeatures = back.protocolFeatures = REPLY_ACK;
    const reply = await front.request({ name: 'VHOST_USER_SET_VRING_NUM', payload: { index: 0, num: 64 } });
    expect(reply?.ack).toBe(true);
    expect(seen).toEqual([true]);
  });

  it('a failing handler answers non-zero, which rejects with NACK', async () => {
    const { front, back, errors } = pair(() => {
      throw new Error('bad ring');
    });
    open.push(front, back);
    front.protocolFeatures = back.protocolFeatures = REPLY_ACK;
    await expect(
      front.request({ name: 'VHOST_USER_SET_VRING_NUM', payload: { index: 9, num: 64 } }),
    ).rejects.toMatchObject({ code: 'NACK' });
    expect(errors).toHaveLength(1);
  });

  it('a request that already has a reply gets that reply and no ack', async () => {
    const { front, back } = pair(() => ({ value: 7n }));
    open.push(front, back);
    front.protocolFeatures = back.protocolFeatures = REPLY_ACK;
    const reply = await front.request({ name: 'VHOST_USER_GET_FEATURES', payload: null });
    expect(reply?.ack).toBe(false);
    // A second request proves no stray ack is left in the stream (it would mismatch).
    expect((await front.call({ name: 'VHOST_USER_GET_FEATURES', payload: null })).value).toBe(7n);
  });

  it('SET_PROTOCOL_FEATURES is never acked', async () => {
    const { front, back } = pair(() => ({ value: 1n }));
    open.push(front, back);
    front.protocolFeatures = back.protocolFeatures = REPLY_ACK;
    expect(await front.request({ name: 'VHOST_USER_SET_PROTOCOL_FEATURES', payload: { value: REPLY_ACK } })).toBeNull();
    expect((await front.call({ name: 'VHOST_USER_GET_FEATURES', payload: null })).value).toBe(1n);
  });
});

describe('timeouts and closing', () => {
  it('a request without a reply times out and closes the connection', async () => {
    const { front, back } = pair(() => new Promise(() => undefined), 100);
    open.push(front, back);
    await expect(front.request({ name: 'VHOST_USER_GET_FEATURES', payload: null })).rejects.toMatchObject({
      code: 'TIMEOUT',
    });
    expect(front.isClosed).toBe(true);
    await expect(front.request({ name: 'VHOST_USER_GET_FEATURES', payload: null })).rejects.toBeInstanceOf(
      ConnectionError,
    );
  });

  it('pending requests fail when the peer goes away', async () => {
    let backRef: Connection<'frontend'> | undefined;
    const { front, back } = pair(() => {
      backRef?.close();
      return new Promise(() => undefined);
    });
    backRef = back;
    open.push(front, back);
    await expect(front.request({ name: 'VHOST_USER_GET_FEATURES', payload: null })).rejects.toMatchObject({
      code: 'CLOSED',
    });
  });
});

describe('fd ownership', () => {
  it('fds are handed to the handler; those it does not take are closed', async () => {
    const before = openFdCount();
    const taken: number[] = [];
    const { front, back } = pair((req, fds) => {
      if (req.name === 'VHOST_USER_SET_VRING_KICK') taken.push(fds.take());
      return undefined; // SET_VRING_CALL's fd is left: the connection closes it
    });
    front.protocolFeatures = back.protocolFeatures = REPLY_ACK;
    const kick = new EventFd();
    const call = new EventFd();
    await front.request({ name: 'VHOST_USER_SET_VRING_KICK', payload: { value: 0n } }, { fds: [kick.fd] });
    await front.request({ name: 'VHOST_USER_SET_VRING_CALL', payload: { value: 0n } }, { fds: [call.fd] });
    expect(taken).toHaveLength(1);
    native.eventfdWrite(taken[0] as number, 1);
    expect(kick.drain()).toBe(1n);
    native.close(taken[0] as number);
    kick.close();
    call.close();
    front.close();
    back.close();
    expect(openFdCount()).toBe(before);
  });

  it('fds that break the fd rule are closed and the request is refused', async () => {
    const before = openFdCount();
    const { front, back, errors } = pair(() => ({ value: 1n }));
    const ev = new EventFd();
    // GET_FEATURES carries no fd: the back-end drops the message (and its fd), so no reply.
    await expect(
      front.request({ name: 'VHOST_USER_GET_FEATURES', payload: null }, { fds: [ev.fd], timeoutMs: 200 }),
    ).rejects.toMatchObject({ code: 'TIMEOUT' });
    expect(errors.some((e) => (e as { code?: string }).code === 'FD_UNEXPECTED')).toBe(true);
    ev.close();
    back.close();
    expect(openFdCount()).toBe(before);
  });
});
