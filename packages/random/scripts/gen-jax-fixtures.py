"""Writes test/fixtures/jax-classic.json: known answers from real jax for @lopt/random's tests.

Needs jax + jaxlib (CPU). Run from packages/random:  python scripts/gen-jax-fixtures.py
Uses jax's classic PRNG (jax_threefry_partitionable=False) with 64-bit types disabled, i.e. the
defaults of jax before 0.5. Float results depend on XLA's CPU code, which fuses multiply-adds on
hosts with FMA (x86-64-v3, arm64); the file records the jax version and host it came from.
"""
import hashlib, json, os, platform, zlib

import numpy as np
import jax
import jax.numpy as jnp
from jax import lax

jax.config.update('jax_threefry_partitionable', False)
jax.config.update('jax_enable_x64', False)
R = jax.random

OUT = os.path.join(os.path.dirname(__file__), '..', 'test', 'fixtures', 'jax-classic.json')


def kd(key):
    return [int(v) for v in np.asarray(R.key_data(key)).reshape(-1)]


def wrap(words, shape=()):
    return R.wrap_key_data(jnp.asarray(np.array(words, np.uint32).reshape(*shape, 2)), impl='threefry2x32')


def flat(x):
    a = np.asarray(x)
    if a.dtype == np.bool_:
        return [int(v) for v in a.reshape(-1)]
    if np.issubdtype(a.dtype, np.floating):
        return [float(v) for v in a.astype(np.float32).reshape(-1)]
    return [int(v) for v in a.reshape(-1)]


def compact(values, dtype):
    """Long outputs are stored as their first 16 values plus a SHA-256 of all of them (LE bytes)."""
    if len(values) <= 256:
        return values
    return {'head': values[:16], 'length': len(values),
            'sha256': hashlib.sha256(np.asarray(values, dtype).astype(np.dtype(dtype).newbyteorder('<')).tobytes()).hexdigest()}


K0 = kd(R.PRNGKey(0))
K42 = kd(R.PRNGKey(42))
K1701 = kd(R.PRNGKey(1701))
KS = kd(R.split(R.PRNGKey(7), 3)[2])
KODD = [3200590325, 713258242]
KEYS = [K0, K42, K1701, KS, KODD]

fx = {'meta': {
    'jax': jax.__version__, 'jaxlib': jax.lib.__version__ if hasattr(jax.lib, '__version__') else None,
    'backend': jax.default_backend(), 'machine': platform.machine(),
    'config': 'jax_threefry_partitionable=False, jax_enable_x64=False',
}}

# PRNGKey: x32 (number seeds) and x64 (bigint seeds)
fx['seeds32'] = [{'seed': s, 'key': kd(R.PRNGKey(s))} for s in
                 [0, 1, 42, 1701, -1, -2, -2**31, 2**31 - 1, 2**31, 2**32 - 1, 123456789]]
jax.config.update('jax_enable_x64', True)
fx['seeds64'] = [{'seed': str(s), 'key': kd(R.PRNGKey(s))} for s in
                 [0, 42, -1, -3, 2**32, 2**32 + 5, 2**40 + 7, 2**63 - 1, -2**63, -2**31 - 101]]
jax.config.update('jax_enable_x64', False)

fx['split'] = [{'key': k, 'num': n, 'expected': kd(R.split(wrap(k), n))}
               for k in KEYS for n in [1, 2, 3, 4, 5, 7]]
fx['foldIn'] = [{'key': k, 'data': d, 'expected': kd(R.fold_in(wrap(k), d))}
                for k in KEYS for d in [0, 1, 4, 12345, 2**31, 2**32 - 1]]
fx['bits'] = [{'key': k, 'shape': list(s), 'expected': flat(R.bits(wrap(k), s))}
              for k in KEYS for s in [(), (1,), (2,), (3,), (5,), (2, 3), (7, 3), (33,)]]

fx['uniform'] = []
for k in KEYS:
    for s in [(), (5,), (3, 4), (7,)]:
        for lo, hi in [(0.0, 1.0), (0.0, 10.0), (-3.0, 5.5), (0.3, 1.7), (-1e-3, 1e-3), (100.0, 100.5)]:
            fx['uniform'].append({'key': k, 'shape': list(s), 'minval': lo, 'maxval': hi,
                                  'expected': flat(R.uniform(wrap(k), s, minval=lo, maxval=hi))})
fx['normal'] = [{'key': k, 'shape': list(s), 'expected': flat(R.normal(wrap(k), s))}
                for k in KEYS for s in [(), (1,), (5,), (3, 4), (101,)]]
num = lambda v: v if np.isfinite(v) else ('Infinity' if v > 0 else '-Infinity')  # JSON has no infinities
fx['truncatedNormal'] = [{'key': k, 'lower': num(lo), 'upper': num(hi), 'shape': list(s),
                          'expected': flat(R.truncated_normal(wrap(k), lo, hi, s))}
                         for k in KEYS for s in [(), (9,)]
                         for lo, hi in [(-2.0, 2.0), (0.0, 2.0), (-1.5, 0.25), (1.0, 8.0), (-np.inf, 0.0), (-3.0, np.inf)]]
fx['gumbel'] = [{'key': k, 'shape': list(s), 'expected': flat(R.gumbel(wrap(k), s))}
                for k in KEYS for s in [(), (6,), (2, 5)]]
fx['bernoulli'] = [{'key': k, 'p': p, 'shape': list(s), 'expected': flat(R.bernoulli(wrap(k), p, s))}
                   for k in KEYS for p in [0.0, 0.1, 0.5, 0.9, 1.0] for s in [(), (16,)]]
fx['randint'] = [{'key': k, 'shape': list(s), 'minval': lo, 'maxval': hi,
                  'expected': flat(R.randint(wrap(k), s, lo, hi))}
                 for k in KEYS for s in [(), (5,), (3, 3)]
                 for lo, hi in [(0, 10), (0, 8), (-5, 5), (0, 65536), (0, 65537), (-7, 1000000007),
                                (-2**31, 2**31 - 1), (0, 2**31 - 1), (2**31 - 3, 2**31 - 1)]]
fx['permutation'] = [{'key': k, 'n': n, 'expected': compact(flat(R.permutation(wrap(k), n)), np.int32)}
                     for k in KEYS for n in [0, 1, 2, 5, 17, 100, 1625, 1626, 3000]]
X = np.arange(12, dtype=np.float32).reshape(3, 4) * 1.5
fx['permutationArray'] = [{'key': k, 'x': X.tolist(), 'axis': ax, 'independent': ind,
                           'expected': flat(R.permutation(wrap(k), X, axis=ax, independent=ind))}
                          for k in KEYS for ax in [0, 1] for ind in [False, True]]
P5 = [0.1, 0.2, 0.05, 0.4, 0.25]
P40 = (np.arange(40, dtype=np.float32) % 7 + 0.5).tolist()
P300 = ((np.arange(300) * 37 % 101) / 101.0 + 0.01).astype(np.float32).tolist()
fx['choice'] = []
for k in KEYS:
    for a, shape, replace, p in [(10, (), True, None), (10, (6,), True, None), (10, (2, 3), False, None),
                                 (5, (8,), True, P5), (5, (3,), False, P5), (40, (25,), True, P40),
                                 (40, (10,), False, P40), (300, (50,), True, P300), (3000, (4,), False, None)]:
        fx['choice'].append({'key': k, 'a': a, 'shape': list(shape), 'replace': replace, 'p': p,
                             'expected': flat(R.choice(wrap(k), a, shape, replace=replace,
                                                       p=None if p is None else jnp.asarray(p, jnp.float32)))})
    res = R.choice(wrap(k), jnp.asarray(X), (2,), replace=False, axis=1)
    fx['choice'].append({'key': k, 'a': X.tolist(), 'shape': [2], 'replace': False, 'p': None, 'axis': 1,
                         'outShape': list(res.shape), 'expected': flat(res)})
L1 = [0.0, 1.0, -1.0, 2.5, 0.3]
L2 = [[0.0, 0.5, -2.0], [1.0, 1.0, 1.0]]
fx['categorical'] = []
for k in KEYS:
    for logits, axis, shape, replace in [(L1, -1, None, True), (L1, -1, (7,), True), (L2, -1, None, True),
                                         (L2, 0, None, True), (L2, -1, (4, 2), True), (L2, 0, (5, 3), True),
                                         ([[0.0, 1.0, 2.0]], -1, (6,), True),
                                         (L1, -1, (3,), False), (L2, -1, (2, 2), False), (L2, 0, (2, 3), False)]:
        res = R.categorical(wrap(k), jnp.asarray(logits, jnp.float32), axis=axis, shape=shape, replace=replace)
        fx['categorical'].append({'key': k, 'logits': logits, 'axis': axis, 'shape': None if shape is None else list(shape),
                                  'replace': replace, 'outShape': list(res.shape), 'expected': flat(res)})

# vmap over a key batch (what the batched-key API claims to reproduce)
KB = R.split(R.PRNGKey(3), 4)
fx['vmap'] = {
    'keys': kd(KB),
    'uniform': flat(jax.vmap(lambda k: R.uniform(k, (2, 3)))(KB)),
    'normal': flat(jax.vmap(lambda k: R.normal(k, (5,)))(KB)),
    'split': kd(jax.vmap(lambda k: R.split(k, 3))(KB)),
    'foldIn': kd(jax.vmap(lambda k: R.fold_in(k, 9))(KB)),
    'randint': flat(jax.vmap(lambda k: R.randint(k, (3,), 0, 100))(KB)),
    'permutation': flat(jax.vmap(lambda k: R.permutation(k, 6))(KB)),
}

# jax's own tests (tests/random_test.py): RandomValuesCase seeds are adler32(name + impl)
fx['randomValuesCases'] = {}
for name, params, dtype in [('bernoulli', {'p': 0.5}, None), ('bits', {}, np.uint32), ('gumbel', {}, np.float32),
                            ('normal', {}, np.float32), ('randint', {'minval': 0, 'maxval': 10}, np.int32),
                            ('truncated_normal', {'lower': 0, 'upper': 2}, np.float32), ('uniform', {}, np.float32)]:
    seed = zlib.adler32((name + 'threefry2x32').encode())
    f = getattr(R, name)
    kw = dict(params, shape=(5,))
    if dtype is not None:
        kw['dtype'] = dtype
    fx['randomValuesCases'][name] = {'seed': seed, 'expected': flat(f(R.PRNGKey(seed), **kw))}

# Whole-domain digests: the samplers' float math over every one of the 2^23 mantissas uniform can
# produce (random bits replaced by i << 9), SHA-256 of the float32 little-endian outputs.
import jax._src.random.core as rc
_orig_bits = rc._random_bits


def _all_mantissas(key, bit_width, shape):
    n = int(np.prod(shape))
    word = R.key_data(key)[..., 1]  # a runtime 0, so XLA cannot constant-fold (and round differently)
    return lax.reshape(lax.shift_left(lax.iota(np.uint32, n) + word, np.uint32(9)), shape)


rc._random_bits = _all_mantissas
N = 1 << 23
zero = R.PRNGKey(0)
digest = lambda x: hashlib.sha256(np.asarray(x, np.float32).astype('<f4').tobytes()).hexdigest()
fx['exhaustive'] = {
    'normal': digest(R.normal(zero, (N,))),
    'gumbel': digest(R.gumbel(zero, (N,))),
    'uniform[0.3,1.7)': digest(R.uniform(zero, (N,), minval=0.3, maxval=1.7)),
    'uniform[-3,5.5)': digest(R.uniform(zero, (N,), minval=-3.0, maxval=5.5)),
    'truncatedNormal(-1.5,2)': digest(R.truncated_normal(zero, -1.5, 2.0, (N,))),
    'truncatedNormal(0,2)': digest(R.truncated_normal(zero, 0.0, 2.0, (N,))),
}
rc._random_bits = _orig_bits

# jax.numpy float helpers used by choice(p=...): cumsum order over many lengths
fx['cumsum'] = []
rng = np.random.RandomState(0)
for n in [1, 5, 16, 17, 100, 257, 300]:
    x = (rng.rand(n) * rng.choice([1e-3, 1.0, 1e3], n)).astype(np.float32)
    fx['cumsum'].append({'x': flat(x), 'expected': compact(flat(jax.jit(jnp.cumsum)(x)), np.float32)})

# optax's meta-learning notebook: its data stream and initial theta
rng_ = R.PRNGKey(0)
seq = []
for _ in range(5):
    rng_, k1, k2 = R.split(rng_, num=3)
    x = R.uniform(k1, minval=0.0, maxval=10.0)
    y = 10.0 * x + R.normal(k2)
    seq.append({'x': float(x), 'y': float(y)})
fx['seed000'] = {'samples': seq, 'theta': float(R.normal(R.PRNGKey(42)))}

with open(OUT, 'w') as fh:
    json.dump(fx, fh, separators=(',', ':'), allow_nan=False)
print('wrote', os.path.relpath(OUT), os.path.getsize(OUT), 'bytes')
