/**
 * What a front-end has negotiated at each point of a recorded session: the codec's Negotiation
 * (offers from the back-end's replies, selected features, requests sent), the live memory map, ring states. Cases walk the session with it
 * and judge each request against the state before that request.
 */
import { Negotiation, VHOST_USER_VRING_IDX_MASK, u64Value, type MemoryRegion } from '@vhost-user/codec';
import type { RecordedMessage, RecordedSession } from './recorder.js';

export interface Region {
  guestAddress: bigint;
  size: bigint;
  userAddress: bigint;
}

export interface SessionState {
  /** Offers, selections and the requests sent so far (the codec's one negotiation model). */
  negotiation: Negotiation;
  maxMemSlots: bigint | undefined;
  regions: Region[];
  /** Rings between SET_VRING_KICK and GET_VRING_BASE. */
  started: Set<number>;
}

function regionOf(r: MemoryRegion): Region {
  return { guestAddress: BigInt(r.guestAddress), size: BigInt(r.size), userAddress: BigInt(r.userAddress) };
}

function value(m: RecordedMessage): bigint {
  const v = u64Value(m.message?.payload);
  if (v === undefined) throw new TypeError(`${m.message?.name ?? `message ${m.id}`} carries no u64`);
  return v;
}

/** Applies one message to the state (after the cases have judged it). */
export function apply(state: SessionState, m: RecordedMessage): void {
  const msg = m.message;
  if (!msg) return;
  if (m.direction === 'back>front') {
    if (msg.kind !== 'reply' || msg.ack) return;
    state.negotiation.onReply(msg.name, msg.payload);
    if (msg.name === 'VHOST_USER_GET_MAX_MEM_SLOTS') state.maxMemSlots = value(m);
    return;
  }
  state.negotiation.onRequest(msg.name, msg.payload);
  const p = msg.payload as Record<string, unknown>;
  switch (msg.name) {
    case 'VHOST_USER_SET_MEM_TABLE':
      state.regions = (p.regions as MemoryRegion[]).map(regionOf);
      break;
    case 'VHOST_USER_ADD_MEM_REG':
      state.regions.push(regionOf(p.region as MemoryRegion));
      break;
    case 'VHOST_USER_REM_MEM_REG': {
      const gone = regionOf(p.region as MemoryRegion);
      state.regions = state.regions.filter((r) => !(r.guestAddress === gone.guestAddress && r.size === gone.size));
      break;
    }
    case 'VHOST_USER_SET_VRING_KICK':
      state.started.add(Number(value(m) & BigInt(VHOST_USER_VRING_IDX_MASK)));
      break;
    case 'VHOST_USER_GET_VRING_BASE':
      state.started.delete(p.index as number);
      break;
  }
}

export function initialState(): SessionState {
  return {
    negotiation: new Negotiation(),
    maxMemSlots: undefined,
    regions: [],
    started: new Set(),
  };
}

/** Calls `judge` for every front-end request with the state before it; returns the problems found. */
export function walk(
  session: RecordedSession,
  judge: (m: RecordedMessage, state: SessionState) => string | undefined,
): string[] {
  const state = initialState();
  const problems: string[] = [];
  for (const m of session.messages) {
    if (m.direction === 'front>back') {
      const problem = judge(m, state);
      if (problem) problems.push(`#${m.seq} ${problem}`);
    }
    apply(state, m);
  }
  return problems;
}
