/** Errors of the vring API (setup mistakes by the caller; ring problems are REJECT reasons, not throws). */
export type VringErrorCode = 'INVALID_ARGUMENT' | 'OUT_OF_SCRATCH' | 'BAD_RING_ADDRESS' | 'WASM_UNAVAILABLE';

export class VringError extends Error {
  readonly code: VringErrorCode;
  constructor(code: VringErrorCode, message: string) {
    super(message);
    this.name = 'VringError';
    this.code = code;
  }
}
