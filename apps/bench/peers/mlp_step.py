"""Peer of `pnpm bench mlp-step`: loss + gradient of the Fashion-MNIST 8x8 MLP of
learned_optimization's no-dependency notebook (64-128-10 relu, softmax cross-entropy, batch 128),
eager PyTorch."""
import gzip, os, struct
import numpy as np
import torch
import torch.nn.functional as F
from common import setup, bench

setup()
here = os.path.dirname(os.path.abspath(__file__))
path = os.path.join(here, "..", "..", "..", "packages", "fashion-mnist-8x8", "data", "train-8x8.bin.gz")
raw = gzip.open(path).read()
magic, version, count, h, w = struct.unpack("<4sIIHH", raw[:16])
images = np.frombuffer(raw, dtype="<u2", count=count * h * w, offset=16).reshape(count, h * w).astype(np.float32) / (16 * 255)
labels = np.frombuffer(raw, dtype=np.uint8, count=count, offset=16 + 2 * count * h * w).astype(np.int64)
images, labels = torch.from_numpy(images.copy()), torch.from_numpy(labels.copy())
gen = torch.Generator().manual_seed(0)
w0 = (torch.randn(64, 128, generator=gen) * 0.02).requires_grad_()
b0 = torch.zeros(128, requires_grad=True)
w1 = (torch.randn(128, 10, generator=gen) * 0.02).requires_grad_()
b1 = torch.ones(10, requires_grad=True)
params = [w0, b0, w1, b1]
idx = torch.randint(0, count, (128,), generator=gen)
x, y = images[idx], labels[idx]


def step():
    logits = F.relu(x @ w0 + b0) @ w1 + b1
    loss = F.cross_entropy(logits, y)
    return torch.autograd.grad(loss, params)


bench("FMNIST 8x8 MLP 64-128-10 loss+grad (batch 128)", step, warmup=20, reps=500)
