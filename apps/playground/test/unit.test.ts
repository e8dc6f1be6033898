/** The playground's Node-testable parts: the training loop, hyperparameter checks, the browser-clean build check. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { browserClean, nodeBuiltin } from '../build/browser-clean.js';
import { EXAMPLES, findExample } from '../src/examples/index.js';
import { resolveHyper, type StepResult, type Trainer } from '../src/examples/types.js';
import { trainLoop } from '../src/loop.js';
import { APP_DIR } from './harness.js';

/** A trainer whose meta-losses are the given numbers. */
function fakeTrainer(losses: number[], nonFiniteAt = -1): Trainer & { disposed: boolean } {
  let i = 0;
  return {
    disposed: false,
    step(): StepResult {
      const metaLoss = losses[i]!;
      const r = { metaLoss, scalars: { i }, ...(i === nonFiniteAt && { nonFinite: 'theta.w has NaN or Inf' }) };
      i++;
      return r;
    },
    thetaFile: () => new Uint8Array(),
    dispose() {
      this.disposed = true;
    },
  };
}

describe('trainLoop', () => {
  it('runs the steps and hands every result over once, in order', async () => {
    const seen: number[] = [];
    let t = 0;
    const r = await trainLoop(fakeTrainer([5, 4, 3, 2, 1]), {
      steps: 5,
      shouldStop: () => false,
      onSteps: (from, rs) => rs.forEach((s, k) => seen.push(from + k, s.metaLoss)),
      yieldMs: 1,
      now: () => (t += 1),
    });
    expect(r).toEqual({ reason: 'finished', steps: 5, message: 'Finished 5 steps.', last: { metaLoss: 1, scalars: { i: 4 } } });
    expect(seen).toEqual([0, 5, 1, 4, 2, 3, 3, 2, 4, 1]);
  });

  it('a NaN meta-loss ends the run as diverged at that step, with the reason', async () => {
    const r = await trainLoop(fakeTrainer([3, 2, NaN, 1]), { steps: 10, shouldStop: () => false, onSteps: () => {} });
    expect(r.reason).toBe('diverged');
    expect(r.steps).toBe(3);
    expect(r.message).toBe('The run diverged: the meta-loss is NaN at step 3. Stopped; try a smaller meta learning rate.');
  });

  it('a theta that is not finite ends the run as diverged too', async () => {
    const r = await trainLoop(fakeTrainer([3, 2, 1], 1), { steps: 3, shouldStop: () => false, onSteps: () => {} });
    expect([r.reason, r.steps, r.message]).toEqual(['diverged', 2, 'The run diverged: theta.w has NaN or Inf at step 2. Stopped; try a smaller meta learning rate.']);
  });

  it('stops when asked, between steps', async () => {
    let calls = 0;
    const r = await trainLoop(fakeTrainer([1, 1, 1, 1]), { steps: 4, shouldStop: () => ++calls > 2, onSteps: () => {} });
    expect([r.reason, r.steps, r.message]).toEqual(['stopped', 2, 'Stopped after 2 steps.']);
  });
});

describe('examples', () => {
  it('have unique names and defaults that pass their own checks', () => {
    expect(new Set(EXAMPLES.map((e) => e.name)).size).toBe(EXAMPLES.length);
    for (const ex of EXAMPLES) expect(Object.keys(resolveHyper(ex))).toEqual(ex.hyperparams.map((h) => h.key));
    expect(() => findExample('nope')).toThrow(`Unknown example 'nope'. Examples: ${EXAMPLES.map((e) => e.name).join(', ')}`);
  });

  it('bad hyperparameters get an error naming the field', () => {
    const ex = findExample('lopt-fmnist');
    expect(() => resolveHyper(ex, { unroll: 2.5 })).toThrow('inner steps per meta-step: must be an integer, got 2.5');
    expect(() => resolveHyper(ex, { unroll: 0 })).toThrow('inner steps per meta-step: must be at least 1, got 0');
    expect(() => resolveHyper(ex, { metaLr: '' })).toThrow('meta learning rate (Adam): enter a number');
    expect(() => resolveHyper(ex, { metaLr: 'fast' })).toThrow('meta learning rate (Adam): must be a number, got "fast"');
    expect(() => resolveHyper(ex, { lopt: 'Adam' })).toThrow('learned optimizer: must be one of PerParamMLPLOpt, MLPLOpt, got "Adam"');
    expect(() => resolveHyper(ex, { lr: 1 })).toThrow("lopt-fmnist: unknown hyperparameter 'lr' (known: lopt, metaLr, unroll, batchSize)");
    expect(() => resolveHyper(findExample('meta-lr'), { initLr: 2 })).toThrow('initial RMSProp learning rate: must be at most 1, got 2');
  });
});

describe('browser-clean build check', () => {
  it('names built-ins by node: prefix, and bare names', () => {
    expect(nodeBuiltin('node:fs')).toBe('node:fs');
    expect(nodeBuiltin('fs/promises')).toBe('fs/promises');
    expect(nodeBuiltin('@lopt/tree')).toBeUndefined();
    expect(nodeBuiltin('fsevents')).toBeUndefined();
  });

  async function buildFixture(entry: string): Promise<void> {
    const { build } = await import('vite');
    const out = await mkdtemp(join(tmpdir(), 'lopt-browser-clean-'));
    const root = join(APP_DIR, 'test/fixtures/node-import');
    try {
      await build({
        configFile: false,
        root,
        logLevel: 'silent',
        plugins: [browserClean({ root: APP_DIR })],
        build: { outDir: out, lib: { entry: join(root, entry), formats: ['es'], fileName: 'out' }, write: false },
      });
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  }

  it('fails the build on a vite-ignored dynamic import of node:, naming the file and the chain to the entry', async () => {
    await expect(buildFixture('entry.ts')).rejects.toThrow(
      "browser-clean: Node built-ins are imported in the browser bundle:\n  test/fixtures/node-import/reader.ts imports 'node:fs/promises'\n    reached from: test/fixtures/node-import/reader.ts <- test/fixtures/node-import/entry.ts\n",
    );
  });

  it('passes code that names Node only in types or through process.getBuiltinModule', async () => {
    await expect(buildFixture('clean.ts')).resolves.toBeUndefined();
  });
});
