/**
 * The few parts of the WebAssembly JS API that lopt's generated kernels use, typed here: the
 * package builds against the ES library only (no DOM or Node types), which does not declare them.
 */
export interface WasmMemory {
  readonly buffer: ArrayBufferLike;
}

export interface WasmApi {
  Memory: abstract new (...args: never[]) => WasmMemory;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: Record<string, Record<string, unknown>>) => { readonly exports: Record<string, unknown> };
}

/** The runtime's WebAssembly object, where there is one. */
export function wasmApi(): WasmApi | undefined {
  return (globalThis as { WebAssembly?: WasmApi }).WebAssembly;
}
