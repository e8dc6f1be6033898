import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { scope } from '@lopt/transforms';
import * as tree from '@lopt/tree';
import { useBackend, useLeakCheck } from '@lopt/test-utils';
import {
  Celo,
  CeloAdam,
  celoAdamCheckpoint,
  celoCheckpoint,
  decodeFlaxMsgpack,
  deserializeTheta,
  encodeFlaxMsgpack,
  isFlaxArray,
  pretrained,
  serializeTheta,
  thetaFromFlaxMsgpack,
  type FlaxArray,
  type FlaxTree,
} from '../src/index.js';
import golden from './fixtures/celo-decode.json';
import { bitDiff } from './helpers.js';

// fixtures/celo_reference.py decodes the same files with Python's msgpack + numpy (celo-decode.json).
const assets = join(import.meta.dirname, '..', 'assets', 'celo');

function leafAt(t: FlaxTree, path: string[]): FlaxArray {
  let n: FlaxTree = t;
  for (const k of path) n = (n as Record<string, FlaxTree>)[k]!;
  if (!isFlaxArray(n)) throw new Error(`no array at ${path.join('/')}`);
  return n;
}

/** A copy of a decoded file with `edit` applied to the map that holds `path`'s last key. */
function edited(bytes: Uint8Array, path: string[], edit: (parent: Record<string, FlaxTree>, key: string) => void): Uint8Array {
  const t = decodeFlaxMsgpack(bytes) as Record<string, FlaxTree>;
  let parent = t;
  for (const k of path.slice(0, -1)) parent = parent[k] as Record<string, FlaxTree>;
  edit(parent, path[path.length - 1]!);
  return encodeFlaxMsgpack(t);
}

describe('flax msgpack checkpoints', () => {
  beforeAll(async () => {
    await useBackend('cpu');
    scope(() => null); // @lopt/transforms installs itself (one lasting tensor) on first use
  });
  useLeakCheck();

  it('the embedded checkpoints are byte for byte the shipped assets (scripts/embed-celo.ts is up to date)', () => {
    expect(Buffer.from(celoCheckpoint()).equals(readFileSync(join(assets, 'celo.theta.state')))).toBe(true);
    expect(Buffer.from(celoAdamCheckpoint()).equals(readFileSync(join(assets, 'celo_adam.theta.state')))).toBe(true);
    expect(celoCheckpoint().byteLength).toBe(149216);
    expect(celoAdamCheckpoint().byteLength).toBe(147803);
  });

  for (const [file, bytes] of [
    ['celo.theta.state', celoCheckpoint],
    ['celo_adam.theta.state', celoAdamCheckpoint],
  ] as const) {
    it(`${file} decodes as Python's msgpack + numpy read it: every leaf's path, shape, dtype, sums and values`, () => {
      const t = decodeFlaxMsgpack(bytes());
      const want = golden[file];
      expect(want.length).toBe(file === 'celo.theta.state' ? 33 : 12);
      for (const w of want) {
        const a = leafAt(t, w.path);
        expect(a.shape, w.path.join('/')).toEqual(w.shape);
        expect(a.dtype).toBe(w.dtype);
        const v = Array.from(a.data as Float32Array);
        let sum = 0;
        let sq = 0;
        for (const x of v) {
          sum += x;
          sq += x * x;
        }
        expect(Math.abs(sum - w.sum)).toBeLessThan(1e-9 * Math.max(1, Math.abs(w.sum)) + 1e-9);
        expect(Math.abs(sq - w.sumSq)).toBeLessThan(1e-9 * Math.max(1, w.sumSq));
        expect(v.slice(0, 4)).toEqual(w.head);
        expect(v.slice(-2)).toEqual(w.tail);
      }
    });
  }

  it('decode → encode → decode gives the same file contents', () => {
    const a = decodeFlaxMsgpack(celoCheckpoint());
    const b = decodeFlaxMsgpack(encodeFlaxMsgpack(a));
    for (const w of golden['celo.theta.state']) {
      expect(Array.from(leafAt(b, w.path).data as Float32Array)).toEqual(Array.from(leafAt(a, w.path).data as Float32Array));
    }
  });

  it('a checkpoint saved back as a lopt safetensors theta file loads again bit for bit', () => {
    for (const lopt of [new Celo(), new CeloAdam()]) {
      const theta = thetaFromFlaxMsgpack(lopt, lopt instanceof Celo ? celoCheckpoint() : celoAdamCheckpoint());
      const again = deserializeTheta(lopt, serializeTheta(lopt, theta as never));
      expect(bitDiff(again, theta)).toBeNull();
      tree.dispose([theta, again]);
    }
  });

  it('a missing, extra, misshapen or integer leaf is an error naming it', () => {
    const celo = new Celo();
    const bytes = celoCheckpoint();
    const missing = edited(bytes, ['rnn_params', 'step_size', 'w'], (p, k) => delete p[k]);
    expect(() => thetaFromFlaxMsgpack(celo, missing)).toThrow('thetaFromFlaxMsgpack(Celo): theta.rnn_params.step_size.w is missing from the file (expected float32 [64,1])');
    const extra = edited(bytes, ['rnn_params', 'extra'], (p, k) => (p[k] = { w: { shape: [1], dtype: 'float32', data: new Float32Array(1) } }));
    expect(() => thetaFromFlaxMsgpack(celo, extra)).toThrow("the file has a leaf theta.rnn_params.extra.w that Celo's theta does not");
    const shape = edited(bytes, ['ff_mod_stack', '~', 'w1'], (p, k) => (p[k] = { shape: [1, 16], dtype: 'float32', data: new Float32Array(16) }));
    expect(() => thetaFromFlaxMsgpack(celo, shape)).toThrow('theta.ff_mod_stack["~"].w1: the file has shape [1,16], Celo expects [1,4,4]');
    const int = edited(bytes, ['lstm_init_state', 'cell'], (p, k) => (p[k] = { shape: [1, 64], dtype: 'int32', data: new Int32Array(64) }));
    expect(() => thetaFromFlaxMsgpack(celo, int)).toThrow('theta.lstm_init_state.cell is int32 in the file; theta is float32');
    // Celo-Adam's theta has no per-parameter MLP: Celo's file has leaves it does not.
    expect(() => thetaFromFlaxMsgpack(new CeloAdam(), bytes)).toThrow("thetaFromFlaxMsgpack(CeloAdam): the file has a leaf theta.ff_mod_stack");
    expect(() => thetaFromFlaxMsgpack(celo, new Uint8Array([0xc1, 1, 2]))).toThrow('thetaFromFlaxMsgpack(Celo): not a flax msgpack file');
  });

  it('float64 arrays load as float32', () => {
    const f64 = edited(celoCheckpoint(), ['rnn_params', 'step_size', 'b'], (p, k) => (p[k] = { shape: [1], dtype: 'float64', data: new Float64Array([0.25]) }));
    const theta = thetaFromFlaxMsgpack(new Celo(), f64);
    expect(theta.rnn_params.step_size.b.dtype).toBe('float32');
    expect(Array.from(theta.rnn_params.step_size.b.dataSync())).toEqual([0.25]);
    tree.dispose(theta);
  });

  it('pretrained.celo() / celoAdam(): ready optimizers; numSteps and loss are asked for by name; dispose frees theta', () => {
    const before = tf.memory().numTensors;
    const opt = pretrained.celo();
    const params = { w: tf.ones([3, 2]) };
    expect(() => opt.init(params)).toThrow('Celo.init: opts.numSteps is required');
    const s = opt.init(params, { numSteps: 10 });
    const g = { w: tf.fill([3, 2], 0.5) };
    expect(() => opt.update(s, g)).toThrow('Celo.update: opts.loss is required');
    const badLoss = tf.ones([2]);
    expect(() => opt.update(s, g, { loss: badLoss })).toThrow('opts.loss must be a number or a float32 scalar tensor, got float32 [2]');
    const withDefault = pretrained.celoAdam({ numSteps: 10 });
    const s2 = withDefault.init(params);
    expect(s2.numSteps.dataSync()[0]).toBe(10);
    tree.dispose([s, s2, params, g, badLoss]);
    opt.dispose();
    withDefault.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
