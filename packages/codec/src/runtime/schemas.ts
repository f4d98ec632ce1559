/** zod building blocks for the generated payload schemas. */
import { z } from 'zod';

export const u8 = z.number().int().min(0).max(0xff);
export const u16 = z.number().int().min(0).max(0xffff);
export const u32 = z.number().int().min(0).max(0xffffffff);
export const u64 = z.bigint().min(0n).max(0xffff_ffff_ffff_ffffn);
export const i64 = z
  .bigint()
  .min(-(1n << 63n))
  .max((1n << 63n) - 1n);
export const bytes = (max: number) => z.instanceof(Uint8Array).refine((b) => b.length <= max, `at most ${max} bytes`);
