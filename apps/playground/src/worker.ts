/// <reference lib="dom" />
/**
 * The training worker: starts a backend, builds the example's trainer and steps it, posting the
 * numbers in batches, until the step count is reached, a stop arrives, or the meta-loss stops
 * being finite. It yields to its event loop every few tens of ms so that a stop is seen.
 */
import { loadFashionMnist8x8, type Split } from '@lopt/fashion-mnist-8x8';
import { startBackend } from './backends.js';
import { findExample } from './examples/index.js';
import { resolveHyper, type Trainer } from './examples/types.js';
import { trainLoop } from './loop.js';
import type { FromWorker, ToWorker } from './protocol.js';

const scope = self as unknown as { postMessage(m: FromWorker, transfer?: Transferable[]): void; onmessage: ((ev: MessageEvent<ToWorker>) => void) | null };
const post = (m: FromWorker, transfer?: Transferable[]) => scope.postMessage(m, transfer);

let stopRequested = false;
let running = false;

const SPLIT_NAMES: Record<Split, string> = { train: 'training', test: 'test' };

async function run(m: Extract<ToWorker, { type: 'start' }>): Promise<void> {
  const { backend, notice } = await startBackend(m.backend, m.wasmPaths);
  post({ type: 'backend', backend, ...(notice !== undefined && { notice }) });
  const ex = findExample(m.example);
  const hyper = resolveHyper(ex, m.hyper);
  post({ type: 'status', text: `preparing ${ex.name}…` });
  const env = {
    async loadFashionMnist8x8(split: Split) {
      post({ type: 'status', text: `loading Fashion-MNIST 8×8 (${SPLIT_NAMES[split]} split)…` });
      try {
        return await loadFashionMnist8x8(split, { dir: m.dataUrl });
      } catch (e) {
        throw new Error(`Could not load the Fashion-MNIST 8×8 ${SPLIT_NAMES[split]} split from ${new URL(m.dataUrl, location.href).href}: ${(e as Error).message}`, { cause: e });
      }
    },
  };
  const trainer: Trainer = await ex.create({ seed: m.seed, hyper, env });
  post({ type: 'status', text: `training on ${backend}…` });
  const t0 = performance.now();
  try {
    const r = await trainLoop(trainer, {
      steps: m.steps,
      shouldStop: () => stopRequested,
      onSteps: (from, results) => post({ type: 'steps', from, results }),
    });
    const msPerStep = (performance.now() - t0) / Math.max(r.steps, 1);
    const theta = r.reason === 'diverged' ? undefined : trainer.thetaFile();
    post({ type: 'done', reason: r.reason, steps: r.steps, message: r.message, ...(r.last && { final: r.last }), ...(theta && { theta }), backend, msPerStep }, theta ? [theta.buffer] : []);
  } finally {
    trainer.dispose();
  }
}

scope.onmessage = (ev) => {
  const m = ev.data;
  if (m.type === 'stop') {
    stopRequested = true;
    return;
  }
  if (running) {
    post({ type: 'error', message: 'A run is already in progress in this worker.' });
    return;
  }
  running = true;
  stopRequested = false;
  run(m)
    .catch((e: unknown) => post({ type: 'error', message: e instanceof Error ? e.message : String(e) }))
    .finally(() => {
      running = false;
    });
};
