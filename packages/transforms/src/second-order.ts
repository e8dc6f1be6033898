import * as tf from '@tensorflow/tfjs';
import { shareData, type CustomKernelParams, type EngineInternals, type TapeNode } from './internals/index.js';
import type { Runtime } from './runtime.js';
import { unbroadcast } from './unbroadcast.js';

/**
 * Correct higher-order gradients for tfjs.
 *
 * What goes wrong in tfjs 4.x (tfjs issue 3252): when a kernel's gradient uses tensors saved in
 * the forward pass, the engine clones them *while the kernel runs*, so the clones' tape nodes land
 * on the tape before the op's own node. Walking the tape forward from x, the engine then sees the
 * saved copy of an output as a constant, and second derivatives through tanh, sigmoid, exp,
 * softmax, pow, max, ... silently lose a term. customGrad ops (logSoftmax, softmax cross-entropy,
 * logSigmoid, fused matMul) run their forward with the tape off, so intermediates they save are
 * constants too. And some ops used inside gradients (Equal, Greater, LogicalNot, EluGrad) have no
 * gradient at all, so differentiating through them throws.
 *
 * The fix works on the mechanism, not on call sites (installed once by install.ts):
 *  1. clones made for the backward pass are moved on the tape to just after the op's own node;
 *  2. under a tape, customGrad forwards run on the tape (their saved tensors are then connected),
 *     and the custom node gets fresh outputs so first-order gradients still use the custom rule;
 *  3. zero gradients for comparison/logical ops, a gradient for EluGrad and Cumprod, and a
 *     BatchMatMul gradient that also handles broadcast batch dimensions (tfjs' own one does not).
 */
export const STOP_GRADIENT = 'LoptStopGradient';

/** The engine half of the fix (1 and 2). The innermost engine wrapper: installed before vmap's. */
export function patchTape(e: EngineInternals, rt: Runtime): void {
  const pending = rt.pendingCopies;
  // The backward of a saved copy is the identity: a taped kernel only when a tape is recording
  // (third order and up), otherwise just another view of dy.
  const copyGrad = (dys: tf.Tensor[]) => ({ x: () => (e.isTapeOn() ? tf.clone(dys[0]!) : shareData(dys[0]!)) });
  // tfjs' clone for saved tensors, without a kernel dispatch (it is the engine's busiest call): a
  // new tensor over the same data plus a tape node. Made while a kernel runs, the node waits in
  // `pending` and joins the tape right after the op's own node.
  e.clone = function (this: EngineInternals, x: tf.Tensor): tf.Tensor {
    const y = shareData(x);
    const tape = this.state.activeTape;
    if (tape !== null && tape !== undefined) {
      const node: TapeNode = { id: this.state.nextTapeNodeId++, kernelName: 'LoptSavedCopy', inputs: { x }, outputs: [y], saved: [], gradient: copyGrad };
      (this.state.kernelDepth > 0 ? pending : tape).push(node);
    }
    return y;
  };

  const origAdd = e.addTapeNode;
  e.addTapeNode = function (this: EngineInternals, kernelName, inputs, outputs, gradFunc, saved, attrs) {
    // stopGradient: leave no node, so nothing upstream is even visited by backprop.
    if (kernelName === STOP_GRADIENT) return;
    origAdd.call(this, kernelName, inputs, outputs, gradFunc, saved, attrs);
    if (pending.length > 0 && this.state.kernelDepth === 0 && this.state.activeTape) {
      this.state.activeTape.push(...pending);
      pending.length = 0;
    }
  };

  const origRunKernelFunc = e.runKernelFunc;
  e.runKernelFunc = function (this: EngineInternals, params) {
    if (params.kernelName == null && this.isTapeOn()) return runCustomOnTape(this, params as CustomKernelParams);
    return origRunKernelFunc.call(this, params);
  };
}

/** customGrad under a tape: forward recorded op by op, then the custom node with fresh outputs. */
function runCustomOnTape(e: EngineInternals, params: CustomKernelParams): tf.Tensor | tf.Tensor[] {
  const name = e.state.activeScope?.name ?? '';
  let saved: tf.Tensor[] = [];
  // A plain taped identity: recorded once, after the forward ops that made `t`.
  const save = (ts: tf.Tensor[]) => {
    saved = ts.map((t) => e.keep(tf.clone(t)));
  };
  const out = e.tidy(() => params.forwardFunc(e.backend, save));
  const outs = Array.isArray(out) ? out : [out];
  const fresh = outs.map((o) => shareData(o));
  e.addTapeNode(name, params.inputs, fresh, params.backwardsFunc, saved, {});
  return Array.isArray(out) ? fresh : fresh[0]!;
}

const zeros = (x: tf.Tensor) => () => tf.zeros(x.shape, 'float32');

function registerZeroGrad(kernelName: string, inputNames: string[]): void {
  if (tf.getGradient(kernelName) != null) return;
  tf.registerGradient({
    kernelName,
    inputsToSave: inputNames,
    gradFunc: (_dy, saved) => Object.fromEntries(inputNames.map((n, i) => [n, zeros(saved[i]!)])),
  });
}

/** The gradient half of the fix (3). */
export function registerCorrectnessGradients(): void {
  for (const k of ['Equal', 'NotEqual', 'Greater', 'Less', 'LessEqual', 'GreaterEqual', 'LogicalAnd', 'LogicalOr', 'LogicalXor']) {
    registerZeroGrad(k, ['a', 'b']);
  }
  for (const k of ['LogicalNot', 'IsNan', 'IsInf', 'IsFinite', 'Sign', 'Floor', 'Ceil', 'Round', 'ZerosLike', 'OnesLike', 'All', 'Any']) {
    registerZeroGrad(k, ['x']);
  }
  // EluGrad(dy, y) = dy * (y >= 0 ? 1 : y + 1): the backward of elu, made differentiable.
  if (tf.getGradient('EluGrad') == null) {
    tf.registerGradient({
      kernelName: 'EluGrad',
      inputsToSave: ['dy', 'y'],
      gradFunc: (ddx, saved) => {
        const [dy, y] = saved as [tf.Tensor, tf.Tensor];
        const g = ddx as tf.Tensor;
        return {
          dy: () => tf.engine().runKernel('EluGrad', { dy: g, y }) as tf.Tensor,
          y: () => tf.mul(g, tf.mul(dy, tf.cast(tf.less(y, 0), 'float32'))),
        };
      },
    });
  }
  // Cumprod (used by prod's gradient) has none in tfjs: d/dx of y = cumprod(x) is
  // cumsum(dy * y, reversed) / x, as in TensorFlow (undefined where x == 0, like TF).
  if (tf.getGradient('Cumprod') == null) {
    tf.registerGradient({
      kernelName: 'Cumprod',
      inputsToSave: ['x'],
      outputsToSave: [true],
      gradFunc: (dy, saved, attrs) => {
        const [x, y] = saved as [tf.Tensor, tf.Tensor];
        const { axis, exclusive, reverse } = attrs as { axis: number; exclusive: boolean; reverse: boolean };
        return { x: () => tf.div(tf.cumsum(tf.mul(dy as tf.Tensor, y), axis, exclusive, !reverse), x) };
      },
    });
  }
  tf.registerGradient({ kernelName: STOP_GRADIENT, gradFunc: (dy) => ({ x: () => tf.zerosLike(dy as tf.Tensor) }) });
  registerBatchMatMulGrad();
}

/** BatchMatMul's gradient, also for broadcast batch dims (e.g. [m,k] @ [B,k,n]). */
function registerBatchMatMulGrad(): void {
  tf.registerGradient({
    kernelName: 'BatchMatMul',
    inputsToSave: ['a', 'b'],
    gradFunc: (dy, saved, attrs) => {
      const [a, b] = saved as [tf.Tensor, tf.Tensor];
      const g = dy as tf.Tensor;
      const { transposeA, transposeB } = attrs as { transposeA: boolean; transposeB: boolean };
      const mm = tf.matMul;
      let da: () => tf.Tensor;
      let db: () => tf.Tensor;
      if (!transposeA && !transposeB) {
        da = () => mm(g, b, false, true);
        db = () => mm(a, g, true, false);
      } else if (!transposeA && transposeB) {
        da = () => mm(g, b, false, false);
        db = () => mm(g, a, true, false);
      } else if (transposeA && !transposeB) {
        da = () => mm(b, g, false, true);
        db = () => mm(a, g, false, false);
      } else {
        da = () => mm(b, g, true, true);
        db = () => mm(g, a, true, true);
      }
      return { a: () => unbroadcast(da(), a.shape), b: () => unbroadcast(db(), b.shape) };
    },
  });
}
