// Types of linked.mjs.
export declare function linkedModule(): WebAssembly.Module;
