/**
 * The destination back-end's postcopy state machine (spec: prose/postcopy.md): ADVISE opens a
 * userfaultfd, LISTEN arms it, the next SET_MEM_TABLE registers the regions and is answered with
 * the back-end's own base addresses, the front-end's second SET_MEM_TABLE acknowledges them, and
 * END closes the userfaultfd. Each step checks its preconditions; the machine says what the
 * back-end must do and refuses what comes out of order. The kernel side (opening the userfaultfd,
 * registering mappings) is behind `PostcopyKernel`.
 */
export type PostcopyState = 'precopy' | 'advised' | 'listening' | 'awaiting-ack' | 'running' | 'ended';

/** What the machine needs from the operating system. */
export interface PostcopyKernel {
  /** A userfaultfd after the API handshake; the back-end keeps its own copy. */
  openUserfaultfd(): number;
  /** Registers a mapping (memory offset and length) for missing-page faults. */
  register(memOffset: number, length: number): void;
  close(fd: number): void;
}

export class PostcopyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PostcopyError';
  }
}

export interface PostcopyPreconditions {
  /** VHOST_USER_PROTOCOL_F_PAGEFAULT was negotiated. */
  pagefault: boolean;
  /** VHOST_USER_PROTOCOL_F_CONFIGURE_MEM_SLOTS was negotiated (it rules postcopy out). */
  memSlots: boolean;
  /** Memory regions are mapped right now. */
  regionsMapped: boolean;
}

/** A mapped region as the back-end reports it back: its own address of the region's first byte. */
export interface PostcopyRegion {
  memOffset: number;
  length: number;
  /** The back-end's address of the region's first byte (replaces user_address in the reply). */
  backendAddress: bigint;
}

export class PostcopyMachine {
  private current: PostcopyState = 'precopy';
  private uffd: number | undefined;

  constructor(private readonly kernel: PostcopyKernel) {}

  get state(): PostcopyState {
    return this.current;
  }

  /** Whether guest memory may be touched (false from LISTEN until the front-end's acknowledgement). */
  get memoryAccessAllowed(): boolean {
    return this.current !== 'listening' && this.current !== 'awaiting-ack';
  }

  private need(expected: PostcopyState, request: string): void {
    if (this.current !== expected)
      throw new PostcopyError(`${request} in postcopy state '${this.current}', expected '${expected}'`);
  }

  private checkAllowed(p: PostcopyPreconditions, request: string): void {
    if (!p.pagefault) throw new PostcopyError(`${request} needs PAGEFAULT negotiated`);
    if (p.memSlots) throw new PostcopyError(`${request} is not allowed with CONFIGURE_MEM_SLOTS negotiated`);
  }

  /** POSTCOPY_ADVISE: returns the userfaultfd to send with the reply (a copy; ours is kept). */
  advise(p: PostcopyPreconditions): number {
    this.checkAllowed(p, 'POSTCOPY_ADVISE');
    this.need('precopy', 'POSTCOPY_ADVISE');
    this.uffd = this.kernel.openUserfaultfd();
    this.current = 'advised';
    return this.uffd;
  }

  /** POSTCOPY_LISTEN: from now on memory tables are registered, not touched. */
  listen(p: PostcopyPreconditions): void {
    this.checkAllowed(p, 'POSTCOPY_LISTEN');
    this.need('advised', 'POSTCOPY_LISTEN');
    // As libvhost-user and DPDK do: the table must come after LISTEN to be registered.
    if (p.regionsMapped) throw new PostcopyError('POSTCOPY_LISTEN with memory already mapped');
    this.current = 'listening';
  }

  /**
   * SET_MEM_TABLE while listening: registers every mapped region and returns the table to send
   * back (same order, each with the back-end's base). Outside postcopy: null (a normal table).
   */
  memTable(regions: readonly PostcopyRegion[]): PostcopyRegion[] | null {
    if (this.current !== 'listening') return null;
    for (const r of regions) this.kernel.register(r.memOffset, r.length);
    this.current = 'awaiting-ack';
    return [...regions];
  }

  /**
   * The front-end's acknowledgement (a second SET_MEM_TABLE after the bases were sent): an 8-byte
   * zero as QEMU sends, or an empty payload as the upstream text describes. Non-zero fails.
   */
  acknowledge(payload: Uint8Array): void {
    this.need('awaiting-ack', 'the postcopy memory table acknowledgement');
    if (payload.length !== 0 && payload.length !== 8)
      throw new PostcopyError(`postcopy acknowledgement of ${payload.length} bytes (8-byte zero expected)`);
    if (payload.some((b) => b !== 0)) throw new PostcopyError('the front-end reported a failed postcopy setup');
    this.current = 'running';
  }

  /** POSTCOPY_END: closes the userfaultfd; the reply's u64 is 0. */
  end(p: PostcopyPreconditions): bigint {
    this.checkAllowed(p, 'POSTCOPY_END');
    if (this.current !== 'running' && this.current !== 'listening' && this.current !== 'awaiting-ack')
      throw new PostcopyError(`POSTCOPY_END in postcopy state '${this.current}', expected after POSTCOPY_LISTEN`);
    this.release();
    this.current = 'ended';
    return 0n;
  }

  /** The session ended or the device was reset: the userfaultfd is closed. */
  release(): void {
    if (this.uffd !== undefined) this.kernel.close(this.uffd);
    this.uffd = undefined;
  }
}
