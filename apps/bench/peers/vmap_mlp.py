"""Peer of `pnpm bench vmap-mlp`: the same MLP loss gradient for one task and for 8 tasks with
per-task parameters, batched with bmm (torch 1.13 has no torch.func.vmap)."""
import torch
import torch.nn.functional as F
from common import setup, bench

setup()
T, N = 8, 128
gen = torch.Generator().manual_seed(0)
W0 = (torch.randn(T, 64, 128, generator=gen) * 0.02).requires_grad_()
B0 = torch.zeros(T, 1, 128, requires_grad=True)
W1 = (torch.randn(T, 128, 10, generator=gen) * 0.02).requires_grad_()
B1 = torch.ones(T, 1, 10, requires_grad=True)
X = torch.rand(T, N, 64, generator=gen)
Y = torch.randint(0, 10, (T, N), generator=gen)
w0, b0, w1, b1 = [p[0].detach().clone().requires_grad_() for p in (W0, B0, W1, B1)]


def single():
    logits = F.relu(X[0] @ w0 + b0) @ w1 + b1
    return torch.autograd.grad(F.cross_entropy(logits, Y[0]), [w0, b0, w1, b1])


def batched():
    logits = torch.bmm(F.relu(torch.bmm(X, W0) + B0), W1) + B1
    loss = F.cross_entropy(logits.reshape(T * N, 10), Y.reshape(T * N), reduction="none").reshape(T, N).mean(1).sum()
    return torch.autograd.grad(loss, [W0, B0, W1, B1])


s = bench("MLP loss+grad, 1 task", single, warmup=20, reps=300)
b = bench(f"MLP loss+grad, {T} tasks batched (bmm)", batched, warmup=20, reps=300, ratioToSingle=None)
print('{"ratio": %.3f}' % (b["medianMs"] / s["medianMs"]))
