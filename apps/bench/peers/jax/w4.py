"""Peers of `w4-lopt-grad` and `w4-lopt-es` in JAX with jit, the no-dependency notebook's code:
the per-parameter MLP learned optimizer training the Fashion-MNIST 8x8 MLP for 10 inner steps
(lax.scan), vmap over 8 tasks for the meta-gradient and over 16 antithetic pairs (std 0.001) for
ES. Timing data: random images. `check`: the meta-loss on fixed_lopt() of protocol.py."""
import jax, jax.numpy as jnp
from common import run
from protocol import fixed_lopt


def task_init(key):
    k1, k2 = jax.random.split(key)
    return (jax.random.normal(k1, [64, 128]) * 0.02, jnp.zeros([128]), jax.random.normal(k2, [128, 10]) * 0.02, jnp.ones([10]))


def task_loss(params, batch):
    x, y = batch
    w0, b0, w1, b1 = params
    logits = jax.nn.relu(x @ w0 + b0) @ w1 + b1
    return jnp.mean(-jnp.sum(jax.nn.one_hot(y, 10) * jax.nn.log_softmax(logits), axis=-1))


value_grad_fn = jax.value_and_grad(task_loss)


def update(mp, st, grads):
    params, mom = st
    mom = [m * 0.9 + g * 0.1 for m, g in zip(mom, grads)]

    def predict(feat):
        w0, b0, w1, b1 = mp
        o = jax.nn.relu(feat @ w0 + b0) @ w1 + b1
        return o[..., 0] * 0.01 * jnp.exp(o[..., 1] * 0.01)

    out = [p - predict(jnp.stack([p, m, g], -1)) for p, m, g in zip(params, mom, grads)]
    return tuple(out), tuple(mom)


def meta_loss_from(mp, params, seq):
    def step(st, batch):
        l, g = value_grad_fn(st[0], batch)
        return update(mp, st, g), l

    st = (tuple(params), tuple(jnp.zeros_like(p) for p in params))
    _, ls = jax.lax.scan(step, st, seq)
    return jnp.mean(ls)


def meta_loss(mp, key, seq):
    return meta_loss_from(mp, task_init(key), seq)


def vec_meta_loss(mp, keys, seqs):
    return jnp.mean(jax.vmap(meta_loss, in_axes=(None, 0, 1))(mp, keys, seqs))


vg = jax.jit(jax.value_and_grad(vec_meta_loss))


def es_one(mp, key, seq):
    std = 0.001
    ks = jax.random.split(key, len(mp))
    noise = [jax.random.normal(ks[i], p.shape) * std for i, p in enumerate(mp)]
    pos = meta_loss([p + n for p, n in zip(mp, noise)], key, seq)
    neg = meta_loss([p - n for p, n in zip(mp, noise)], key, seq)
    f = (pos - neg) / (2 * std ** 2)
    return (pos + neg) / 2, [f * n for n in noise]


@jax.jit
def vec_es(mp, keys, seqs):
    ls, gs = jax.vmap(es_one, in_axes=(None, 0, 1))(mp, keys, seqs)
    return jnp.mean(ls), [jnp.mean(g, 0) for g in gs]


def data(n, seed):
    k1, k2 = jax.random.split(jax.random.PRNGKey(seed))
    return (jax.random.uniform(k1, (10, n, 128, 64)), jax.random.randint(k2, (10, n, 128), 0, 10))


def meta_params():
    k1, k2 = jax.random.split(jax.random.PRNGKey(0))
    return (jax.random.normal(k1, [3, 64]), jnp.zeros([64]), jax.random.normal(k2, [64, 2]), jnp.zeros([2]))


def check():
    theta, params, x, y = fixed_lopt()
    losses = jax.jit(jax.vmap(meta_loss_from, in_axes=(None, 0, 1)))([jnp.asarray(a) for a in theta], [jnp.asarray(p) for p in params], (jnp.asarray(x), jnp.asarray(y)))
    return float(jnp.mean(losses))


def make(n, fn):
    def w4(quick):
        mp, d = meta_params(), data(n, n)
        st = {"i": 0}

        def step():
            st["i"] += 1
            return fn(mp, jax.random.split(jax.random.PRNGKey(st["i"]), n), d)

        return step, check
    return w4


run({"w4-lopt-grad": make(8, vg), "w4-lopt-es": make(16, vec_es)})
