"""Peer of `w3-lstm`: one meta-step of the coordinatewise LSTM optimizer of "Learning to learn by
gradient descent by gradient descent" (2 LSTM layers of 20 + a linear output, flax-style init) on
128 quadratics x 10 coordinates: a 20-step unroll whose summed loss is differentiated (inner
gradients stop_gradient'ed), Adam(0.01). theta and the LSTM state carry over; a new problem every
5 meta-steps. Eager PyTorch. No check value (the parameter layouts differ from lopt's); --quick
is ignored."""
import torch, torch.nn as nn
from common import run

B, D, H, UNROLL, UNROLLS = 128, 10, 20, 20, 5


def lecun_(w):
    with torch.no_grad():
        w.copy_(torch.randn_like(w).clamp_(-2, 2) * (1.0 / w.shape[1]) ** 0.5 / 0.87962566)


class LSTMOptimizer(nn.Module):
    def __init__(self):
        super().__init__()
        self.l1, self.l2, self.fc = nn.LSTMCell(1, H), nn.LSTMCell(H, H), nn.Linear(H, 1)
        for cell in (self.l1, self.l2):
            for k in range(4):
                lecun_(cell.weight_ih[k * H:(k + 1) * H])
                nn.init.orthogonal_(cell.weight_hh[k * H:(k + 1) * H])
            nn.init.zeros_(cell.bias_ih); nn.init.zeros_(cell.bias_hh)
        lecun_(self.fc.weight); nn.init.zeros_(self.fc.bias)

    def forward(self, grad, state):
        x = grad.detach().reshape(-1, 1)
        (h1, c1), (h2, c2) = state
        h1, c1 = self.l1(x, (h1, c1))
        h2, c2 = self.l2(h1, (h2, c2))
        return self.fc(h2).reshape(grad.shape), ((h1, c1), (h2, c2))


def zero_state():
    z = lambda: torch.zeros(B * D, H)
    return ((z(), z()), (z(), z()))


def f(theta, W, y):
    return ((torch.bmm(W, theta.unsqueeze(-1)).squeeze(-1) - y) ** 2).sum(1).mean()


def w3(quick):
    opt = LSTMOptimizer()
    meta_opt = torch.optim.Adam(opt.parameters(), lr=0.01)
    gen = torch.Generator().manual_seed(0)
    s = {"i": 0}

    def new_problem():
        s.update(W=torch.randn(B, D, D, generator=gen), y=torch.randn(B, D, generator=gen), theta=torch.randn(B, D, generator=gen), state=zero_state())

    new_problem()

    def step():
        if s["i"] % UNROLLS == 0 and s["i"]:
            new_problem()
        s["i"] += 1
        theta, state, total = s["theta"].detach().requires_grad_(), s["state"], 0.0
        for _ in range(UNROLL):
            loss = f(theta, s["W"], s["y"])
            g, = torch.autograd.grad(loss, theta, retain_graph=True)
            upd, state = opt(g, state)
            theta = theta + upd
            total = total + loss
        meta_opt.zero_grad(); total.backward(); meta_opt.step()
        s["theta"], s["state"] = theta.detach(), tuple(tuple(x.detach() for x in c) for c in state)

    return step, None


run({"w3-lstm": w3})
