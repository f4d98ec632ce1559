/** @vhost-user/transport: Unix sockets with fd passing, memfd/eventfd/mmap, connection, front-end, back-end. */
export {
  native,
  isErrno,
  closeFds,
  READABLE,
  WRITABLE,
  type NativeBinding,
  type RecvResult,
  type ErrnoError,
} from './native.js';
export { UnixSocket, UnixListener, type SocketHandlers, type ListenerOptions } from './socket.js';
export {
  ResourceLimitError,
  DEFAULT_LIMITS,
  type ResourceLimitCode,
  type SendQueueLimits,
  type ConnectionLimits,
  type SessionLimits,
} from './limits.js';
export { EventFd } from './eventfd.js';
export {
  MemorySpace,
  GuestRegions,
  MemoryError,
  type MappedRange,
  type GuestRegion,
  type MemorySpaceOptions,
} from './memory.js';
export { ReceivedFds } from './fds.js';
export {
  Connection,
  ConnectionError,
  ReplyWithFds,
  type ConnectionOptions,
  type RequestHandler,
  type RequestOptions,
} from './connection.js';
export { FrontendGuestMemory, type GuestMemoryOptions } from './guest-memory.js';
export {
  VhostUserFrontend,
  FRONTEND_PROTOCOL_FEATURES,
  VIRTIO_STATUS,
  type FrontendOptions,
  type Negotiated,
  type RingSetup,
  type StartedRing,
} from './frontend.js';
export { DeviceRing, RingError, splitRingFootprint, type Chain, type Segment, type EngineName } from './ring/queues.js';
export { VhostUserBlkClient, BlkIoError, type BlkClientOptions } from './devices/blk-client.js';
export { VIRTIO_BLK } from './devices/virtio-blk.js';
export {
  VhostUserBackend,
  BackendSession,
  BACKEND_PROTOCOL_FEATURES,
  type VhostUserDevice,
  type DeviceQueue,
  type BackendOptions,
} from './backend.js';
export { SessionMemory, type SessionMemoryOptions, type Window } from './session-memory.js';
export { SessionRing, RequestRefused } from './session-ring.js';
export { BlkBackendDevice, type BlkBackendOptions } from './devices/blk-backend.js';
export { DriverQueue, type DriverBuffer } from './ring/driver-queue.js';
export { NetSinkDevice, VIRTIO_NET_HDR_SIZE, type NetSinkOptions } from './devices/net-backend.js';
export {
  InflightError,
  SplitInflightRegion,
  PackedInflightRegion,
  inflightRegionBytes,
  inflightBufferBytes,
  type PackedDescriptorCopy,
  type PackedResubmit,
} from './inflight.js';
export { InflightBuffer, SplitInflightTracker } from './inflight-session.js';
export { DirtyLog, DirtyLogError, RingWriteLogger, type RingLogTarget, type UsedRingLog } from './dirty-log.js';
export {
  BackendStateTransfer,
  DeviceStateError,
  saveDeviceState,
  loadDeviceState,
  DEVICE_STATE_ERROR_MASK,
  DEVICE_STATE_INVALID_FD,
  MAX_DEVICE_STATE_BYTES,
  type DeviceStateOwner,
} from './device-state.js';
export {
  BackendSharedObjects,
  SharedObjectBroker,
  SharedObjectError,
  getSharedObject,
  uuidBytes,
  uuidText,
} from './shared-objects.js';
export {
  PostcopyMachine,
  PostcopyError,
  type PostcopyKernel,
  type PostcopyPreconditions,
  type PostcopyRegion,
  type PostcopyState,
} from './postcopy.js';
