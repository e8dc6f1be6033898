import * as tf from '@tensorflow/tfjs';
import { flatten, isTensor } from '@lopt/tree';
import { engine, type CustomKernelParams } from './internals/index.js';
import { ensureInstalled } from './install.js';
import { STOP_GRADIENT } from './second-order.js';

/**
 * The same values with no gradient flowing back (like `jax.lax.stop_gradient`), leaf by leaf.
 * Returns new tensors (sharing data); works under grad of any order and under vmap.
 */
export function stopGradient<T>(tree: T): T {
  ensureInstalled();
  const [ls, def] = flatten(tree);
  return def.unflatten(ls.map((x) => (isTensor(x) ? (tf.engine().runKernel(STOP_GRADIENT, { x }) as tf.Tensor) : x)));
}

/**
 * Defines a function with a custom vector-Jacobian product, over pytrees (like `jax.custom_vjp`).
 * `f(...args)` returns `{ value, grad }` where `value` is a pytree of tensors and
 * `grad(dValue)` returns one cotangent pytree per argument (same structure as the argument;
 * use `null` for arguments that get no gradient, e.g. non-tensor ones).
 *
 * Under grad of grad, the backward function is itself differentiated (its ops are recorded).
 */
export function customGradient<A extends unknown[], V>(
  f: (...args: A) => { value: V; grad: (dValue: V) => { [K in keyof A]: unknown } },
): (...args: A) => V {
  return (...args: A) => {
    ensureInstalled();
    const argLeaves = args.map((a) => flatten(a));
    const inputs: Record<string, tf.Tensor> = {};
    const slots: Array<Array<string | null>> = argLeaves.map(([ls], i) =>
      ls.map((l, j) => {
        if (!isTensor(l)) return null;
        const k = `${i}.${j}`;
        inputs[k] = l;
        return k;
      }),
    );
    let res: { value: V; grad: (dValue: V) => unknown[] } | undefined;
    let valueDef: ReturnType<typeof flatten>[1] | undefined;
    const forwardFunc: CustomKernelParams['forwardFunc'] = () => {
      res = f(...args) as typeof res;
      const [vl, vdef] = flatten(res!.value);
      valueDef = vdef;
      if (!vl.every(isTensor) || vl.length === 0) throw new Error('customGradient: value must be a non-empty pytree of tensors');
      return vl as tf.Tensor[];
    };
    const backwardsFunc: CustomKernelParams['backwardsFunc'] = (dy) => {
      const dys = Array.isArray(dy) ? dy : [dy];
      const cots = res!.grad(valueDef!.unflatten<V>(dys));
      if (!Array.isArray(cots) || cots.length !== args.length) {
        throw new Error(`customGradient: grad must return one cotangent per argument (${args.length}), got ${String(cots)}`);
      }
      const out: Record<string, () => tf.Tensor> = {};
      cots.forEach((c, i) => {
        if (c === null || c === undefined) {
          for (const k of slots[i]!) if (k) out[k] = () => tf.zerosLike(inputs[k]!);
          return;
        }
        const cl = flatten(c)[0];
        if (cl.length !== argLeaves[i]![0].length) {
          throw new Error(`customGradient: cotangent ${i} has ${cl.length} leaves but argument ${i} has ${argLeaves[i]![0].length}`);
        }
        slots[i]!.forEach((k, j) => {
          if (k) out[k] = () => cl[j] as tf.Tensor;
        });
      });
      return out;
    };
    const outs = engine().runKernelFunc({ forwardFunc, backwardsFunc, inputs });
    const list = Array.isArray(outs) ? outs : [outs];
    return valueDef!.unflatten<V>(list);
  };
}
