/** The runtime entry point that generated code imports (`@vhost-user/codec/runtime`). */
export * from './errors.js';
export * from './bytes.js';
export * from './types.js';
export * as s from './schemas.js';
export { z } from 'zod';
