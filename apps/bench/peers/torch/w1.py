"""Peer of `w1-meta-lr` (optax's meta-learning notebook outer step), eager PyTorch: 6 inner
optax-style RMSProp steps (decay 0.9, eps 1e-8 inside the sqrt) on l2_loss(y, x*theta) with
learning rate sigmoid(eta), second-order meta-gradient, Adam(0.03). theta and nu carry over."""
import math
import torch
from common import run

N, DECAY, EPS, DATA = 7, 0.9, 1e-8, 200
FIXED_XS = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0]
FIXED_YS = [10.1, 19.9, 30.1, 39.9, 50.1, 59.9, 70.1]


def loss(th, x, y):
    return 0.5 * (y - x * th) ** 2


def inner(eta, th, nu, xs, ys):
    lr = torch.sigmoid(eta)
    for k in range(N - 1):
        g, = torch.autograd.grad(loss(th, xs[k], ys[k]), th, create_graph=True)
        nu = DECAY * nu + (1 - DECAY) * g * g
        th = th - lr * g / torch.sqrt(nu + EPS)
    return loss(th, xs[-1], ys[-1]), th, nu


def w1(quick):
    gen = torch.Generator().manual_seed(0)
    xs = torch.rand(DATA, N, generator=gen) * 10.0
    ys = 10.0 * xs + torch.randn(DATA, N, generator=gen)
    eta = torch.tensor(-math.log(1.0 / 0.1 - 1.0), requires_grad=True)
    meta_opt = torch.optim.Adam([eta], lr=0.03)
    s = {"theta": torch.tensor(-0.1847117692232132), "nu": torch.zeros(()), "i": 0}  # normal(PRNGKey(42))

    def step():
        i = s["i"] % DATA
        outer, th, nu = inner(eta, s["theta"].detach().requires_grad_(), s["nu"], xs[i], ys[i])
        meta_opt.zero_grad()
        outer.backward()
        meta_opt.step()
        s.update(theta=th.detach(), nu=nu.detach(), i=s["i"] + 1)

    def check():
        e = torch.tensor(-math.log(1.0 / 0.1 - 1.0))
        th = torch.tensor(0.5, requires_grad=True)
        return inner(e, th, torch.zeros(()), torch.tensor(FIXED_XS), torch.tensor(FIXED_YS))[0].item()

    return step, check


run({"w1-meta-lr": w1})
