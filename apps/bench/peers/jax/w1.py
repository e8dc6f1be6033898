"""Peer of `w1-meta-lr`: optax's meta-learning notebook outer step, the notebook's own code
(inject_hyperparams(rmsprop), jax.grad through 6 inner steps, adam(0.03)), jitted."""
import jax, jax.numpy as jnp, numpy as np, optax
from common import run

jax.config.update("jax_threefry_partitionable", False)
DATA = 200
FIXED = [(1.0, 10.1), (2.0, 19.9), (3.0, 30.1), (4.0, 39.9), (5.0, 50.1), (6.0, 59.9), (7.0, 70.1)]


def generator():
    rng = jax.random.PRNGKey(0)
    while True:
        rng, k1, k2 = jax.random.split(rng, num=3)
        x = jax.random.uniform(k1, minval=0.0, maxval=10.0)
        yield x, 10.0 * x + jax.random.normal(k2)


opt = optax.inject_hyperparams(optax.rmsprop)(learning_rate=jnp.array(0.1))
meta_opt = optax.adam(learning_rate=jnp.array(0.03))


def loss(theta, x, y):
    return optax.l2_loss(y, x * theta)


def inner_step(theta, state, x, y):
    updates, state = opt.update(jax.grad(loss)(theta, x, y), state)
    return optax.apply_updates(theta, updates), state


def outer_loss(eta, theta, state, samples):
    state.hyperparams["learning_rate"] = jax.nn.sigmoid(eta)
    for x, y in samples[:-1]:
        theta, state = inner_step(theta, state, x, y)
    x, y = samples[-1]
    return loss(theta, x, y), (theta, state)


@jax.jit
def outer_step(eta, theta, meta_state, state, samples):
    grad, (theta, state) = jax.grad(outer_loss, has_aux=True)(eta, theta, state, samples)
    meta_updates, meta_state = meta_opt.update(grad, meta_state)
    return optax.apply_updates(eta, meta_updates), theta, meta_state, state


def w1(quick):
    g = generator()
    data = [[next(g) for _ in range(7)] for _ in range(DATA)]
    theta = jax.random.normal(jax.random.PRNGKey(42))
    eta = jnp.asarray(-np.log(1.0 / 0.1 - 1), jnp.float32)
    s = {"eta": eta, "theta": theta, "meta": meta_opt.init(eta), "state": opt.init(theta), "i": 0}

    def step():
        s["eta"], s["theta"], s["meta"], s["state"] = outer_step(s["eta"], s["theta"], s["meta"], s["state"], data[s["i"] % DATA])
        s["i"] += 1
        return s["eta"]

    def check():
        th = jnp.asarray(0.5, jnp.float32)
        samples = [(jnp.float32(x), jnp.float32(y)) for x, y in FIXED]
        return float(jax.jit(outer_loss)(eta, th, opt.init(th), samples)[0])

    return step, check


run({"w1-meta-lr": w1})
