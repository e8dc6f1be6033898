import { readFile, writeFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { PRNGKey, split, foldIn, normalArray, uniformArray } from '@lopt/random';
import { adam, optaxOptimizer, sgd } from '@lopt/optimizers';
import { BACKENDS, useBackend, useLeakCheck, useTempDir } from '@lopt/test-utils';
import { flatten, isTensor } from '@lopt/tree';
import {
  MetaTrainer,
  decodeCheckpoint,
  encodeCheckpoint,
  estimatorKeys,
  gradientWorkerCompute,
  memoryCheckpointStore,
  packTree,
  unpackTree,
  checkPackedTree,
  type MetaStepRecord,
  type MetaTrainerState,
  type GradientEstimator,
} from '../src/index.js';
import { checkpointDir, jsonLinesLog } from '../src/node.js';
import { DIM, metaInit, quadraticEstimator, truncatedQuadraticEstimator, validationMetaLoss, type Theta } from './fixtures/quadratic-estimators.js';

/** Every tensor of a state as arrays (bit-exact comparison). */
const stateValues = (s: MetaTrainerState) => flatten([s.gradientLearnerState, s.gradientEstimatorStates])[0].map((l) => (isTensor(l) ? Array.from(l.dataSync()) : l));
const lrOf = (trainer: MetaTrainer<Theta>, s: MetaTrainerState) => Float32Array.from(trainer.getMetaParams(s).lr.dataSync());

const estimators = (nanOnCalls?: number[]): GradientEstimator<Theta, any>[] => [quadraticEstimator({ tasks: 8 }), truncatedQuadraticEstimator({ tasks: 4, ...(nanOnCalls ? { nanOnCalls } : {}) })];

describe.each(BACKENDS)('MetaTrainer (%s)', (backend) => {
  beforeAll(() => useBackend(backend));
  useLeakCheck();
  const tmp = useTempDir('lopt-trainer-');

  it('one step applies the average of the estimates in order, computed as the closed form says', async () => {
    const trainer = new MetaTrainer<Theta>({ metaInit: metaInit(), thetaOpt: sgd(0.5), gradientEstimators: estimators() });
    const key = PRNGKey(3);
    const s0 = await trainer.init(key);
    const lr0 = lrOf(trainer, s0);
    // The closed form in float64, for the same tasks (keys as update derives them).
    const [kCompute] = split(foldIn(key, 0));
    const [k0, k1] = estimatorKeys(kCompute!, 2);
    const a0 = Array.from(uniformArray(split(k0!).at(0), [8, DIM], { minval: 0.5, maxval: 1.5 }));
    const x0 = Array.from(normalArray(split(k0!).at(1), [8, DIM]));
    const ts = s0.gradientEstimatorStates[1] as { a: tf.Tensor; x: tf.Tensor };
    const a1 = Array.from(ts.a.dataSync());
    const x1 = Array.from(ts.x.dataSync());
    void k1;
    const closed = (a: number[], x: number[], tasks: number, T: number) =>
      Array.from({ length: DIM }, (_, d) => {
        let g = 0;
        for (let t = 0; t < tasks; t++) {
          const ai = a[t * DIM + d]!;
          const xi = x[t * DIM + d]!;
          g += -T * ai * ai * xi * xi * (1 - lr0[d]! * ai) ** (2 * T - 1);
        }
        return g / tasks;
      });
    const g0 = closed(a0, x0, 8, 10);
    const g1 = closed(a1, x1, 4, 3);
    const { state: s1, record } = await trainer.update(s0);
    expect(record.applied).toBe(true);
    expect(record.step).toBe(1);
    const lr1 = lrOf(trainer, s1);
    for (let d = 0; d < DIM; d++) expect(lr1[d]).toBeCloseTo(lr0[d]! - 0.5 * ((g0[d]! + g1[d]!) / 2), 5);
    expect(Object.keys(record.metrics)).toEqual(expect.arrayContaining(['0/Quadratic8x10/metaLoss', '1/TruncatedQuadratic4x3/metaLoss', '1/TruncatedQuadratic4x3/innerStep']));
    trainer.dispose(s1);
  });

  it('gradientWorkerCompute averages (g0 + g1) / 2 bit for bit as the trainer does', async () => {
    const ests = estimators();
    const theta = metaInit().init(PRNGKey(0));
    const states = [null, ests[1]!.initWorkerState(theta, PRNGKey(1))];
    const key = PRNGKey(2);
    const keys = estimatorKeys(key, 2);
    const e0 = ests[0]!.computeGradientEstimate(theta, keys[0]!, states[0]);
    const e1 = ests[1]!.computeGradientEstimate(theta, keys[1]!, states[1]);
    const want = tf.tidy(() => tf.div(tf.add(e0.grad.lr, e1.grad.lr), 2).dataSync());
    tf.dispose([e0.grad.lr, e1.grad.lr, e0.metaLoss, e1.metaLoss]);
    tf.dispose(flatten(e1.state)[0].filter(isTensor));
    const out = await gradientWorkerCompute(theta, ests, states, key);
    expect(Array.from(out.toPut.thetaGrads.lr.dataSync())).toEqual(Array.from(want));
    expect(out.finite).toEqual([true, true]);
    tf.dispose([theta.lr, out.toPut.thetaGrads.lr, out.toPut.meanLoss, ...flatten(out.unrollStates)[0].filter(isTensor)]);
  });

  it('a run stopped at step 50 and resumed gives a bit-identical state at step 100', async () => {
    const opts = (dir: string) => ({ metaInit: metaInit(), thetaOpt: adam(0.01), gradientEstimators: estimators(), checkpoint: { store: checkpointDir(dir), every: 20 } });
    const key = PRNGKey(11);
    const full = new MetaTrainer<Theta>(opts(join(tmp(), 'full')));
    const a = await full.train({ key, steps: 100 });
    const first = new MetaTrainer<Theta>({ ...opts(join(tmp(), 'split')), log: jsonLinesLog(join(tmp(), 'split', 'log.jsonl')) });
    const half = await first.train({ key, steps: 50 });
    expect(half.state.step).toBe(50);
    first.dispose(half.state);
    expect((await readdir(join(tmp(), 'split'))).filter((n) => n.endsWith('.safetensors'))).toEqual(['checkpoint-00000020.safetensors', 'checkpoint-00000040.safetensors', 'checkpoint-00000050.safetensors']);
    // A new trainer (a new process would do the same): resumes from the step-50 checkpoint.
    const log = jsonLinesLog(join(tmp(), 'split', 'log.jsonl'));
    const second = new MetaTrainer<Theta>({ ...opts(join(tmp(), 'split')), log });
    const b = await second.train({ steps: 100, resume: true });
    await log.flush();
    expect(b.records[0]!.step).toBe(51);
    expect(Array.from(lrOf(second, b.state))).toEqual(Array.from(lrOf(full, a.state)));
    expect(stateValues(b.state)).toEqual(stateValues(a.state));
    const lines = (await readFile(join(tmp(), 'split', 'log.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as MetaStepRecord);
    expect(lines.map((l) => l.step)).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
    expect(lines[99]!.metaLoss).toBe(a.records[99]!.metaLoss);
    expect(lines[99]!.checkpoint).toBe('checkpoint-00000100.safetensors');
    // Meta-training works: the validation meta-loss went down.
    const theta0 = metaInit().init(split(key).at(0));
    expect(await scalar(validationMetaLoss(full.getMetaParams(a.state), PRNGKey(5)))).toBeLessThan((await scalar(validationMetaLoss(theta0, PRNGKey(5)))) * 0.9);
    theta0.lr.dispose();
    full.dispose(a.state);
    second.dispose(b.state);
  });

  it('a non-finite meta-gradient is skipped and reported, never applied', async () => {
    const seen: MetaStepRecord[] = [];
    const trainer = new MetaTrainer<Theta>({ metaInit: metaInit(), thetaOpt: optaxOptimizer(adam(0.01)), gradientEstimators: estimators([3]), onStep: (r) => void seen.push(r) });
    let s = await trainer.init(PRNGKey(4));
    const lrs: Float32Array[] = [lrOf(trainer, s)];
    const iters: number[] = [];
    for (let i = 0; i < 5; i++) {
      s = (await trainer.update(s)).state;
      lrs.push(lrOf(trainer, s));
      iters.push((s.gradientLearnerState.thetaOptState.iteration as tf.Scalar).dataSync()[0]!);
    }
    trainer.dispose(s);
    const r = await trainer.train({ key: PRNGKey(4), steps: 5 });
    trainer.dispose(r.state);
    const rec = seen[2]!;
    expect(rec.step).toBe(3);
    expect(rec.applied).toBe(false);
    expect(rec.skippedReason).toBe('non-finite meta-gradient at theta.lr (from estimator 1); theta not updated');
    expect(Number.isNaN(rec.thetaGradNorm)).toBe(true);
    expect(seen.map((x) => x.applied)).toEqual([true, true, false, true, true]);
    expect(seen.map((x) => x.skippedTotal)).toEqual([0, 0, 1, 1, 1]);
    expect(Array.from(lrs[3]!)).toEqual(Array.from(lrs[2]!));
    expect(lrs.every((l) => l.every(Number.isFinite))).toBe(true);
    expect(Array.from(lrs[4]!)).not.toEqual(Array.from(lrs[3]!));
    // The optimizer's step count did not advance on the skipped step.
    expect(iters).toEqual([1, 2, 2, 3, 4]);
  });

  it('validation every k steps, on the same held-out tasks', async () => {
    const vkey = PRNGKey(99);
    const trainer = new MetaTrainer<Theta>({ metaInit: metaInit(), thetaOpt: adam(0.01), gradientEstimators: estimators(), validation: { every: 2, metaLoss: validationMetaLoss, key: vkey } });
    const r = await trainer.train({ key: PRNGKey(1), steps: 4 });
    expect(r.records.map((x) => x.validationMetaLoss !== undefined)).toEqual([false, true, false, true]);
    expect(r.records[3]!.validationMetaLoss).toBe(await scalar(validationMetaLoss(trainer.getMetaParams(r.state), vkey)));
    trainer.dispose(r.state);
  });

  it('numTensors stays flat across meta-steps', async () => {
    const counts: number[] = [];
    const trainer = new MetaTrainer<Theta>({ metaInit: metaInit(), thetaOpt: adam(0.01), gradientEstimators: estimators([4]), checkpoint: { store: memoryCheckpointStore(), every: 3 }, onStep: () => void counts.push(tf.memory().numTensors) });
    const r = await trainer.train({ key: PRNGKey(1), steps: 12 });
    expect(new Set(counts.slice(1)).size).toBe(1);
    trainer.dispose(r.state);
  });
});

async function scalar(x: tf.Scalar): Promise<number> {
  const v = (await x.data())[0]!;
  x.dispose();
  return v;
}

describe('MetaTrainer checkpoints', () => {
  beforeAll(() => useBackend('cpu'));
  useLeakCheck();
  const tmp = useTempDir('lopt-ckpt-');
  const make = (dir: string, over: Record<string, unknown> = {}) =>
    new MetaTrainer<Theta>({ metaInit: metaInit(), thetaOpt: adam(0.01), gradientEstimators: estimators(), checkpoint: { store: checkpointDir(dir), every: 10 }, ...over });

  it('a truncated, corrupted or mismatched checkpoint is a clear error and the previous checkpoint is kept', async () => {
    const dir = join(tmp(), 'run');
    const key = PRNGKey(7);
    const full = make(join(tmp(), 'ref'));
    const ref = await full.train({ key, steps: 30 });
    const t = make(dir);
    t.dispose((await t.train({ key, steps: 20 })).state);
    const latest = join(dir, 'checkpoint-00000020.safetensors');
    const good = await readFile(latest);
    // Truncated.
    await writeFile(latest, good.subarray(0, good.length - 5));
    await expect(make(dir).train({ steps: 30, resume: true })).rejects.toThrow(
      /cannot resume from checkpoint checkpoint-00000020\.safetensors: decodeCheckpoint: truncated or corrupt checkpoint: .*Nothing was deleted; the previous checkpoint checkpoint-00000010\.safetensors \(step 10\) is kept: pass resume: 'checkpoint-00000010\.safetensors'/,
    );
    // One flipped bit in a tensor.
    const flipped = Uint8Array.from(good);
    flipped[flipped.length - 3]! ^= 0x10;
    await writeFile(latest, flipped);
    await expect(make(dir).train({ steps: 30, resume: true })).rejects.toThrow(/decodeCheckpoint: corrupt checkpoint: checksum [0-9a-f]{8} does not match the stored [0-9a-f]{8}/);
    // Not a checkpoint at all.
    await writeFile(latest, 'hello');
    await expect(make(dir).train({ steps: 30, resume: true })).rejects.toThrow(/truncated or corrupt checkpoint/);
    expect((await readdir(dir)).sort()).toEqual(['checkpoint-00000010.safetensors', 'checkpoint-00000020.safetensors']);
    // The previous one resumes, and the run still ends bit-identical to the uninterrupted one.
    const t2 = make(dir);
    const r = await t2.train({ steps: 30, resume: 'checkpoint-00000010.safetensors' });
    expect(stateValues(r.state)).toEqual(stateValues(ref.state));
    t2.dispose(r.state);
    full.dispose(ref.state);
  });

  it('a checkpoint of another trainer (shapes, estimators, optimizer, key) is rejected, naming what differs', async () => {
    const dir = tmp();
    const t = make(dir);
    t.dispose((await t.train({ key: PRNGKey(1), steps: 10 })).state);
    await expect(make(dir, { metaInit: metaInit(5) }).train({ steps: 20, resume: true })).rejects.toThrow(
      /mismatched checkpoint at state\.gradientEstimatorStates\[1\]\.a: the checkpoint has float32 \[4,4\], this trainer has float32 \[4,5\]/,
    );
    await expect(make(dir, { gradientEstimators: [quadraticEstimator({ tasks: 8 })] }).train({ steps: 20, resume: true })).rejects.toThrow(
      /mismatched checkpoint: it was written for estimators \[Quadratic8x10, TruncatedQuadratic4x3\], this trainer has \[Quadratic8x10\]/,
    );
    await expect(make(dir, { thetaOpt: optaxOptimizer(sgd(0.1), 'SGD') }).train({ steps: 20, resume: true })).rejects.toThrow(/written with theta optimizer thetaOpt, this trainer uses SGD/);
    await expect(make(dir).train({ key: PRNGKey(2), steps: 20, resume: true })).rejects.toThrow(/written by a run with another key/);
  });

  it('encodeCheckpoint / decodeCheckpoint round-trip every leaf kind bit for bit; tensors are readable by name', async () => {
    const state = {
      step: 3,
      key: PRNGKey(5),
      gradientLearnerState: { thetaOptState: { params: { w: tf.tensor([1.5, -0, NaN, 3e-39]) }, iteration: tf.scalar(7, 'int32') } },
      gradientEstimatorStates: [{ k: split(PRNGKey(1), 3), n: 2.5, b: tf.tensor([true, false], [2], 'bool'), none: null }],
      skipped: 1,
      thetaOptName: 'adam',
      estimatorNames: ['E'],
      metadata: { note: 'hi' },
    };
    const bytes = encodeCheckpoint(state);
    const back = decodeCheckpoint(bytes);
    expect(back.step).toBe(3);
    expect(back.skipped).toBe(1);
    expect(back.metadata).toEqual({ note: 'hi' });
    expect(Array.from(back.key.data)).toEqual(Array.from(state.key.data));
    const w = back.gradientLearnerState.thetaOptState.params.w as tf.Tensor;
    expect(new Uint32Array(Float32Array.from(w.dataSync()).buffer).slice(0, 2)).toEqual(new Uint32Array(Float32Array.from([1.5, -0]).buffer));
    expect(Array.from(w.dataSync()).slice(2)).toEqual([NaN, Math.fround(3e-39)]);
    expect(back.gradientLearnerState.thetaOptState.iteration.dtype).toBe('int32');
    const es = back.gradientEstimatorStates[0];
    expect(es.n).toBe(2.5);
    expect(es.none).toBe(null);
    expect(Array.from(es.b.dataSync())).toEqual([1, 0]);
    expect(Array.from(es.k.data)).toEqual(Array.from(state.gradientEstimatorStates[0]!.k.data));
    const { decodeSafetensors } = await import('@lopt/learned-optimizers');
    expect([...decodeSafetensors(bytes).tensors.keys()]).toEqual(['gradientLearnerState.thetaOptState.params.w']);
    tf.dispose(flatten([state.gradientLearnerState, state.gradientEstimatorStates, back.gradientLearnerState, back.gradientEstimatorStates])[0].filter(isTensor) as tf.Tensor[]);
    expect(() => encodeCheckpoint({ ...state, step: -1 })).toThrow('encodeCheckpoint: step must be a non-negative integer, got -1');
  });

  it("an estimator's error reaches the caller and leaves no tensors behind", async () => {
    const boom: GradientEstimator<Theta, null> = {
      name: 'Boom',
      initWorkerState: () => null,
      computeGradientEstimate: () => {
        throw new Error('boom');
      },
    };
    const trainer = new MetaTrainer<Theta>({ metaInit: metaInit(), thetaOpt: adam(0.01), gradientEstimators: [quadraticEstimator(), boom] });
    const s = await trainer.init(PRNGKey(0));
    const before = tf.memory().numTensors;
    await expect(trainer.update(s)).rejects.toThrow('boom');
    expect(tf.memory().numTensors).toBe(before);
    trainer.dispose(s);
  });

  it('packTree / unpackTree are bit-exact; checkPackedTree rejects a wrong structure, shape or length before any tensor is made', () => {
    const t = { w: tf.tensor([1, NaN, -0], [3]), i: tf.scalar(3, 'int32'), k: PRNGKey(1), n: 0.5 };
    const p = packTree(t);
    checkPackedTree(p, t);
    const back = unpackTree<typeof t>(p);
    expect(Array.from(back.w.dataSync())).toEqual([1, NaN, -0]);
    expect(back.i.dtype).toBe('int32');
    expect(Array.from(back.k.data)).toEqual(Array.from(t.k.data));
    const before = tf.memory().numTensors;
    expect(() => checkPackedTree(p, { w: t.w, i: t.i, n: 1 })).toThrow(/^tree: structure PyTreeDef\(\{i: \*, k: \*, n: \*, w: \*\}\) differs from the expected PyTreeDef\(\{i: \*, n: \*, w: \*\}\)$/);
    const other = { ...t, w: tf.zeros([4]) };
    expect(() => checkPackedTree(p, other, 'grad')).toThrow('grad.w: expected float32 [4], got float32 [3]');
    const short = { ...p, leaves: p.leaves.map((l) => (l.kind === 'tensor' && l.dtype === 'float32' ? { ...l, data: new Float32Array(2) } : l)) };
    expect(() => checkPackedTree(short, t, 'grad')).toThrow('grad.w: float32 [3] needs 3 values in a Float32Array');
    expect(tf.memory().numTensors).toBe(before + 1);
    tf.dispose([t.w, t.i, back.w, back.i, other.w]);
  });

  it('bad options are clear errors', () => {
    expect(() => new MetaTrainer({ metaInit: metaInit(), thetaOpt: adam(0.1) })).toThrow('MetaTrainer: gradientEstimators (a non-empty array) or pool is required');
    expect(() => new MetaTrainer({ metaInit: metaInit(), thetaOpt: adam(0.1), gradientEstimators: [] })).toThrow('inProcessPool: gradientEstimators must be a non-empty array');
    expect(() => new MetaTrainer({ metaInit: metaInit(), thetaOpt: {} as never, gradientEstimators: estimators() })).toThrow(/thetaOpt must be an Optimizer/);
    expect(() => new MetaTrainer({ metaInit: metaInit(), thetaOpt: adam(0.1), gradientEstimators: estimators(), validation: { every: 0, metaLoss: validationMetaLoss } })).toThrow(
      'MetaTrainer: validation needs every (a positive integer, got 0) and metaLoss(theta, key)',
    );
  });
});
