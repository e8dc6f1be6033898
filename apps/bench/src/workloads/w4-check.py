"""The value of W4's check() (w4-common.ts w4CheckInput / w4Check) computed with the PyTorch
peer's own functions (peers/torch/w4.py: lopt_update, inner_loss): the mean inner training loss
over 10 steps of the per-parameter MLP learned optimizer, on sine-valued theta, params and batch.
Run: /work/venv/bin/python w4-check.py [<path to peers/torch>] (default: the one of this checkout)"""
import math, os, sys
import numpy as np
import torch

sys.path.insert(0, sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "peers", "torch"))
from w4 import inner_loss, lopt_update  # noqa: E402

def sin(shape, scale=1.0, offset=0.0):
    n = int(np.prod(shape))
    return torch.tensor([scale * math.sin(offset + i) for i in range(n)], dtype=torch.float32).reshape(shape)

mp = [sin([3, 64], 1, 0), sin([64], 0.1, 1), sin([64, 2], 1, 2), sin([2], 0.1, 3)]
p = [sin([64, 128], 0.02, 4)[None], torch.zeros(1, 128), sin([128, 10], 0.02, 5)[None], torch.ones(1, 10)]
x = (sin([128, 64], 1, 6) * 0.5 + 0.5)[None]
y = torch.tensor([(i * 7) % 10 for i in range(128)])[None]
m = [torch.zeros_like(q) for q in p]
total = 0.0
for s in range(10):
    p = [q.detach().requires_grad_() for q in p]
    l = inner_loss(p, x, y)
    g = torch.autograd.grad(l.sum(), p)
    with torch.no_grad():
        p, m = lopt_update(mp, p, m, g)
    total += l.item()
print(f"W4 check (mean inner loss, 10 steps): {total / 10:.7f}")
