import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectNoLeaks, grad, stopGradient, valueAndGrad } from '../src/index.js';
import { BACKENDS, useBackend, values } from './helpers.js';

describe.each(BACKENDS)('grad (%s)', (backend) => {
  beforeAll(() => useBackend(backend));

  it('differentiates pytrees with closed-form gradients', () => {
    const p = { w: tf.tensor1d([1, 2, 3]), b: [tf.scalar(0.5)] };
    const x = tf.tensor1d([0.5, -1, 2]);
    const f = (q: typeof p, xx: tf.Tensor) => tf.square(tf.add(tf.sum(tf.mul(q.w, xx)), q.b[0]!)) as tf.Scalar;
    // s = w·x + b = 0.5 - 2 + 6 + 0.5 = 5; d/dw = 2 s x, d/db = 2 s
    const g = expectNoLeaks(() => grad(f)(p, x), { keepResult: true });
    expect(values(g.w)).toEqual([5, -10, 20]);
    expect(values(g.b[0]!)).toEqual([10]);
    tf.dispose([g, p, x]);
  });

  it('supports argnums (number, list, negative) and valueAndGrad', () => {
    const a = tf.scalar(3);
    const b = tf.scalar(4);
    const f = (x: tf.Tensor, y: tf.Tensor) => tf.mul(tf.square(x), y) as tf.Scalar; // x² y
    const [gx, gy] = grad(f, { argnums: [0, 1] })(a, b) as tf.Tensor[];
    expect(values(gx!)).toEqual([24]);
    expect(values(gy!)).toEqual([9]);
    const gLast = grad(f, { argnums: -1 })(a, b) as tf.Tensor;
    expect(values(gLast)).toEqual([9]);
    const [v, g] = valueAndGrad(f, { argnums: 1 })(a, b);
    expect(values(v)).toEqual([36]);
    expect(values(g)).toEqual([9]);
    tf.dispose([gx!, gy!, gLast, v, g, a, b]);
  });

  it('passes aux through with hasAux', () => {
    const x = tf.tensor1d([1, 2]);
    const f = (t: tf.Tensor) => {
      const y = tf.sum(tf.square(t)) as tf.Scalar;
      return [y, { y2: tf.mul(y, 2), n: 7 }] as const;
    };
    const before = tf.memory().numTensors;
    const [[val, aux], g] = valueAndGrad(f, { hasAux: true })(x);
    expect(values(val)).toEqual([5]);
    expect(values(aux.y2)).toEqual([10]);
    expect(aux.n).toBe(7);
    expect(values(g)).toEqual([2, 4]);
    const [g2, aux2] = grad(f, { hasAux: true })(x);
    expect(values(g2)).toEqual([2, 4]);
    expect(values(aux2.y2)).toEqual([10]);
    tf.dispose([val, aux.y2, g, g2, aux2.y2]);
    expect(tf.memory().numTensors).toBe(before);
    // aux tensors are tracked by the caller's scope like any result.
    const kept = tf.tidy(() => (grad(f, { hasAux: true })(x) as [tf.Tensor, { y2: tf.Tensor }])[1].y2);
    expect(values(kept)).toEqual([10]);
    kept.dispose();
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
  });

  it('returns zeros for inputs the output does not depend on (tfjs throws there)', () => {
    const a = tf.tensor1d([1, 2]);
    const b = tf.tensor2d([[1, 2], [3, 4]]);
    const [ga, gb] = grad((x: tf.Tensor, _y: tf.Tensor) => tf.sum(tf.exp(x)) as tf.Scalar, { argnums: [0, 1] })(a, b) as tf.Tensor[];
    expect(values(gb!)).toEqual([0, 0, 0, 0]);
    expect(gb!.shape).toEqual([2, 2]);
    const g0 = grad((_x: tf.Tensor) => tf.scalar(3))(a) as tf.Tensor;
    expect(values(g0)).toEqual([0, 0]);
    tf.dispose([a, b, ga!, gb!, g0]);
  });

  it('nests: grad of grad of x³ is 6x; third order is 6', () => {
    const f = (x: tf.Tensor) => tf.pow(x, 3) as tf.Scalar;
    const d1 = grad(f);
    const d2 = grad((x: tf.Tensor) => d1(x) as tf.Scalar);
    const d3 = grad((x: tf.Tensor) => d2(x) as tf.Scalar);
    const x = tf.scalar(1.5);
    expect(values(d2(x) as tf.Tensor)[0]).toBeCloseTo(9, 5);
    expect(values(d3(x) as tf.Tensor)[0]).toBeCloseTo(6, 4);
    x.dispose();
  });

  it('differentiates through an unrolled inner optimisation (meta-gradient of a learning rate)', () => {
    // Inner: theta_{t+1} = theta_t - lr * d/dθ ½(θ - c)²  = theta_t - lr (θ_t - c)
    // After n steps: θ_n = c + (1-lr)^n (θ_0 - c); outer L = ½ θ_n²
    // dL/dlr = θ_n * (-n (1-lr)^(n-1) (θ_0 - c)).
    const c = 2;
    const theta0 = 5;
    const n = 4;
    const lr = tf.scalar(0.3);
    const outer = (eta: tf.Tensor) => {
      let theta: tf.Tensor = tf.scalar(theta0);
      for (let i = 0; i < n; i++) {
        const g = grad((t: tf.Tensor) => tf.mul(0.5, tf.square(tf.sub(t, c))) as tf.Scalar)(theta) as tf.Tensor;
        theta = tf.sub(theta, tf.mul(eta, g));
      }
      return tf.mul(0.5, tf.square(theta)) as tf.Scalar;
    };
    const g = expectNoLeaks(() => grad(outer)(lr), { keepResult: true }) as tf.Tensor;
    const thN = c + (1 - 0.3) ** n * (theta0 - c);
    const exact = thN * (-n * (1 - 0.3) ** (n - 1) * (theta0 - c));
    expect(values(g)[0]).toBeCloseTo(exact, 4);
    tf.dispose([g, lr]);
  });

  it('MAML-style second-order gradient matches the closed form', () => {
    // L(θ) = ½ a (θ - α a θ)² for quadratic inner loss ½ a θ²: θ' = (1 - α a) θ, L = ½ a (1-αa)² θ²
    const a = 3;
    const alpha = 0.1;
    const theta = tf.scalar(2);
    const inner = (t: tf.Tensor) => tf.mul(0.5 * a, tf.square(t)) as tf.Scalar;
    const outer = (t: tf.Tensor) => inner(tf.sub(t, tf.mul(alpha, grad(inner)(t) as tf.Tensor)));
    const g = grad(outer)(theta) as tf.Tensor;
    expect(values(g)[0]).toBeCloseTo(a * (1 - alpha * a) ** 2 * 2, 5);
    // First-order MAML (stop the inner gradient) differs by the (1 - αa) factor.
    const fo = (t: tf.Tensor) => inner(tf.sub(t, tf.mul(alpha, stopGradient(grad(inner)(t) as tf.Tensor))));
    const g1 = grad(fo)(theta) as tf.Tensor;
    expect(values(g1)[0]).toBeCloseTo(a * (1 - alpha * a) * 2, 5);
    tf.dispose([theta, g, g1]);
  });

  it('gives each argument its own gradient even when the same tensor is passed twice', () => {
    const x = tf.scalar(3);
    const [g0, g1] = grad((a: tf.Tensor, b: tf.Tensor) => tf.mul(tf.square(a), b) as tf.Scalar, { argnums: [0, 1] })(x, x) as tf.Tensor[];
    expect(values(g0!)).toEqual([18]);
    expect(values(g1!)).toEqual([9]);
    tf.dispose([x, g0!, g1!]);
  });

  it('rejects bad input with clear errors', () => {
    const x = tf.tensor1d([1, 2]);
    const f = (t: tf.Tensor) => tf.sum(t) as tf.Scalar;
    expect(() => grad(f, { argnums: 2 })(x)).toThrow('grad: argnums 2 is out of range for a function called with 1 argument');
    expect(() => grad((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.add(a, b)) as tf.Scalar, { argnums: [0, 0] })(x, x)).toThrow('argnums [0,0] has duplicates');
    expect(() => grad((t: tf.Tensor) => tf.square(t))(x)).toThrow('grad: f must return a scalar, got a tensor of shape [2] (sum or mean it first)');
    expect(() => grad((t: { a: tf.Tensor; n: number }) => tf.sum(t.a) as tf.Scalar)({ a: x, n: 3 })).toThrow(
      'grad: argument 0 at n is a number 3; only float32 tensors can be differentiated',
    );
    const i = tf.tensor1d([1, 2], 'int32');
    expect(() => grad((t: { layers: tf.Tensor[] }) => tf.sum(t.layers[0]!) as tf.Scalar)({ layers: [i] })).toThrow(
      'grad: argument 0 at layers[0] is int32; only float32 tensors can be differentiated',
    );
    expect(() => grad((_t: tf.Tensor) => 3 as unknown as tf.Scalar)(x)).toThrow('grad: f must return a scalar tensor, got number 3');
    expect(() => valueAndGrad(f as never, { hasAux: true })(x)).toThrow('valueAndGrad: with hasAux, f must return [value, aux]');
    tf.dispose([x, i]);
  });

  it('leaves no tensors behind when f throws', () => {
    const x = tf.tensor1d([1, 2]);
    const ints = tf.zeros([2], 'int32');
    const before = tf.memory().numTensors;
    const bad = (t: tf.Tensor) => {
      tf.tanh(t);
      throw new Error('boom');
    };
    expect(() => grad(bad)(x)).toThrow('boom');
    expect(() => grad((t: tf.Tensor) => grad(bad)(t) as tf.Scalar)(x)).toThrow('boom');
    expect(() => valueAndGrad((t: tf.Tensor) => [tf.sum(t), { extra: tf.ones([3]) }] as const, { hasAux: true })(ints)).toThrow('int32');
    expect(tf.memory().numTensors).toBe(before);
    // The engine is still usable afterwards.
    expect(values(grad((t: tf.Tensor) => tf.sum(tf.square(t)) as tf.Scalar)(x) as tf.Tensor)).toEqual([2, 4]);
    tf.dispose([x, ints]);
  });

  it('stays flat over 1000 grad-of-grad steps', () => {
    let x: tf.Tensor = tf.scalar(0.5);
    const d2 = grad((t: tf.Tensor) => grad((u: tf.Tensor) => tf.sum(tf.mul(tf.tanh(u), tf.sigmoid(u))) as tf.Scalar)(t) as tf.Scalar);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 1000; i++) {
      const g = d2(x) as tf.Tensor;
      const next = tf.tidy(() => tf.sub(x, tf.mul(0.01, g)));
      tf.dispose([g, x]);
      x = next;
    }
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
  });
});

describe('gradients through boolean reductions', () => {
  it('all/any (e.g. a finiteness check) pass no gradient and do not throw under grad', async () => {
    await useBackend('cpu');
    const x = tf.tensor1d([1, -2, 3]);
    // applyIfFinite-style: use x only if every element is finite.
    const f = (v: tf.Tensor) => tf.sum(tf.where(tf.all(tf.isFinite(v)), tf.square(v), tf.zerosLike(v)));
    const g = grad(f)(x);
    expect(values(g)).toEqual([2, -4, 6]);
    const h = grad((v: tf.Tensor) => tf.sum(tf.mul(tf.cast(tf.any(tf.greater(v, 2)), 'float32'), v)))(x);
    expect(values(h)).toEqual([1, 1, 1]);
    tf.dispose([x, g, h]);
  });
});
