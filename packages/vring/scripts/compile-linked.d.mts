export declare const LINKED_FLAGS: string[];
export declare function compileLinked(source: string): WebAssembly.Module;
export declare function compileLinkedBytes(source: string): Uint8Array;
export declare function dataSegments(bytes: Uint8Array): number;
