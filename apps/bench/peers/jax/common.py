"""JAX (jit, CPU) setup for the peers: one XLA thread, float32."""
import os, sys

os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1")
os.environ.setdefault("JAX_PLATFORMS", "cpu")
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import jax  # noqa: E402
from protocol import run as _run, fixed, fixed_labels  # noqa: E402,F401


def run(workloads):
    _run("jax", jax.__version__, workloads, block=jax.block_until_ready)
