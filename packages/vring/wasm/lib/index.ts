// The linkable library of the WebAssembly core: per-chain steps on a queue's control block, for
// AssemblyScript programs that run their own per-chain work next to the core (README: "Linking
// the core"). Record layouts and reject reasons come with it.
export * from "./split";
export { packedDeviceServe, packedDriverReclaimFold, packedDriverSubmit } from "./packed";
export { translate } from "./guest";
export {
  COMPACT_RECORD_ID, COMPACT_RECORD_REASON, COMPACT_RECORD_READ_OFFSET, COMPACT_RECORD_READ_LENGTH,
  COMPACT_RECORD_WRITE_OFFSET, COMPACT_RECORD_WRITE_LENGTH, COMPACT_RECORD_SIZE, COMPACT_RECORD_USED_LENGTH,
  SPLIT_F_NEXT, SPLIT_F_WRITE, SPLIT_F_INDIRECT, PACKED_F_NEXT, PACKED_F_WRITE, PACKED_F_INDIRECT,
} from "../generated/constants";
export {
  BUFFER_SPEC_ADDR_LOW, BUFFER_SPEC_FLAGS, BUFFER_SPEC_LENGTH, BUFFER_SPEC_SIZE,
} from "../generated/constants";
