"""Shared helpers for lopt's PyTorch peer benchmarks: thread setup and timing (median, min)."""
import json, os, statistics, time
import torch


def setup(seed=0):
    torch.set_num_threads(int(os.environ.get("THREADS", "1")))
    torch.manual_seed(seed)


def bench(name, fn, warmup=5, reps=50, **extra):
    for _ in range(warmup):
        fn()
    ts = []
    for _ in range(reps):
        t = time.perf_counter()
        fn()
        ts.append((time.perf_counter() - t) * 1e3)
    rec = dict(name=name, medianMs=round(statistics.median(ts), 4), minMs=round(min(ts), 4), reps=reps,
               threads=torch.get_num_threads(), torch=torch.__version__, **extra)
    print(json.dumps(rec), flush=True)
    return rec
