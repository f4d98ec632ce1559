/**
 * @vhost-user/codec: typed encoders and decoders for every vhost-user message, generated from
 * the vhost-user spec, with a framer for byte streams and fds.
 */
export * from './generated/index.js';
export { VhostUserError, isVhostUserError, type VhostUserErrorCode } from './runtime/errors.js';
export type { ByteOrder } from './runtime/bytes.js';
export type { FdRule, MessageInfo, PayloadCodec, ReplyKind } from './runtime/types.js';
export * from './header.js';
export * from './features.js';
export * from './fds.js';
export * from './negotiation.js';
export * from './codec.js';
export * from './encode.js';
export * from './framer.js';
