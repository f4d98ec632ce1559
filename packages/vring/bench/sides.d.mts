// Types of sides.mjs (plain JavaScript for worker threads).
import type * as vring from '../src/index.js';
import type { Checksum } from './workload.mjs';

export type Api = 'linked' | 'fused' | 'batch';
export interface Implementation {
  layout: vring.RingLayout;
  engine: vring.EngineName;
  api: Api;
}
export declare function measureVariantA(
  v: typeof vring,
  impl: Implementation,
  total: number,
  module?: WebAssembly.Module,
  guest?: vring.GuestMemory,
): Checksum;
export declare function measureVariantB(
  v: typeof vring,
  impl: Implementation,
  total: number,
  warmup: number,
  module?: WebAssembly.Module,
): Promise<Checksum>;
