// Test program for the core's linkable library: drives the three batch loops with callbacks that
// log what they see into a memory area (split and packed), so test/fused.test.ts can compare the loops with the
// TypeScript path and with the JavaScript API on the WebAssembly core, call by call.
import {
  SPLIT_F_INDIRECT, SPLIT_F_WRITE, packedDeviceServe, packedDriverReclaimFold, packedDriverSubmit,
  splitDeviceServe, splitDriverReclaimFold, splitDriverSubmit,
} from "../../wasm/lib/index";

let log: u32 = 0;
let logEnd: u32 = 0;
let perChain: u32 = 0;
let bufferBase: u64 = 0;

@inline function put(value: u32): void {
  store<u32>(logEnd, value);
  logEnd += 4;
}

/** Starts a new log at `at` (the caller allocates it). */
export function startLog(at: u32): void {
  log = at;
  logEnd = at;
}

/** u32 words logged since startLog. */
export function logWords(): u32 {
  return (logEnd - log) >> 2;
}

class Handler {
  serve(id: u32, readAt: u32, readLen: u32, writeAt: u32, writeLen: u32): u32 {
    put(id); put(readAt); put(readLen); put(writeAt); put(writeLen);
    return (id * 7 + readLen + writeLen) & 0xffff;
  }
}

export function serve(cb: u32, max: u32): u32 {
  return splitDeviceServe<Handler>(cb, max);
}

class Filler {
  fill(chain: u32, head: u32, descriptors: u32): void {
    put(chain);
    put(head);
    for (let k: u32 = 0; k < perChain; k++) put(<u32>load<u16>(descriptors + (k << 1)));
  }
  address(chain: u32, k: u32, index: u32): u64 {
    return bufferBase + <u64>(index * 16 + k);
  }
  length(chain: u32, k: u32, index: u32): u32 {
    return 16 + k + chain;
  }
  flags(chain: u32, k: u32, index: u32): u32 {
    const pick = (chain + k + index) % 3;
    return pick == 0 ? 0 : pick == 1 ? SPLIT_F_WRITE : SPLIT_F_INDIRECT | SPLIT_F_WRITE;
  }
}

export function submit(cb: u32, chains: u32, descriptorsPerChain: u32, base: u64): u32 {
  perChain = descriptorsPerChain;
  bufferBase = base;
  return splitDriverSubmit<Filler>(cb, chains, descriptorsPerChain);
}

class Folder {
  complete(acc: u64, id: u32, len: u32): u64 {
    put(id); put(len);
    return <u64>(<u32>acc * 31 + id * 7 + len);
  }
}

export function fold(cb: u32, max: u32, acc: u64): u64 {
  return splitDriverReclaimFold<Folder, u64>(cb, max, acc);
}

// The same three callbacks on the packed loops.
export function servePacked(cb: u32, max: u32): u32 {
  return packedDeviceServe<Handler>(cb, max);
}

export function submitPacked(cb: u32, chains: u32, descriptorsPerChain: u32, base: u64): u32 {
  perChain = descriptorsPerChain;
  bufferBase = base;
  return packedDriverSubmit<Filler>(cb, chains, descriptorsPerChain);
}

export function foldPacked(cb: u32, max: u32, acc: u64): u64 {
  return packedDriverReclaimFold<Folder, u64>(cb, max, acc);
}
