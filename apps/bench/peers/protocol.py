"""The harness <-> peer protocol of lopt's bench (apps/bench/src/peers.ts).

A peer script is run as `python <script>.py <workload id> [--quick 0|1] [--repeats N] [--warmup W]`
and prints one JSON object on the last line of stdout:
  {"workload": id, "framework": "torch"|"jax", "version": "...", "times_ms": [...],
   "check": <loss on the workload's fixed input>, ...extra}
Each script defines `WORKLOADS = {id: make}` where make(quick) returns (step, check):
step() runs one step (return what must be waited for: JAX arrays are blocked on), check() a float.
"""
import argparse, json, os, sys, time

import numpy as np


def fixed(shape, scale=1.0, offset=0.0):
    """scale * sin(offset + 0, 1, 2, ...) in row-major order, as apps/bench/src/workloads/fixed.ts."""
    n = int(np.prod(shape)) if len(shape) else 1
    v = (scale * np.sin(offset + np.arange(n, dtype=np.float64))).astype(np.float32)
    return v.reshape(shape)


def fixed_labels(shape, classes, offset=0):
    n = int(np.prod(shape))
    return ((np.arange(n) * 7 + offset) % classes).astype(np.int32).reshape(shape)


def run(framework, version, workloads, block=lambda r: r):
    ap = argparse.ArgumentParser()
    ap.add_argument("workload")
    ap.add_argument("--quick", type=int, default=0)
    ap.add_argument("--repeats", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=3)
    a = ap.parse_args()
    if a.workload not in workloads:
        sys.exit(f"unknown workload '{a.workload}' (this script has: {', '.join(workloads)})")
    t0 = time.perf_counter()
    step, check = workloads[a.workload](bool(a.quick))
    setup_ms = (time.perf_counter() - t0) * 1e3
    t = time.perf_counter()
    block(step())
    first_ms = (time.perf_counter() - t) * 1e3
    for _ in range(a.warmup):
        block(step())
    ts = []
    for _ in range(a.repeats):
        t = time.perf_counter()
        block(step())
        ts.append((time.perf_counter() - t) * 1e3)
    out = dict(workload=a.workload, framework=framework, version=version, times_ms=ts,
               setup_ms=setup_ms, first_step_ms=first_ms, threads=os.environ.get("OMP_NUM_THREADS"))
    if check is not None:
        out["check"] = float(check())
    print(json.dumps(out), flush=True)


def fixed_maml():
    """The fixed input of the MAML (W2) checks (w2-maml.ts `w2CheckInput`): 1-40-40-1 weights w_l = fixed([fan_in, fan_out],
    1/sqrt(fan_in), 10 l + 1), biases b_l = fixed([fan_out], 0.01, 10 l + 2) (l = 0, 1, 2), and 4
    tasks of K = 20: x1 = fixed([4, 20, 1], 5, 100), y1 = fixed([4, 20, 1], 0.3, 200), x2 with 300,
    y2 with 400."""
    sizes = [(1, 40), (40, 40), (40, 1)]
    params = []
    for l, (fi, fo) in enumerate(sizes):
        params += [fixed([fi, fo], 1 / np.sqrt(fi), 10 * l + 1), fixed([fo], 0.01, 10 * l + 2)]
    batch = [fixed([4, 20, 1], 5, 100), fixed([4, 20, 1], 0.3, 200), fixed([4, 20, 1], 5, 300), fixed([4, 20, 1], 0.3, 400)]
    return params, batch


def fixed_lopt():
    """The fixed input of the learned-optimizer (W4) check, as w4-common.ts `w4CheckInput`: theta
    w0 = fixed([3, 64], 1, 0), b0 = fixed([64], 0.1, 1), w1 = fixed([64, 2], 1, 2), b1 = fixed([2], 0.1, 3);
    one MLP 64-128-10 w0 = fixed([64, 128], 0.02, 4), b0 = 0, w1 = fixed([128, 10], 0.02, 5), b1 = 1;
    one batch image = 0.5 fixed([128, 64], 1, 6) + 0.5, label i = 7i mod 10, used at all 10 steps.
    The check is the meta-loss: the mean of the 10 inner training losses."""
    theta = [fixed([3, 64], 1, 0), fixed([64], 0.1, 1), fixed([64, 2], 1, 2), fixed([2], 0.1, 3)]
    params = [fixed([1, 64, 128], 0.02, 4), np.zeros([1, 128], np.float32), fixed([1, 128, 10], 0.02, 5), np.ones([1, 10], np.float32)]
    x = np.broadcast_to(0.5 * fixed([128, 64], 1, 6) + 0.5, (10, 1, 128, 64)).astype(np.float32)
    y = np.broadcast_to(fixed_labels([128], 10), (10, 1, 128)).astype(np.int32)
    return theta, params, x, y
