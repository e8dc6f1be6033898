"""Eager PyTorch setup for the peers: one thread unless THREADS says otherwise."""
import os, sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import torch  # noqa: E402
from protocol import run as _run, fixed, fixed_labels  # noqa: E402,F401

torch.set_num_threads(int(os.environ.get("THREADS", "1")))
torch.manual_seed(0)


def t(a, grad=False):
    x = torch.from_numpy(a.copy())
    return x.requires_grad_() if grad else x


def run(workloads):
    _run("torch", torch.__version__, workloads)
