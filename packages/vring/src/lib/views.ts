// The typed-array views the TypeScript path reads and writes the linear memory through (the
// WebAssembly core addresses its memory directly). One set of module-level functions serves
// every memory: per-memory closures made call sites polymorphic ("wrong call target" deopts, no
// inlining) as soon as a second memory existed. Each engine entry point binds its memory's views
// first; nothing between a bind and the end of a call runs user code that could rebind them,
// except the fused loops' callbacks, after which those loops bind again.

export interface Views {
  readonly u16: Uint16Array<ArrayBufferLike>;
  readonly u32: Uint32Array<ArrayBufferLike>;
  readonly view: DataView<ArrayBufferLike>;
}

export let U16: Uint16Array<ArrayBufferLike> = new Uint16Array(0);
export let U32: Uint32Array<ArrayBufferLike> = new Uint32Array(0);
export let VIEW: DataView<ArrayBufferLike> = new DataView(new ArrayBuffer(0));

/** The views of one memory (createTsEngine makes them once per memory). */
export function viewsOf(memory: WebAssembly.Memory): Views {
  const buffer = memory.buffer;
  return { u16: new Uint16Array(buffer), u32: new Uint32Array(buffer), view: new DataView(buffer) };
}

/** Makes `v` the views of the engine being called. */
export function bind(v: Views): void {
  if (U32 !== v.u32) {
    U16 = v.u16;
    U32 = v.u32;
    VIEW = v.view;
  }
}
