/** Messages between the page (main.ts) and the training worker (worker.ts). */
import type { HyperValues, StepResult } from './examples/types.js';

export const BACKEND_CHOICES = ['webgpu', 'webgl', 'wasm', 'cpu'] as const;
export type BackendChoice = (typeof BACKEND_CHOICES)[number];

export type ToWorker =
  | {
      readonly type: 'start';
      readonly example: string;
      readonly backend: BackendChoice;
      readonly steps: number;
      readonly seed: number;
      readonly hyper: HyperValues;
      /** Where the data files are served (the URL of a folder). */
      readonly dataUrl: string;
      /** Served URLs of the three tfjs-backend-wasm binaries, by file name. */
      readonly wasmPaths: Readonly<Record<string, string>>;
    }
  | { readonly type: 'stop' };

export type DoneReason = 'finished' | 'stopped' | 'diverged';

export type FromWorker =
  | { readonly type: 'backend'; readonly backend: string; readonly notice?: string }
  | { readonly type: 'status'; readonly text: string }
  | { readonly type: 'steps'; readonly from: number; readonly results: readonly StepResult[] }
  | {
      readonly type: 'done';
      readonly reason: DoneReason;
      readonly steps: number;
      readonly message: string;
      readonly final?: StepResult;
      /** The trained theta as a safetensors file (absent when a run diverged before its first step). */
      readonly theta?: Uint8Array;
      readonly backend: string;
      readonly msPerStep: number;
    }
  | { readonly type: 'error'; readonly message: string };
