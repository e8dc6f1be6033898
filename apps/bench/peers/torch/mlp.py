"""Peers of `mlp-step` and `vmap-mlp`: the 64-128-10 relu MLP loss + gradient at batch 128, one
task, and 8 tasks with their own weights batched with bmm plus a tiny SGD step (eager PyTorch)."""
import torch
import torch.nn.functional as F
from common import run, t, fixed, fixed_labels


def params(lead):
    return [t(fixed([*lead, 64, 128], 0.1, 1), True), t(fixed([*lead, 128], 0.01, 2), True),
            t(fixed([*lead, 128, 10], 0.1, 3), True), t(fixed([*lead, 10], 0.01, 4), True)]


def mlp_step(quick):
    p = params([])
    x, y = t(fixed([128, 64], 0.5, 5)), t(fixed_labels([128], 10)).long()

    def loss():
        w0, b0, w1, b1 = p
        return F.cross_entropy(F.relu(x @ w0 + b0) @ w1 + b1, y)

    def step():
        l = loss()
        return l.detach(), torch.autograd.grad(l, p)

    return step, lambda: loss().item()


def vmap_mlp(quick):
    T = 8
    p = params([T])
    x, y = t(fixed([T, 128, 64], 0.5, 5)), t(fixed_labels([T, 128], 10)).long()

    def loss(p):
        w0, b0, w1, b1 = p
        logits = torch.bmm(F.relu(torch.bmm(x, w0) + b0[:, None]), w1) + b1[:, None]
        return F.cross_entropy(logits.reshape(-1, 10), y.reshape(-1), reduction="none").reshape(T, -1).mean(1)

    def step():
        l = loss(p)
        g = torch.autograd.grad(l.sum(), p)
        with torch.no_grad():
            for w, gw in zip(p, g):
                w -= 1e-4 * gw
        return l.detach()

    p0 = params([T])
    return step, lambda: loss(p0).sum().item()


run({"mlp-step": mlp_step, "vmap-mlp": vmap_mlp})
