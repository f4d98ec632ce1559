/** Notification suppression arithmetic (virtio EVENT_IDX), shared by both engines. */

/**
 * The packed event suppression `desc` field (off_wrap): ring offset in bits 0..14, wrap counter
 * in bit 15. spec/rings/packed.yaml gives the field's offset but not this bit split (spec gap),
 * so it is named here, once.
 */
export const OFF_WRAP = { offsetMask: 0x7fff, wrapShift: 15 } as const;

/** Split rings: true when `event` lies in the window (old, new] of free-running u16 indices. */
export function needEvent(event: number, newIdx: number, oldIdx: number): boolean {
  return ((newIdx - event - 1) & 0xffff) < ((newIdx - oldIdx) & 0xffff);
}

/**
 * Packed rings: a position is a ring index plus a wrap counter. Positions are counted modulo
 * 2 * queueSize (the wrap counter flips every lap), and the split rule is applied there.
 */
export function needEventPacked(
  queueSize: number,
  event: number,
  eventWrap: number,
  newIdx: number,
  newWrap: number,
  oldIdx: number,
  oldWrap: number,
): boolean {
  const span = 2 * queueSize;
  const pos = (idx: number, wrap: number): number => idx + (wrap ? 0 : queueSize);
  const e = pos(event, eventWrap);
  const n = pos(newIdx, newWrap);
  const o = pos(oldIdx, oldWrap);
  return (((n - e - 1) % span) + span) % span < (((n - o) % span) + span) % span;
}
