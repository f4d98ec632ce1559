/**
 * Resource limits that keep one peer from taking the process down: what a connection may make
 * this process hold (queued bytes, fds) and how many sessions a back-end runs. Each limit is
 * enforced before the work is done, and a peer that hits one gets a ResourceLimitError, which
 * the back-end reports through `onError`. Guest memory has its own limits (memory.ts).
 */
import { VHOST_MEMORY_BASELINE_NREGIONS } from '@vhost-user/codec';

export type ResourceLimitCode =
  /** The peer does not read: its unsent replies reached twice `maxQueuedBytes`. */
  | 'SEND_QUEUE_FULL'
  /** The peer read nothing for `stallTimeoutMs` while its replies were held at `maxQueuedBytes`. */
  | 'SEND_STALLED'
  /** One message came with more fds than `maxFdsPerMessage`. */
  | 'FDS_PER_MESSAGE'
  /** A request would have made the session hold more than `maxFdsPerSession` fds. */
  | 'FDS_PER_SESSION'
  /** A front-end connected while `maxSessions` sessions were running. */
  | 'SESSIONS';

export class ResourceLimitError extends Error {
  constructor(
    readonly code: ResourceLimitCode,
    message: string,
  ) {
    super(message);
    this.name = 'ResourceLimitError';
  }
}

/** Limits of one socket's outgoing queue (see UnixSocket). */
export interface SendQueueLimits {
  /** Unsent bytes at which the socket stops reading from its peer (so it makes no more replies
   *  for it); reading resumes when half of them are sent. Twice this drops the peer. */
  maxQueuedBytes: number;
  /** A peer that takes none of its held replies for this long is dropped. */
  stallTimeoutMs: number;
}

export interface ConnectionLimits extends SendQueueLimits {
  /** Fds one message may bring; more drops the peer (no message carries more than 8). */
  maxFdsPerMessage: number;
}

export interface SessionLimits extends ConnectionLimits {
  /** Fds one session may hold: its rings' eventfds, the back-end channel, and those of requests
   *  waiting to be handled. A request that would pass it is refused (its fds closed). Default:
   *  the most a correct front-end can make a session hold, which is every ring's three eventfds
   *  and the back-end channel twice (replacements may arrive before the old ones are released)
   *  plus one message's worth: 2 * (3 * queues + 1) + 8. */
  maxFdsPerSession?: number;
  /** Sessions a back-end runs at once; a front-end connecting beyond it is closed at once. */
  maxSessions: number;
}

export const DEFAULT_LIMITS: Readonly<SessionLimits> = {
  maxQueuedBytes: 1 << 20,
  stallTimeoutMs: 10_000,
  maxFdsPerMessage: VHOST_MEMORY_BASELINE_NREGIONS,
  maxSessions: 64,
};

/** The limits in force: the defaults overridden by what the caller set. */
export function sessionLimits(overrides: Partial<SessionLimits> = {}): SessionLimits {
  return { ...DEFAULT_LIMITS, ...overrides };
}

export function fdsPerSession(limits: SessionLimits, queueCount: number): number {
  return limits.maxFdsPerSession ?? 2 * (3 * queueCount + 1) + VHOST_MEMORY_BASELINE_NREGIONS;
}
