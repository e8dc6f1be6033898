"""Peers of `mlp-step` and `vmap-mlp` in JAX with jit: the 64-128-10 relu MLP loss + gradient at
batch 128, one task, and vmap over 8 tasks with their own weights plus a tiny SGD step."""
import jax, jax.numpy as jnp
from common import run, fixed, fixed_labels


def params(lead):
    return [jnp.asarray(fixed([*lead, 64, 128], 0.1, 1)), jnp.asarray(fixed([*lead, 128], 0.01, 2)),
            jnp.asarray(fixed([*lead, 128, 10], 0.1, 3)), jnp.asarray(fixed([*lead, 10], 0.01, 4))]


def loss(p, x, y):
    w0, b0, w1, b1 = p
    logits = jax.nn.relu(x @ w0 + b0) @ w1 + b1
    return -jnp.mean(jnp.sum(jax.nn.one_hot(y, 10) * jax.nn.log_softmax(logits), -1))


def mlp_step(quick):
    p = params([])
    x, y = jnp.asarray(fixed([128, 64], 0.5, 5)), jnp.asarray(fixed_labels([128], 10))
    vg = jax.jit(jax.value_and_grad(loss))
    return (lambda: vg(p, x, y)), lambda: float(loss(p, x, y))


def vmap_mlp(quick):
    T = 8
    state = {"p": params([T])}
    x, y = jnp.asarray(fixed([T, 128, 64], 0.5, 5)), jnp.asarray(fixed_labels([T, 128], 10))
    batched = jax.vmap(jax.value_and_grad(loss))

    @jax.jit
    def train(p):
        v, g = batched(p, x, y)
        return v, [w - 1e-4 * gw for w, gw in zip(p, g)]

    def step():
        v, state["p"] = train(state["p"])
        return v

    p0 = params([T])
    return step, lambda: float(jnp.sum(batched(p0, x, y)[0]))


run({"mlp-step": mlp_step, "vmap-mlp": vmap_mlp})
