/** Whether negotiated protocol features select a payload layout extension (today: the Xen
 *  fields of a memory region, with VHOST_USER_PROTOCOL_F_XEN_MMAP). */
import { hasFeature } from './features.js';
import { ProtocolFeature } from './generated/protocol.js';

export function usesExtension(protocolFeatures: bigint | undefined): boolean {
  return protocolFeatures !== undefined && hasFeature(protocolFeatures, ProtocolFeature.VHOST_USER_PROTOCOL_F_XEN_MMAP);
}
