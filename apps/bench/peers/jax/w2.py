"""Peer of `w2-maml` (second order) and `w2-maml-fo` (first order), the "MAML in JAX" tutorial's
batched step, jitted: 1-40-40-1 relu MLP, MSE, one inner SGD step (alpha 0.1), K = 20, vmap over
4 tasks, Adam(1e-3). `check`: the meta-loss on fixed_maml() of protocol.py. --quick is ignored."""
from functools import partial
import jax, jax.numpy as jnp, numpy as np, optax
from common import run
from protocol import fixed_maml

DATA = 50


def net(p, x):
    for i in range(0, 6, 2):
        x = x @ p[i] + p[i + 1]
        if i < 4:
            x = jax.nn.relu(x)
    return x


def loss(p, x, y):
    return jnp.mean((net(p, x) - y) ** 2)


def maml_loss(p, x1, y1, x2, y2, fo):
    g = jax.grad(loss)(p, x1, y1)
    if fo:
        g = jax.lax.stop_gradient(g)
    return loss([a - 0.1 * b for a, b in zip(p, g)], x2, y2)


def batch_loss(p, x1, y1, x2, y2, fo):
    return jnp.mean(jax.vmap(partial(maml_loss, p, fo=fo))(x1, y1, x2, y2))


opt = optax.adam(1e-3)


@partial(jax.jit, static_argnums=6)
def train_step(p, s, x1, y1, x2, y2, fo):
    l, g = jax.value_and_grad(batch_loss)(p, x1, y1, x2, y2, fo)
    u, s = opt.update(g, s)
    return optax.apply_updates(p, u), s, l


def make(fo):
    def w2(quick):
        params, batch = fixed_maml()
        st = {"p": [jnp.asarray(a) for a in params], "i": 0}
        st["s"] = opt.init(st["p"])
        rng = np.random.default_rng(0)
        data = []
        for _ in range(DATA):
            A = rng.uniform(0.1, 0.5, (4, 1, 1)); ph = rng.uniform(0, np.pi, (4, 1, 1))
            x1 = rng.uniform(-5, 5, (4, 20, 1)); x2 = rng.uniform(-5, 5, (4, 20, 1))
            data.append([jnp.asarray(a, jnp.float32) for a in (x1, A * np.sin(x1 + ph), x2, A * np.sin(x2 + ph))])

        def step():
            st["p"], st["s"], l = train_step(st["p"], st["s"], *data[st["i"] % DATA], fo)
            st["i"] += 1
            return l

        def check():
            return float(jax.jit(partial(batch_loss, fo=fo))([jnp.asarray(a) for a in params], *[jnp.asarray(b) for b in batch]))

        return step, check
    return w2


run({"w2-maml": make(False), "w2-maml-fo": make(True)})
