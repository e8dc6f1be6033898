"""Peer of `w2-maml` (second order) and `w2-maml-fo` (first order): one MAML meta-step of the
"MAML in JAX" tutorial, eager PyTorch. 1-40-40-1 relu MLP, MSE, one inner SGD step (alpha 0.1)
on K = 20 points per task, 4 tasks batched (bmm over per-task views), Adam(1e-3) on the
meta-parameters. `check`: the meta-loss (mean over tasks of the post-update MSE) on the fixed
input of fixed_maml() in protocol.py. --quick is ignored (the workload is small)."""
import numpy as np
import torch
from common import run, t
from protocol import fixed_maml

K, TASKS, ALPHA, DATA = 20, 4, 0.1, 50


def fwd(p, x):
    for i in range(0, 6, 2):
        x = x @ p[i] + p[i + 1].unsqueeze(-2)
        if i < 4:
            x = torch.relu(x)
    return x


def maml_loss(p, x1, y1, x2, y2, second_order):
    pb = [w.expand(TASKS, *w.shape) for w in p]
    inner = ((fwd(pb, x1) - y1) ** 2).mean(dim=(1, 2)).sum()
    gs = torch.autograd.grad(inner, pb, create_graph=second_order)
    p2 = [w - ALPHA * g for w, g in zip(pb, gs)]
    return ((fwd(p2, x2) - y2) ** 2).mean()


def sample(rng):
    A = rng.uniform(0.1, 0.5, (TASKS, 1, 1)); ph = rng.uniform(0, np.pi, (TASKS, 1, 1))
    x1 = rng.uniform(-5, 5, (TASKS, K, 1)); x2 = rng.uniform(-5, 5, (TASKS, K, 1))
    return [torch.tensor(a, dtype=torch.float32) for a in (x1, A * np.sin(x1 + ph), x2, A * np.sin(x2 + ph))]


def make(second_order):
    def w2(quick):
        params, batch = fixed_maml()
        p = [t(a, True) for a in params]
        opt = torch.optim.Adam(p, lr=1e-3)
        rng = np.random.RandomState(0)
        data = [sample(rng) for _ in range(DATA)]
        s = {"i": 0}

        def step():
            l = maml_loss(p, *data[s["i"] % DATA], second_order)
            opt.zero_grad(); l.backward(); opt.step()
            s["i"] += 1

        def check():
            q = [t(a, True) for a in params]
            return maml_loss(q, *[t(b) for b in batch], second_order).item()

        return step, check
    return w2


run({"w2-maml": make(True), "w2-maml-fo": make(False)})
