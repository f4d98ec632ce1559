// Types of linked.mjs.
export declare function linkedModule(): WebAssembly.Module;
export declare function linkedBytes(): Uint8Array;
