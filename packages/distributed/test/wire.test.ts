import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { PRNGKey, split } from '@lopt/random';
import { noLeak, useBackend, useTempDir } from '@lopt/test-utils';
import { buildTree, checkTree, readCheckpoint, readMessage, resolveConfig, redisUrlFromEnv, specOf, WireError, writeCheckpoint, writeMessage } from '../src/index.js';
import { LearnableSGD } from '@lopt/learned-optimizers';
import { optaxOptimizer, sgd } from '@lopt/optimizers';
import { oneStepQuadratic } from './fixtures/estimators.js';

useBackend('cpu');

const tree = () => ({ w: tf.tensor([[1.5, -2], [3, 4]]), n: tf.tensor([1, 2, 3], [3], 'int32'), m: [tf.tensor([true, false], [2], 'bool')], key: split(PRNGKey(7), 2), lr: 0.25 });

const reason = (f: () => unknown): string => {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(WireError);
    return `${(e as WireError).reason}: ${(e as Error).message}`;
  }
  throw new Error('expected a WireError');
};

describe('wire messages', () => {
  it('round-trips float32, int32, bool, keys and numbers bit for bit, without leaks', () => {
    const t = tree();
    const spec = specOf(t, 'x');
    const bytes = writeMessage({ version: 3, note: 'hi' }, { x: t });
    const msg = readMessage(bytes, 1 << 20);
    expect(msg.meta).toEqual({ version: 3, note: 'hi' });
    const out = noLeak(() => {
      const back = buildTree<ReturnType<typeof tree>>(msg, 'x', spec);
      const vals = [back.w.arraySync(), back.n.arraySync(), back.m[0]!.arraySync(), Array.from(back.key.data), back.lr];
      tf.dispose([back.w, back.n, back.m[0]!]);
      return vals;
    });
    expect(out).toEqual([[[1.5, -2], [3, 4]], [1, 2, 3], [1, 0], Array.from(t.key.data), 0.25]);
    tf.dispose([t.w, t.n, t.m[0]!]);
  });

  it('rejects truncated, tampered, oversize and foreign messages before building anything', () => {
    const t = { a: tf.tensor([1, 2]) };
    const spec = specOf(t, 'g');
    const bytes = writeMessage({}, { g: t });
    const before = tf.memory().numTensors;
    expect(reason(() => readMessage(bytes.subarray(0, bytes.length - 1), 1 << 20))).toBe('malformed: malformed message: the data does not match its sha256 (truncated or half-written)');
    const flipped = bytes.slice();
    flipped[flipped.length - 1]! ^= 1;
    expect(reason(() => readMessage(flipped, 1 << 20))).toMatch(/^malformed: .*sha256/);
    expect(reason(() => readMessage(bytes, 16))).toBe(`oversize: message of ${bytes.length} bytes exceeds the limit of 16 bytes`);
    expect(reason(() => readMessage(new TextEncoder().encode('GARBAGE GARBAGE!'), 1 << 20))).toBe('malformed: malformed message: it does not start with "LOPT"');
    expect(reason(() => readMessage(new Uint8Array(3), 1 << 20))).toMatch(/shorter than the 12-byte prefix/);
    const huge = bytes.slice();
    new DataView(huge.buffer).setUint32(8, 1e9, true);
    expect(reason(() => readMessage(huge, 1 << 20))).toMatch(/header length 1000000000 exceeds/);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose(t.a);
  });

  it('checks structure, dtype, shape and finiteness against the receiver template, naming the leaf', () => {
    const want = specOf({ a: tf.zeros([2]), b: tf.zeros([], 'int32') }, 'g');
    const msgOf = (x: unknown) => readMessage(writeMessage({}, { g: x }), 1 << 20);
    const cases: Array<[unknown, string]> = [
      [{ a: tf.zeros([3]), b: tf.zeros([], 'int32') }, 'structure: g.a: expected shape [2], got [3]'],
      [{ a: tf.zeros([2]), b: tf.zeros([]) }, 'structure: g.b: expected dtype int32, got float32'],
      [{ a: tf.zeros([2]) }, 'structure: g: expected 2 leaves, got 1'],
      [{ a: tf.zeros([2]), c: tf.zeros([], 'int32') }, 'structure: g: leaf 1 is g.c, expected g.b'],
      [{ a: 1, b: tf.zeros([], 'int32') }, 'structure: g.a: expected a tensor, got a number'],
      [{ a: tf.tensor([0, NaN]), b: tf.zeros([], 'int32') }, 'nonFinite: g.a has a non-finite value at flat index 1'],
    ];
    for (const [x, msg] of cases) expect(reason(() => checkTree(msgOf(x), 'g', want, { finite: true }))).toBe(msg);
    expect(reason(() => checkTree(msgOf({}), 'other', want))).toBe("structure: the message has no 'other' tree");
  });
});

describe('config and checkpoint', () => {
  const dir = useTempDir();
  const base = { run: 'r1', taskFamily: null, learnedOptimizer: new LearnableSGD(), estimator: oneStepQuadratic(2), outerOptimizer: optaxOptimizer(sgd(0.1)) };

  it('fills defaults and names bad fields', () => {
    const c = resolveConfig(base);
    expect([c.slots, c.estimatesPerStep, c.maxStaleness, c.steps, c.lockMs, c.stalledCheckMs, c.backend]).toEqual([3, 1, 2, 100, 30000, 15000, 'cpu']);
    expect(() => resolveConfig({ ...base, run: 'a b' })).toThrow(`config: run must be 1-64 letters, digits, '-' or '_', got "a b"`);
    expect(() => resolveConfig({ ...base, slots: 0 })).toThrow('config: slots must be an integer >= 1, got 0');
    expect(() => resolveConfig({ ...base, outerOptimizer: sgd(0.1) as never })).toThrow(/outerOptimizer must be an @lopt\/optimizers Optimizer/);
    expect(resolveConfig({ ...base, estimator: ({ learnedOptimizer }) => ({ ...oneStepQuadratic(2), name: learnedOptimizer.name }) }).estimator.name).toBe('LearnableSGD');
  });

  it('takes the Redis URL from LOPT_REDIS_URL only', () => {
    expect(() => redisUrlFromEnv({})).toThrow(/^LOPT_REDIS_URL is not set/);
    expect(() => redisUrlFromEnv({ LOPT_REDIS_URL: 'http://u:secret@h' })).toThrow('LOPT_REDIS_URL must start with redis:// or rediss://, got http://***@h');
    expect(redisUrlFromEnv({ LOPT_REDIS_URL: 'redis://127.0.0.1:1' })).toBe('redis://127.0.0.1:1');
  });

  it('writes atomically and reads back exactly, checked against the outer state template', async () => {
    const o = optaxOptimizer(sgd(0.1));
    const state = o.init({ log_lr: tf.scalar(-1.25) });
    const spec = specOf(state, 'outer');
    expect(await readCheckpoint(dir(), spec, 1 << 20)).toBeNull();
    await writeCheckpoint(dir(), { step: 7, version: 7, outerState: state, slots: [{ seq: 3, state: null }], counters: { applied: 7 } });
    const back = await readCheckpoint<typeof state>(dir(), spec, 1 << 20);
    expect([back!.step, back!.slots, back!.counters, back!.outerState.params.log_lr.dataSync()[0]]).toEqual([7, [{ seq: 3, state: null }], { applied: 7 }, -1.25]);
    const other = specOf(o.init({ log_lr: tf.zeros([2]) }), 'outer');
    await expect(readCheckpoint(dir(), other, 1 << 20)).rejects.toThrow(/is unreadable: outer.params.log_lr: expected shape \[2\], got \[\] \(move it away to start over\)/);
  });
});
