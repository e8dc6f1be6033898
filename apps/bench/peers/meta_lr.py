"""Peer of `pnpm bench meta-lr` (the outer step of optax's meta-learning notebook): 6 inner
optax-style RMSProp steps on l2_loss(y, x*theta) with learning rate sigmoid(eta), second-order
meta-gradient, Adam(0.03)."""
import math, sys, time
import torch
from common import setup, bench

setup()
N, DECAY, EPS = 7, 0.9, 1e-8
steps = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
gen = torch.Generator().manual_seed(0)
xs = torch.rand(steps + 100, N, generator=gen) * 10.0
ys = 10.0 * xs + torch.randn(steps + 100, N, generator=gen)
theta = torch.randn((), generator=torch.Generator().manual_seed(42))
nu = torch.zeros(())
eta = torch.tensor(-math.log(1.0 / 0.1 - 1.0), requires_grad=True)
meta_opt = torch.optim.Adam([eta], lr=0.03)
state = {"theta": theta, "nu": nu, "i": 0}


def loss(th, x, y):
    return 0.5 * (y - x * th) ** 2


def outer_step():
    i = state["i"]
    x, y = xs[i], ys[i]
    lr = torch.sigmoid(eta)
    th = state["theta"].detach().requires_grad_()
    v = state["nu"]
    for k in range(N - 1):
        g, = torch.autograd.grad(loss(th, x[k], y[k]), th, create_graph=True)
        v = DECAY * v + (1 - DECAY) * g * g
        th = th - lr * g / torch.sqrt(v + EPS)
    outer = loss(th, x[-1], y[-1])
    meta_opt.zero_grad()
    outer.backward()
    meta_opt.step()
    state.update(theta=th.detach(), nu=v.detach(), i=i + 1)


bench("meta-lr outer step (6 inner RMSProp steps, 2nd order, Adam)", outer_step, warmup=20, reps=steps)
