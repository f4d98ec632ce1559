/**
 * The blk device the TS back-end serves in `bench:blk`: a module that default-exports a factory
 * from an image path to a VhostUserDevice. This one is the transport's BlkBackendDevice; pass
 * another module with `--device` to measure another implementation against the same peers.
 */
import { BlkBackendDevice, type VhostUserDevice } from '../src/index.js';

export default function createBlkDevice(imagePath: string): VhostUserDevice {
  return new BlkBackendDevice(imagePath);
}
