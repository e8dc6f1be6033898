"""Peer of `w3-lstm` in JAX with jit (flax): the coordinatewise LSTM optimizer (2 x
OptimizedLSTMCell(20) + Dense(1)) on 128 quadratics x 10, a 20-step unroll under lax.scan, the
summed loss differentiated, Adam(0.01); theta and the LSTM state carry over. No check value."""
import jax, jax.numpy as jnp, optax
from flax import linen as nn
from common import run

B, D, H = 128, 10, 20


class LSTMOptimizer(nn.Module):
    @nn.compact
    def __call__(self, grads, state):
        x = jax.lax.stop_gradient(grads)[..., None].reshape(-1, 1)
        c1, c2 = state
        c1, x = nn.OptimizedLSTMCell(H)(c1, x)
        c2, x = nn.OptimizedLSTMCell(H)(c2, x)
        return nn.Dense(1)(x)[..., 0].reshape(grads.shape), (c1, c2)


def zstate():
    z = jnp.zeros((B * D, H))
    return ((z, z), (z, z))


m = LSTMOptimizer()
meta_opt = optax.adam(0.01)


def f(theta, w, y):
    return jnp.mean(jnp.sum((jax.vmap(jnp.matmul)(w, theta) - y) ** 2, axis=1))


@jax.jit
def train_step(params, mstate, w, y, theta, state):
    def loss_fn(params):
        def body(carry, _):
            theta, state = carry
            l, g = jax.value_and_grad(f)(theta, w, y)
            upd, state = m.apply(params, g, state)
            return (theta + upd, state), l

        (theta2, state2), ls = jax.lax.scan(body, (theta, state), None, length=20)
        return ls.sum(), (theta2, state2)

    (l, (theta2, state2)), g = jax.value_and_grad(loss_fn, has_aux=True)(params)
    u, mstate = meta_opt.update(g, mstate)
    return optax.apply_updates(params, u), mstate, l, theta2, state2


def w3(quick):
    key = jax.random.PRNGKey(0)
    params = m.init(key, jnp.zeros((B, D)), zstate())
    ks = jax.random.split(key, 3)
    s = {"params": params, "mstate": meta_opt.init(params), "w": jax.random.normal(ks[0], (B, D, D)),
         "y": jax.random.normal(ks[1], (B, D)), "theta": jax.random.normal(ks[2], (B, D)), "st": zstate()}

    def step():
        s["params"], s["mstate"], l, s["theta"], s["st"] = train_step(s["params"], s["mstate"], s["w"], s["y"], s["theta"], s["st"])
        return l

    return step, None


run({"w3-lstm": w3})
