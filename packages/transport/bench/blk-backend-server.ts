/** Benchmark helper: runs the TS vhost-user-blk back-end ('async' device or 'sync' baseline) in
 *  its own process, so the front-end does not share its event loop. Args: mode image socket. */
import { BlkBackendDevice, VhostUserBackend } from '@vhost-user/transport';
import { SyncBlkDevice } from './sync-blk-device.js';

const [mode, image, socket] = process.argv.slice(2) as [string, string, string];
const backend = await VhostUserBackend.listen(socket, () =>
  mode === 'sync' ? new SyncBlkDevice(image) : new BlkBackendDevice(image, { packed: false, eventIdx: false }),
);
console.log('ready');
process.once('SIGTERM', () => void backend.close());
