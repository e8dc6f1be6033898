# Reference numbers for the meta-lr example: seed 000 run with real jax + optax (CPU),
# jax_threefry_partitionable=False. Not needed to run lopt; re-run with a Python that has jax and optax:
#   python3 seed000_jax_reference.py continue   (the notebook: 5 samples printed, then training on the same generator)
import time, json, sys
import jax
jax.config.update('jax_threefry_partitionable', False)
import jax.numpy as jnp
import numpy as np
import optax

def generator():
    rng = jax.random.PRNGKey(0)
    while True:
        rng, k1, k2 = jax.random.split(rng, num=3)
        x = jax.random.uniform(k1, minval=0.0, maxval=10.0)
        y = 10.0 * x + jax.random.normal(k2)
        yield x, y

g = generator()
for _ in range(5):
    x, y = next(g)
    print(f"Sampled y = {y:.3f}, x = {x:.3f}")

def f(theta, x): return x * theta
theta = jax.random.normal(jax.random.PRNGKey(42))
init_learning_rate = jnp.array(0.1)
meta_learning_rate = jnp.array(0.03)
opt = optax.inject_hyperparams(optax.rmsprop)(learning_rate=init_learning_rate)
meta_opt = optax.adam(learning_rate=meta_learning_rate)
def loss(theta, x, y): return optax.l2_loss(y, f(theta, x))
def step(theta, state, x, y):
    grad = jax.grad(loss)(theta, x, y)
    updates, state = opt.update(grad, state)
    theta = optax.apply_updates(theta, updates)
    return theta, state
@jax.jit
def outer_loss(eta, theta, state, samples):
    state.hyperparams['learning_rate'] = jax.nn.sigmoid(eta)
    for x, y in samples[:-1]:
        theta, state = step(theta, state, x, y)
    x, y = samples[-1]
    return loss(theta, x, y), (theta, state)
@jax.jit
def outer_step(eta, theta, meta_state, state, samples):
    grad, (theta, state) = jax.grad(outer_loss, has_aux=True)(eta, theta, state, samples)
    meta_updates, meta_state = meta_opt.update(grad, meta_state)
    eta = optax.apply_updates(eta, meta_updates)
    return eta, theta, meta_state, state

g = generator()  # fresh generator as in the notebook? (the notebook reuses g after printing 5)
mode = sys.argv[1] if len(sys.argv) > 1 else 'continue'
if mode == 'continue':
    g = generator()
    for _ in range(5): next(g)
state = opt.init(theta)
eta = -np.log(1. / init_learning_rate - 1)
meta_state = meta_opt.init(eta)
N = 7
lrs, thetas = [], []
t0 = time.time()
for i in range(2000):
    samples = [next(g) for i in range(N)]
    eta, theta, meta_state, state = outer_step(eta, theta, meta_state, state, samples)
    lrs.append(float(jax.nn.sigmoid(eta))); thetas.append(float(theta))
print(json.dumps({'mode': mode, 'theta0': float(jax.random.normal(jax.random.PRNGKey(42))), 'final_lr': lrs[-1], 'final_theta': thetas[-1], 'lr_at': {k: lrs[k] for k in [0, 1, 9, 99, 999, 1999]}, 'theta_at': {k: thetas[k] for k in [0, 1, 9, 99, 999, 1999]}, 'seconds': time.time() - t0}))
