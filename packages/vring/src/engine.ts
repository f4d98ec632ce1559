import type { ChainFiller, ChainHandler, CompletionFolder } from './handlers.js';

/** The operations both engines (WebAssembly core and TypeScript path) provide, on a control block. */
export interface Engine {
  readonly name: 'wasm' | 'ts';
  splitDevicePop(cb: number, max: number): number;
  splitDevicePush(cb: number, count: number): number;
  /** splitDevicePop writing COMPACT_RECORDs (first readable / writable buffer) and no segment records. */
  splitDevicePopCompact(cb: number, max: number): number;
  /** Publishes COMPACT_RECORDs (id, usedLength) as used elements. */
  splitDevicePushCompact(cb: number, count: number): number;
  splitDriverReserve(cb: number, chains: number, perChain: number): number;
  splitDriverPublish(cb: number): number;
  splitDriverReclaim(cb: number, max: number): number;
  packedDevicePop(cb: number, max: number): number;
  packedDevicePush(cb: number, count: number): number;
  packedDevicePopCompact(cb: number, max: number): number;
  packedDevicePushCompact(cb: number, count: number): number;
  packedDriverReserve(cb: number, chains: number, perChain: number): number;
  packedDriverPublish(cb: number): number;
  packedDriverReclaim(cb: number, max: number): number;
  /**
   * Fused loops with the caller's per-chain callbacks (the TypeScript path; the
   * WebAssembly core offers them to AssemblyScript programs through wasm/lib instead). The
   * queue classes fall back to the batch calls when an engine lacks them.
   */
  splitDeviceServe?(cb: number, max: number, handler: ChainHandler): number;
  packedDeviceServe?(cb: number, max: number, handler: ChainHandler): number;
  splitDriverSubmit?(
    cb: number,
    chains: number,
    perChain: number,
    filler: ChainFiller,
    descriptors: Uint16Array,
  ): number;
  splitDriverReclaimFold?<A>(cb: number, max: number, consumer: CompletionFolder<A>, acc: A): A;
  packedDriverSubmit?(
    cb: number,
    chains: number,
    perChain: number,
    filler: ChainFiller,
    descriptors: Uint16Array,
  ): number;
  packedDriverReclaimFold?<A>(cb: number, max: number, consumer: CompletionFolder<A>, acc: A): A;
}

export type EngineName = Engine['name'];
