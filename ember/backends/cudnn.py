"""torch.backends.cudnn: not available in ember; the flags are settable and read back, as on a CPU-only
PyTorch (where `enabled` and `allow_tf32` default to True)."""
import contextlib

enabled = True
benchmark = False
benchmark_limit = None
deterministic = False
allow_tf32 = True


def is_available():
    return False


def version():
    return None


def is_acceptable(tensor):
    return False


@contextlib.contextmanager
def flags(enabled=False, benchmark=False, benchmark_limit=10, deterministic=False, allow_tf32=True,
          fp32_precision="none", depthwise_kernel="auto"):
    """Set the flags inside a `with` block and restore them after it (torch.backends.cudnn.flags)."""
    g = globals()
    names = ("enabled", "benchmark", "deterministic", "allow_tf32")
    before = {k: g[k] for k in names}
    g.update(enabled=enabled, benchmark=benchmark, deterministic=deterministic, allow_tf32=allow_tf32)
    try:
        yield
    finally:
        g.update(before)
