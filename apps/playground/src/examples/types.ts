/**
 * What a playground example is: a few hyperparameters the page shows as inputs, and `create`,
 * which builds a trainer that the worker steps (and the Node tests step the same way). To add an
 * example, write one module exporting a `PlaygroundExample` and list it in ./index.ts.
 */
import type { FashionMnist8x8Split, Split } from '@lopt/fashion-mnist-8x8';

export interface HyperParam {
  readonly key: string;
  readonly label: string;
  readonly default: number | string;
  /** A number input (with optional bounds), or a select when `choices` is given. */
  readonly min?: number;
  readonly max?: number;
  readonly integer?: boolean;
  readonly choices?: readonly string[];
  /** Shown beside the input. */
  readonly help?: string;
}

export type HyperValues = Readonly<Record<string, number | string>>;

/** What the environment gives a trainer: the bundled data, loaded from wherever it is served. */
export interface TrainerEnv {
  loadFashionMnist8x8(split: Split): Promise<FashionMnist8x8Split>;
}

export interface StepResult {
  /** The outer (meta) loss of this step. */
  readonly metaLoss: number;
  /** Per-step numbers to plot under the inner-training chart and show in the summary (e.g. θ). */
  readonly scalars: Readonly<Record<string, number>>;
  /** The inner-training losses of this step's unroll, when the example has them. */
  readonly inner?: readonly number[];
  /** Set when theta stopped being finite (e.g. `theta.w0 has NaN`): the run has diverged. */
  readonly nonFinite?: string;
}

export interface Trainer {
  step(): StepResult;
  /** The trained meta-parameters as a safetensors file (`serializeTheta`, the format Node writes). */
  thetaFile(): Uint8Array;
  /** Releases every tensor the trainer holds. */
  dispose(): void;
}

export interface PlaygroundExample {
  readonly name: string;
  readonly title: string;
  /** The document it follows, by title. */
  readonly source: string;
  readonly description: string;
  readonly defaultSteps: number;
  readonly defaultSeed: number;
  readonly hyperparams: readonly HyperParam[];
  /** What the inner-training chart shows: the per-step `scalars` over outer steps, or each step's unroll. */
  readonly innerChart: { readonly kind: 'scalars'; readonly keys: readonly string[]; readonly logY?: boolean } | { readonly kind: 'unroll'; readonly label: string; readonly xLabel?: string };
  /** File name for the downloaded theta. */
  readonly thetaFileName: string;
  create(o: { seed: number; hyper: HyperValues; env: TrainerEnv }): Promise<Trainer>;
}

/** The hyperparameters with defaults filled in and each value checked; throws naming the bad one. */
export function resolveHyper(ex: PlaygroundExample, given: HyperValues = {}): Record<string, number | string> {
  const out: Record<string, number | string> = {};
  for (const k of Object.keys(given)) {
    if (!ex.hyperparams.some((h) => h.key === k)) throw new Error(`${ex.name}: unknown hyperparameter '${k}' (known: ${ex.hyperparams.map((h) => h.key).join(', ')})`);
  }
  for (const h of ex.hyperparams) {
    const v = given[h.key] ?? h.default;
    if (h.choices) {
      if (typeof v !== 'string' || !h.choices.includes(v)) throw new Error(`${h.label}: must be one of ${h.choices.join(', ')}, got ${JSON.stringify(v)}`);
    } else {
      const n = typeof v === 'number' ? v : Number(v);
      if (typeof v === 'string' && v.trim() === '') throw new Error(`${h.label}: enter a number`);
      if (!Number.isFinite(n)) throw new Error(`${h.label}: must be a number, got ${JSON.stringify(v)}`);
      if (h.integer && !Number.isInteger(n)) throw new Error(`${h.label}: must be an integer, got ${n}`);
      if (h.min !== undefined && n < h.min) throw new Error(`${h.label}: must be at least ${h.min}, got ${n}`);
      if (h.max !== undefined && n > h.max) throw new Error(`${h.label}: must be at most ${h.max}, got ${n}`);
      out[h.key] = n;
      continue;
    }
    out[h.key] = v;
  }
  return out;
}
