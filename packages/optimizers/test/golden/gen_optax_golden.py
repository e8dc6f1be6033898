"""Golden values for @lopt/optimizers from real optax (float32, jax_enable_x64 off).

Writes optax-golden.json beside this file: three updates of every optimizer lopt has (and of
chained / wrapped forms) on a small pytree with fixed, different gradients per step, recording the
updates, the optimizer state and the params after each step; and every schedule at several
counts, boundaries included. golden.test.ts replays the same cases with lopt on cpu and wasm.

Run from the repository root:
    /work/venv/bin/python packages/optimizers/test/golden/gen_optax_golden.py
(any Python with jax 0.10.2 and optax 0.2.8 does; the output is deterministic).

The case names are the contract with golden.test.ts: each names the lopt call it stands for.
State mapping (documented differences, also in the package README): NamedTuple fields become
camelCase keys, tuples become arrays, optax's MaskedNode becomes null, MultiSteps' empty
skip_state and inject_hyperparams' hyperparams_states (lopt evaluates schedules at its own
count) are dropped.
"""

import inspect
import json
import math
import os
import re

import jax

jax.config.update('jax_enable_x64', False)
jax.config.update('jax_platforms', 'cpu')

import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
import optax  # noqa: E402
from optax.transforms import _masking  # noqa: E402

F32 = np.float32


def tree(w, b):
  return {'w': jnp.asarray(np.array(w, F32).reshape(2, 3)), 'b': jnp.asarray(np.array(b, F32))}


PARAMS = tree([0.5, -1.0, 1.5, 2.0, -0.25, 0.75], [0.1, -0.2, 0.3])
# Global norms 1.95, 0.90 and 3.00, so clipByGlobalNorm(1) clips steps 1 and 3 only; no zeros (lion's sign).
GRADS = [
    tree([0.3, -0.8, 0.5, 1.2, -0.1, 0.4], [0.2, -0.6, 0.9]),
    tree([-0.2, 0.1, -0.4, 0.3, 0.5, -0.3], [-0.1, 0.4, 0.05]),
    tree([1.5, 0.7, -1.1, -0.9, 1.3, 0.6], [0.8, -1.2, 0.35]),
]
NAN_GRAD = tree([0.1, float('nan'), 0.2, 0.3, 0.4, 0.5], [0.1, 0.2, 0.3])
INF_GRAD = tree([0.1, 0.2, 0.3, 0.4, float('inf'), 0.6], [0.1, 0.2, 0.3])

MASK = {'w': True, 'b': False}


def mask_fn(p):
  """Decay the matrices only (what users usually mask: no biases)."""
  return jax.tree.map(lambda x: x.ndim > 1, p)


def camel(name):
  return re.sub(r'_([a-z])', lambda m: m.group(1).upper(), name)


def num(x):
  if isinstance(x, (bool, int)):
    return int(x)
  x = float(x)
  if math.isnan(x):
    return 'NaN'
  if math.isinf(x):
    return 'Infinity' if x > 0 else '-Infinity'
  return x


def array(x):
  a = np.asarray(x)
  dtype = {'float32': 'float32', 'int32': 'int32', 'bool': 'bool'}[str(a.dtype)]
  return {'shape': list(a.shape), 'dtype': dtype, 'data': [num(v) for v in a.reshape(-1).tolist()]}


def to_json(x, field=None):
  """optax pytree -> the JSON form of the matching lopt pytree."""
  if isinstance(x, _masking.MaskedNode):
    return None
  if hasattr(x, '_fields'):  # NamedTuple states
    out = {}
    for k in x._fields:
      v = getattr(x, k)
      if k == 'skip_state' and v == ():
        continue
      if k == 'hyperparams_states':
        continue
      out[camel(k)] = to_json(v, k)
    return out
  if isinstance(x, (tuple, list)):
    return [to_json(v) for v in x]
  if isinstance(x, dict):
    key = camel if field == 'hyperparams' else (lambda k: k)
    return {key(k): to_json(v) for k, v in x.items()}
  if x is None:
    return None
  return array(x)


def run(tx, grads=GRADS, between=None):
  """Three updates from PARAMS; `between(step, state)` may edit the state before step `step`."""
  params = PARAMS
  state = tx.init(params)
  steps = []
  for i, g in enumerate(grads):
    if between is not None:
      state = between(i, state)
    updates, state = tx.update(g, state, params)
    params = optax.apply_updates(params, updates)
    steps.append({'updates': to_json(updates), 'state': to_json(state), 'params': to_json(params)})
  return {'grads': [to_json(g) for g in grads], 'init': to_json(tx.init(PARAMS)), 'steps': steps}


def replace_lr(value):
  def between(i, state):
    if i != 1:
      return state
    hp = dict(state.hyperparams)
    hp['learning_rate'] = jnp.asarray(value, jnp.float32)
    return state._replace(hyperparams=hp)

  return between


def cases():
  o = optax
  lin = o.linear_schedule(init_value=0.1, end_value=0.01, transition_steps=2)
  return {
      # ---- aliases, optax defaults ----
      'sgd(0.1)': run(o.sgd(0.1)),
      'sgd(0.1, { momentum: 0.9 })': run(o.sgd(0.1, momentum=0.9)),
      'sgd(0.1, { momentum: 0.9, nesterov: true })': run(o.sgd(0.1, momentum=0.9, nesterov=True)),
      'rmsprop(0.1)': run(o.rmsprop(0.1)),
      'rmsprop(0.1, { centered: true })': run(o.rmsprop(0.1, centered=True)),
      'rmsprop(0.1, { momentum: 0.9 })': run(o.rmsprop(0.1, momentum=0.9)),
      'rmsprop(0.1, { momentum: 0.9, nesterov: true })': run(o.rmsprop(0.1, momentum=0.9, nesterov=True)),
      'rmsprop(0.1, { decay: 0.8, eps: 1e-3, initialScale: 0.1, epsInSqrt: false, biasCorrection: true })': run(
          o.rmsprop(0.1, decay=0.8, eps=1e-3, initial_scale=0.1, eps_in_sqrt=False, bias_correction=True)),
      'rmsprop(0.1, { centered: true, biasCorrection: true, momentum: 0.5 })': run(
          o.rmsprop(0.1, centered=True, bias_correction=True, momentum=0.5)),
      'adam(0.1)': run(o.adam(0.1)),
      'adam(0.1, { nesterov: true })': run(o.adam(0.1, nesterov=True)),
      'adam(0.1, { b1: 0.8, b2: 0.99, eps: 1e-6, epsRoot: 1e-8 })': run(o.adam(0.1, b1=0.8, b2=0.99, eps=1e-6, eps_root=1e-8)),
      'nadam(0.1)': run(o.nadam(0.1)),
      'adamw(0.1)': run(o.adamw(0.1)),
      'adamw(0.1, { weightDecay: 0.1 })': run(o.adamw(0.1, weight_decay=0.1)),
      'adamw(0.1, { weightDecay: 0.1, mask: { w: true, b: false } })': run(o.adamw(0.1, weight_decay=0.1, mask=MASK)),
      'adamw(0.1, { weightDecay: 0.1, mask: matricesOnly })': run(o.adamw(0.1, weight_decay=0.1, mask=mask_fn)),
      'adamw(0.1, { weightDecay: 0.1, nesterov: true })': run(o.adamw(0.1, weight_decay=0.1, nesterov=True)),
      'adamax(0.1)': run(o.adamax(0.1)),
      'adagrad(0.1)': run(o.adagrad(0.1)),
      'adagrad(0.1, { initialAccumulatorValue: 0 })': run(o.adagrad(0.1, initial_accumulator_value=0.0)),
      'lamb(0.1)': run(o.lamb(0.1)),
      'lamb(0.1, { weightDecay: 0.1, mask: { w: true, b: false } })': run(o.lamb(0.1, weight_decay=0.1, mask=MASK)),
      'lion(0.1)': run(o.lion(0.1)),
      'lion(0.1, { b1: 0.5, weightDecay: 0.1, mask: { w: true, b: false } })': run(o.lion(0.1, b1=0.5, weight_decay=0.1, mask=MASK)),
      'adabelief(0.1)': run(o.adabelief(0.1)),
      'adabelief(0.1, { nesterov: true })': run(o.adabelief(0.1, nesterov=True)),
      # lopt's adabelief also takes optax's decoupled weight decay (optax 0.2.8's adabelief has none):
      # the chain it builds.
      'adabelief(0.1, { weightDecay: 0.1 })': run(
          o.chain(o.scale_by_belief(), o.add_decayed_weights(0.1), o.scale_by_learning_rate(0.1))),
      # ---- schedules inside aliases ----
      'adam(cosineDecaySchedule({ initValue: 0.1, decaySteps: 3 }))': run(o.adam(o.cosine_decay_schedule(0.1, 3))),
      'adamw(0.1, { weightDecay: linearSchedule({ initValue: 0.1, endValue: 0, transitionSteps: 2 }) })': run(
          o.adamw(0.1, weight_decay=o.linear_schedule(0.1, 0.0, 2))),
      # ---- building blocks and chains ----
      'chain(clipByGlobalNorm(1), adam(0.1))': run(o.chain(o.clip_by_global_norm(1.0), o.adam(0.1))),
      'chain(clip(0.5), sgd(0.1, { momentum: 0.9 }))': run(o.chain(o.clip(0.5), o.sgd(0.1, momentum=0.9))),
      'chain(scaleByStddev({ decay: 0.8 }), scaleByTrustRatio({ minNorm: 0.5, trustCoefficient: 0.5, eps: 1e-3 }), scale(-0.1))': run(
          o.chain(o.scale_by_stddev(decay=0.8), o.scale_by_trust_ratio(min_norm=0.5, trust_coefficient=0.5, eps=1e-3), o.scale(-0.1))),
      'chain(scaleByAdam(), addDecayedWeights(0.1), scaleByLearningRate(0.1, { flipSign: false }))': run(
          o.chain(o.scale_by_adam(), o.add_decayed_weights(0.1), o.scale_by_learning_rate(0.1, flip_sign=False))),
      'chain(scaleByRss(), trace(0.5), scaleBySchedule(exponentialDecay({ initValue: -0.1, transitionSteps: 1, decayRate: 0.5 })))': run(
          o.chain(o.scale_by_rss(), o.trace(0.5), o.scale_by_schedule(o.exponential_decay(-0.1, 1, 0.5)))),
      'chain(scaleByAdamax(), scaleByLion(), scaleByBelief(), scale(0.1))': run(
          o.chain(o.scale_by_adamax(), o.scale_by_lion(), o.scale_by_belief(), o.scale(0.1))),
      # optax's scale_by_learning_rate() (None) is the identity.
      'chain(scaleByAdam(), scaleByLearningRate())': run(o.chain(o.scale_by_adam(), o.scale_by_learning_rate())),
      # ---- wrappers ----
      'masked(adam(0.1), { w: true, b: false })': run(o.masked(o.adam(0.1), MASK)),
      'masked(sgd(0.1, { momentum: 0.9 }), matricesOnly)': run(o.masked(o.sgd(0.1, momentum=0.9), mask_fn)),
      'multiSteps(adam(0.1), 2)': run(o.MultiSteps(o.adam(0.1), 2)),
      'multiSteps(sgd(0.1, { momentum: 0.9 }), 2, { useGradMean: false })': run(
          o.MultiSteps(o.sgd(0.1, momentum=0.9), 2, use_grad_mean=False)),
      # A NaN gradient on step 2 is skipped (zeros, inner state kept).
      'applyIfFinite(adam(0.1), 2) [g1, NaN, g3]': run(o.apply_if_finite(o.adam(0.1), 2), [GRADS[0], NAN_GRAD, GRADS[2]]),
      # With maxConsecutiveErrors 0 the Inf goes through and poisons the state, as in optax.
      'applyIfFinite(adam(0.1), 0) [g1, Inf, g3]': run(o.apply_if_finite(o.adam(0.1), 0), [GRADS[0], INF_GRAD, GRADS[2]]),
      # state.hyperparams.learningRate replaced by 0.05 before step 2.
      'injectHyperparams(rmsprop)({ learningRate: 0.1 }) lr := 0.05 at step 2': run(
          o.inject_hyperparams(o.rmsprop)(learning_rate=0.1), between=replace_lr(0.05)),
      'injectHyperparams(adam)({ learningRate: linearSchedule({ initValue: 0.1, endValue: 0.01, transitionSteps: 2 }), b1: 0.8 })': run(
          o.inject_hyperparams(o.adam)(learning_rate=lin, b1=0.8)),
      'injectHyperparams(adamw)({ learningRate: 0.1, weightDecay: 0.1, mask: { w: true, b: false } })': run(
          o.inject_hyperparams(o.adamw)(learning_rate=0.1, weight_decay=0.1, mask=MASK)),
  }


def schedules():
  o = optax
  table = {
      'constantSchedule(0.5)': (o.constant_schedule(0.5), [0, 1, 100]),
      'linearSchedule({ initValue: 1, endValue: 0.1, transitionSteps: 10, transitionBegin: 5 })': (
          o.linear_schedule(1.0, 0.1, 10, 5), [0, 4, 5, 6, 10, 14, 15, 16, 100]),
      'polynomialSchedule({ initValue: 1, endValue: 0.01, power: 2, transitionSteps: 10 })': (
          o.polynomial_schedule(1.0, 0.01, 2, 10), [0, 1, 5, 9, 10, 11]),
      'polynomialSchedule({ initValue: 1, endValue: 0.5, power: 0.5, transitionSteps: 4, transitionBegin: 2 })': (
          o.polynomial_schedule(1.0, 0.5, 0.5, 4, 2), [0, 2, 3, 5, 6, 7]),
      'polynomialSchedule({ initValue: 2, endValue: 1, power: 1, transitionSteps: 0 })': (
          o.polynomial_schedule(2.0, 1.0, 1, 0), [0, 1, 5]),
      'cosineDecaySchedule({ initValue: 1, decaySteps: 10, alpha: 0.1 })': (
          o.cosine_decay_schedule(1.0, 10, 0.1), [0, 1, 5, 9, 10, 11, 20]),
      'cosineDecaySchedule({ initValue: 0.5, decaySteps: 8, exponent: 2 })': (
          o.cosine_decay_schedule(0.5, 8, exponent=2.0), [0, 2, 4, 8, 9]),
      'exponentialDecay({ initValue: 1, transitionSteps: 3, decayRate: 0.5 })': (
          o.exponential_decay(1.0, 3, 0.5), [0, 1, 3, 6, 7]),
      'exponentialDecay({ initValue: 1, transitionSteps: 3, decayRate: 0.5, transitionBegin: 2, staircase: true, endValue: 0.2 })': (
          o.exponential_decay(1.0, 3, 0.5, transition_begin=2, staircase=True, end_value=0.2), [0, 2, 3, 4, 5, 7, 8, 11, 20]),
      'exponentialDecay({ initValue: 0.1, transitionSteps: 2, decayRate: 2, endValue: 0.5 })': (
          o.exponential_decay(0.1, 2, 2.0, end_value=0.5), [0, 1, 2, 4, 5, 6, 10]),
      'piecewiseConstantSchedule(1, { 3: 0.5, 6: 0.1 })': (
          o.piecewise_constant_schedule(1.0, {3: 0.5, 6: 0.1}), [0, 2, 3, 5, 6, 7]),
      'joinSchedules([constantSchedule(1), linearSchedule({ initValue: 1, endValue: 0, transitionSteps: 10 })], [5])': (
          o.join_schedules([o.constant_schedule(1.0), o.linear_schedule(1.0, 0.0, 10)], [5]), [0, 4, 5, 6, 10, 15, 16]),
      'warmupCosineDecaySchedule({ initValue: 0, peakValue: 1, warmupSteps: 3, decaySteps: 10, endValue: 0.1 })': (
          o.warmup_cosine_decay_schedule(0.0, 1.0, 3, 10, 0.1), [0, 1, 3, 4, 6, 10, 11]),
      'warmupCosineDecaySchedule({ initValue: 0.1, peakValue: 1, warmupSteps: 2, decaySteps: 6, exponent: 2 })': (
          o.warmup_cosine_decay_schedule(0.1, 1.0, 2, 6, exponent=2.0), [0, 1, 2, 3, 6, 7]),
      'warmupExponentialDecaySchedule({ initValue: 0, peakValue: 1, warmupSteps: 2, transitionSteps: 2, decayRate: 0.5, transitionBegin: 1, staircase: true, endValue: 0.1 })': (
          o.warmup_exponential_decay_schedule(0.0, 1.0, 2, 2, 0.5, transition_begin=1, staircase=True, end_value=0.1),
          [0, 1, 2, 3, 4, 5, 6, 9, 20]),
  }
  out = {}
  for name, (fn, counts) in table.items():
    # As transformations call them: with an int32 count array.
    vals = [float(np.asarray(fn(jnp.asarray(c, jnp.int32)), F32)) for c in counts]
    out[name] = {'counts': counts, 'values': [num(v) for v in vals]}
  return out


# lopt factory -> optax factory, for the defaults check. dtype arguments have no lopt counterpart.
FACTORIES = {
    'sgd': 'sgd', 'rmsprop': 'rmsprop', 'adam': 'adam', 'nadam': 'nadam', 'adamw': 'adamw',
    'adamax': 'adamax', 'adagrad': 'adagrad', 'lamb': 'lamb', 'lion': 'lion', 'adabelief': 'adabelief',
    'scale': 'scale', 'scaleByLearningRate': 'scale_by_learning_rate', 'scaleByAdam': 'scale_by_adam',
    'scaleByRms': 'scale_by_rms', 'scaleByStddev': 'scale_by_stddev', 'scaleByRss': 'scale_by_rss',
    'trace': 'trace', 'scaleByAdamax': 'scale_by_adamax', 'scaleByBelief': 'scale_by_belief',
    'scaleByLion': 'scale_by_lion', 'scaleByTrustRatio': 'scale_by_trust_ratio',
    'addDecayedWeights': 'add_decayed_weights', 'clip': 'clip', 'clipByGlobalNorm': 'clip_by_global_norm',
}
DTYPE_ARGS = {'mu_dtype', 'accumulator_dtype'}


def defaults():
  """Every option of each optax factory with its default ('<required>' when it has none)."""
  out = {}
  for lopt_name, optax_name in FACTORIES.items():
    sig = inspect.signature(getattr(optax, optax_name))
    out[lopt_name] = {
        camel(k): ('<required>' if p.default is inspect.Parameter.empty else p.default)
        for k, p in sig.parameters.items()
        if k not in DTYPE_ARGS
    }
  return out


def main():
  data = {
      'generator': 'gen_optax_golden.py',
      'versions': {'jax': jax.__version__, 'optax': optax.__version__},
      'params': to_json(PARAMS),
      'cases': cases(),
      'schedules': schedules(),
      'defaults': defaults(),
  }
  path = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'optax-golden.json')
  with open(path, 'w') as f:
    json.dump(data, f, indent=None, separators=(',', ':'))
    f.write('\n')
  print(f'wrote {path}: {len(data["cases"])} cases, {len(data["schedules"])} schedules')


if __name__ == '__main__':
  main()
