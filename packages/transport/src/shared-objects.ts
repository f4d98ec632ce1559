/**
 * Shared objects (spec: prose/shared-objects.md): buffers named by UUID, exported by one back-end
 * and imported by others, with the front-end as broker. Back-end side: the exporter's own table
 * (UUID -> fd it hands out on GET_SHARED_OBJECT) and the requests it sends on the back-end
 * channel. Front-end side: the machine-wide table of exporters and the answers to those requests.
 */
import type { Connection } from './connection.js';
import { ReplyWithFds } from './connection.js';
import { closeFds, native } from './native.js';

export class SharedObjectError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SharedObjectError';
  }
}

/** The 16 UUID bytes as the text form (the wire order is the text order). */
export function uuidText(uuid: Uint8Array): string {
  if (uuid.length !== 16) throw new SharedObjectError(`a UUID is 16 bytes, not ${uuid.length}`);
  const hex = Buffer.from(uuid).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** The UUID bytes of a text form. */
export function uuidBytes(text: string): Uint8Array {
  const hex = text.replaceAll('-', '');
  if (!/^[0-9a-fA-F]{32}$/.test(hex)) throw new SharedObjectError(`${text} is not a UUID`);
  return new Uint8Array(Buffer.from(hex, 'hex'));
}

const FAILED = 1n;

/** A back-end's exports: it keeps each fd and hands out copies. */
export class BackendSharedObjects {
  private readonly exported = new Map<string, number>();

  constructor(private readonly channel: () => Connection<'backend'> | undefined) {}

  private conn(): Connection<'backend'> {
    const c = this.channel();
    if (!c) throw new SharedObjectError('shared objects need the back-end channel (BACKEND_REQ)');
    return c;
  }

  /** Exports `fd` (the table owns it from now on) under `uuid`: SHARED_OBJECT_ADD. */
  async add(uuid: Uint8Array, fd: number): Promise<void> {
    const key = uuidText(uuid);
    if (this.exported.has(key)) {
      closeFds([fd]);
      throw new SharedObjectError(`${key} is already exported`);
    }
    this.exported.set(key, fd);
    try {
      await this.conn().request({ name: 'VHOST_USER_BACKEND_SHARED_OBJECT_ADD', payload: { uuid } });
    } catch (error) {
      this.exported.delete(key);
      closeFds([fd]);
      throw error;
    }
  }

  /** Withdraws an export: SHARED_OBJECT_REMOVE, then its fd is closed. */
  async remove(uuid: Uint8Array): Promise<void> {
    const key = uuidText(uuid);
    const fd = this.exported.get(key);
    if (fd === undefined) throw new SharedObjectError(`${key} is not exported here`);
    await this.conn().request({ name: 'VHOST_USER_BACKEND_SHARED_OBJECT_REMOVE', payload: { uuid } });
    this.exported.delete(key);
    closeFds([fd]);
  }

  /** Imports an object: SHARED_OBJECT_LOOKUP. Resolves with an fd the caller owns. */
  async lookup(uuid: Uint8Array): Promise<number> {
    let received: number[] = [];
    const reply = await this.conn().call(
      { name: 'VHOST_USER_BACKEND_SHARED_OBJECT_LOOKUP', payload: { uuid } },
      { onReplyFds: (fds) => (received = fds) },
    );
    const [fd, ...extra] = received;
    closeFds(extra);
    if (reply.value !== 0n || fd === undefined) {
      if (fd !== undefined) closeFds([fd]);
      throw new SharedObjectError(`the front-end has no object ${uuidText(uuid)} (status ${reply.value})`);
    }
    return fd;
  }

  /** GET_SHARED_OBJECT from the front-end: a copy of the exported fd, or a failure status. */
  answer(uuid: Uint8Array): ReplyWithFds | { value: bigint } {
    const fd = this.exported.get(uuidText(uuid));
    return fd === undefined ? { value: FAILED } : new ReplyWithFds({ value: 0n }, [native.dup(fd)]);
  }

  /** Device reset or session end: every export is dropped (the front-end drops its entries). */
  clear(): void {
    closeFds(this.exported.values());
    this.exported.clear();
  }
}

/** Front-end: GET_SHARED_OBJECT to the exporting back-end. Resolves with an fd the caller owns. */
export async function getSharedObject(conn: Connection<'frontend'>, uuid: Uint8Array): Promise<number> {
  let received: number[] = [];
  const reply = await conn.call(
    { name: 'VHOST_USER_GET_SHARED_OBJECT', payload: { uuid } },
    { onReplyFds: (fds) => (received = fds) },
  );
  const [fd, ...extra] = received;
  closeFds(extra);
  if (reply.value !== 0n || fd === undefined) {
    if (fd !== undefined) closeFds([fd]);
    throw new SharedObjectError(`the back-end does not export ${uuidText(uuid)} (status ${reply.value})`);
  }
  return fd;
}

/** Who exports an object: a back-end (by its front-end connection) or the front-end itself. */
type Exporter = { kind: 'backend'; conn: Connection<'frontend'> } | { kind: 'fd'; fd: number };

/** The front-end's machine-wide table, shared by all its devices. */
export class SharedObjectBroker {
  private readonly table = new Map<string, Exporter>();

  /** An object the front-end exports itself (it keeps `fd`). */
  exportFd(uuid: Uint8Array, fd: number): void {
    const key = uuidText(uuid);
    if (this.table.has(key)) throw new SharedObjectError(`${key} is already exported`);
    this.table.set(key, { kind: 'fd', fd });
  }

  /**
   * Answers a back-end channel request of the back-end behind `from` (pass it to the front-end's
   * onBackendRequest). Returns undefined for requests that are not about shared objects.
   */
  async handle(from: Connection<'frontend'>, req: { name: string; payload: unknown }): Promise<unknown> {
    const uuid = (req.payload as { uuid: Uint8Array } | null)?.uuid;
    if (!uuid) return undefined;
    const key = uuidText(uuid);
    const entry = this.table.get(key);
    switch (req.name) {
      case 'VHOST_USER_BACKEND_SHARED_OBJECT_ADD':
        if (entry) throw new SharedObjectError(`${key} is already exported`);
        this.table.set(key, { kind: 'backend', conn: from });
        return undefined;
      case 'VHOST_USER_BACKEND_SHARED_OBJECT_REMOVE':
        // Only the exporter may withdraw its entry; others are ignored.
        if (entry?.kind === 'backend' && entry.conn === from) this.table.delete(key);
        return undefined;
      case 'VHOST_USER_BACKEND_SHARED_OBJECT_LOOKUP': {
        if (!entry) return { value: FAILED };
        if (entry.kind === 'fd') return new ReplyWithFds({ value: 0n }, [native.dup(entry.fd)]);
        try {
          return new ReplyWithFds({ value: 0n }, [await getSharedObject(entry.conn, uuid)]);
        } catch {
          return { value: FAILED };
        }
      }
      default:
        return undefined;
    }
  }

  /** A back-end's connection closed: its entries go, so lookups never reach it. */
  dropBackend(conn: Connection<'frontend'>): void {
    for (const [key, entry] of this.table) if (entry.kind === 'backend' && entry.conn === conn) this.table.delete(key);
  }

  /** Whether a UUID has an exporter (for tests and logs). */
  has(uuid: Uint8Array): boolean {
    return this.table.has(uuidText(uuid));
  }
}
