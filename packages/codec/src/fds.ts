/**
 * File descriptor rules: how many fds may travel with a message, from the `fds` column of the
 * message tables. The codec never opens or closes fds; it tells the caller when a count is
 * wrong so the caller can close what it received.
 */
import type { MessageInfo } from './runtime/types.js';
import { VhostUserError } from './runtime/errors.js';
import { hasFeature } from './features.js';

export type Side = 'request' | 'reply';

export interface FdCheckContext {
  /** Negotiated protocol features, when known (rules such as one-if-feature depend on them). */
  protocolFeatures?: bigint;
}

/** Allowed fd counts [min, max] for one side of a message, given its decoded payload. */
export function allowedFds(
  info: MessageInfo,
  side: Side,
  payload: unknown,
  ctx: FdCheckContext = {},
): [number, number] {
  const spec = info.fds[side];
  switch (spec.rule) {
    case 'none':
      return [0, 0];
    case 'one':
      return [1, 1];
    case 'one-per-region': {
      const n = info.regionCount && payload !== null ? info.regionCount(payload) : 0;
      return [n, n];
    }
    case 'one-unless-invalid-fd': {
      if (payload === null || !info.invalidFd) return [0, 1];
      return info.invalidFd(payload) ? [0, 0] : [1, 1];
    }
    case 'one-if-feature': {
      if (ctx.protocolFeatures === undefined || spec.protocolFeature === undefined) return [0, 1];
      return hasFeature(ctx.protocolFeatures, spec.protocolFeature) ? [1, 1] : [0, 0];
    }
    case 'one-on-success': {
      const ok =
        typeof payload === 'object' && payload !== null && 'value' in payload
          ? (payload as { value: unknown }).value === 0n
          : undefined;
      return ok === undefined ? [0, 1] : ok ? [1, 1] : [0, 0];
    }
    case 'none-tolerate-one':
      return [0, 1];
    case 'up-to-eight':
      return [0, 8];
  }
}

/** Throws FD_UNEXPECTED, FD_MISSING or FD_COUNT when `count` fds do not fit the rule. */
export function checkFds(
  info: MessageInfo,
  side: Side,
  payload: unknown,
  count: number,
  ctx: FdCheckContext = {},
): void {
  const [min, max] = allowedFds(info, side, payload, ctx);
  if (count >= min && count <= max) return;
  const rule = info.fds[side].rule;
  const expected = min === max ? `${min}` : `${min} to ${max}`;
  const code = max === 0 ? 'FD_UNEXPECTED' : count < min && count === 0 ? 'FD_MISSING' : 'FD_COUNT';
  throw new VhostUserError(code, `${count} fd(s) with the ${side}, expected ${expected} (rule ${rule})`, {
    messageName: info.name,
  });
}
