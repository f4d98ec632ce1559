// split-pingpong (bench/WORKLOAD.md) with its per-chain work in
// AssemblyScript, linked with the core's library (wasm/lib): the library's batch loops do the
// ring work (with all of their validation) and call the three classes below once per chain.
// The guest memory and both queues are made by the package's JavaScript API (bench/linked.mjs),
// which passes their control blocks to setupDriver() / setupDevice() and starts a loop below.
import {
  PACKED_F_WRITE, SPLIT_F_WRITE,
  packedDeviceServe, packedDriverReclaimFold, packedDriverSubmit,
  splitDeviceServe, splitDriverReclaimFold, splitDriverSubmit,
} from "../../wasm/lib/index";

const BATCH: u32 = 32;
const HEADER_BASE: u32 = 0x3000;
const HEADER_SIZE: u32 = 16;
const DATA_BASE: u32 = 0x4000;
const DATA_SIZE: u32 = 512;
const FNV_OFFSET: u32 = 0x811c9dc5;
const FNV_PRIME: u32 = 16777619;
// Driver-private record per head: u64 sector sent, u32 linear offset of the data buffer.
const INFLIGHT_STRIDE: u32 = 16;

// One instance serves one side (variant B) or both (variant A): setupDriver / setupDevice.
/** The ring layout (set up by either side): split, or packed when true. */
let packed = false;
let driver: u32 = 0;
let device: u32 = 0;
let queueSize: u32 = 0;
/** Linear offset of guest-physical address 0 (the workload's single region). */
let guestBase: u32 = 0;
let inflight: u32 = 0;
let submitted: u32 = 0;
let completed: u32 = 0;
let sum: u64 = 0;
let hash: u32 = FNV_OFFSET;
let driverErrorCount: u32 = 0;
let deviceErrorCount: u32 = 0;

/** `scratch`: 16 bytes per descriptor of the arena, for the driver-private records. */
export function setupDriver(control: u32, base: u32, scratch: u32, size: u32, packedRing: bool): void {
  packed = packedRing;
  driver = control;
  queueSize = size;
  guestBase = base;
  inflight = scratch;
  submitted = 0;
  completed = 0;
  sum = 0;
  hash = FNV_OFFSET;
  driverErrorCount = 0;
}

export function setupDevice(control: u32, size: u32, packedRing: bool): void {
  packed = packedRing;
  device = control;
  queueSize = size;
  deviceErrorCount = 0;
}

/** Builds request n (split): the blk header in the head's buffer, the data buffer of the tail. */
class Requests {
  fill(chain: u32, head: u32, descriptors: u32): void {
    request(chain, head, <u32>load<u16>(descriptors, 2));
  }
  /** Descriptor 0 is the header buffer of the head, descriptor 1 the data buffer of the tail. */
  address(chain: u32, k: u32, index: u32): u64 {
    return k == 0 ? HEADER_BASE + HEADER_SIZE * index : DATA_BASE + DATA_SIZE * index;
  }
  length(chain: u32, k: u32, index: u32): u32 {
    return k == 0 ? HEADER_SIZE : DATA_SIZE;
  }
  flags(chain: u32, k: u32, index: u32): u32 {
    return k == 0 ? 0 : SPLIT_F_WRITE;
  }
}

// The buffer id of the packed chain being built: its slots are not stable buffers, so both of
// its buffers are the id's.
let packedId: u32 = 0;

/** Builds request n (packed): header and data buffer of the chain's buffer id. */
class PackedRequests {
  fill(chain: u32, id: u32, slots: u32): void {
    packedId = id;
    request(chain, id, id);
  }
  address(chain: u32, k: u32, slot: u32): u64 {
    return k == 0 ? HEADER_BASE + HEADER_SIZE * packedId : DATA_BASE + DATA_SIZE * packedId;
  }
  length(chain: u32, k: u32, slot: u32): u32 {
    return k == 0 ? HEADER_SIZE : DATA_SIZE;
  }
  flags(chain: u32, k: u32, slot: u32): u32 {
    return k == 0 ? 0 : PACKED_F_WRITE;
  }
}

/** Writes request `chain` of this batch: the header into `key`'s buffer, the in-flight record under `key`. */
@inline function request(chain: u32, key: u32, data: u32): void {
  const sector = <u64>(submitted + chain);
  const header = guestBase + HEADER_BASE + HEADER_SIZE * key;
  store<u64>(header, 0); // type = VIRTIO_BLK_T_IN, reserved = 0
  store<u64>(header, sector, 8);
  const f = inflight + key * INFLIGHT_STRIDE;
  store<u64>(f, sector);
  store<u32>(f, guestBase + DATA_BASE + DATA_SIZE * data, 8);
}

/** Serves a request: copies the header's sector into the data buffer. */
class BlockDevice {
  serve(id: u32, header: u32, headerLength: u32, data: u32, dataLength: u32): u32 {
    if (headerLength >= 16 && dataLength >= 8 && load<u32>(header) == 0) {
      store<u64>(data, load<u64>(header, 8));
      return 8;
    }
    deviceErrorCount++;
    return 0;
  }
}

@inline function fnv(h: u32, w: u32): u32 {
  return (h ^ w) * FNV_PRIME;
}

/** Checks a completion and folds it into the checksum; the running hash is the accumulator. */
class Completions {
  complete(h: u64, id: u32, len: u32): u64 {
    let value: u64 = 0;
    if (len >= 8) {
      const f = inflight + id * INFLIGHT_STRIDE;
      value = load<u64>(load<u32>(f, 8));
      if (value != load<u64>(f)) driverErrorCount++;
    }
    sum += <u64>len + value;
    completed++;
    return fnv(fnv(fnv(<u32>h, len), <u32>value), <u32>(value >> 32));
  }
}

/** Submits one batch of min(32, left) requests when 2b descriptors are free. Returns b (0: none). */
export function submit(total: u32): u32 {
  const left = total - submitted;
  const chains = left < BATCH ? left : BATCH;
  const b = packed ? packedDriverSubmit<PackedRequests>(driver, chains, 2) : splitDriverSubmit<Requests>(driver, chains, 2);
  submitted += b;
  return b;
}

/** One device pass: serves every chain seen at one acquire of avail.idx. Returns the count. */
export function devicePass(): u32 {
  return packed ? packedDeviceServe<BlockDevice>(device, queueSize) : splitDeviceServe<BlockDevice>(device, queueSize);
}

/** Reclaims every published completion. Returns the completions so far. */
export function reclaim(): u32 {
  hash = packed
    ? <u32>packedDriverReclaimFold<Completions, u64>(driver, queueSize, hash)
    : <u32>splitDriverReclaimFold<Completions, u64>(driver, queueSize, hash);
  return completed;
}

export function checksumSum(): u64 { return sum; }
export function checksumHash(): u32 { return hash; }
export function driverErrors(): u32 { return driverErrorCount; }
export function deviceErrors(): u32 { return deviceErrorCount; }

// The workload's loops, each in one call (the caller set up the side(s) it runs).

/** Variant A: submit one batch, one device pass, reclaim, until `total` requests completed. */
export function runVariantA(total: u32): void {
  while (completed < total) {
    submit(total);
    devicePass();
    reclaim();
  }
}

/** Variant B, driver thread: reclaim, then submit a batch if enough descriptors are free; spins. */
export function runDriver(total: u32): void {
  while (completed < total) {
    reclaim();
    submit(total);
  }
}

/** Variant B, device thread: device passes until `total` chains were served; spins. */
export function runDevice(total: u32): void {
  let served: u32 = 0;
  while (served < total) served += devicePass();
}
