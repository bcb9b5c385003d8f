"""Helpers of the memory scripts: bench/ on sys.path, the library, threads, and the peak-RSS report."""
import argparse
import importlib
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import common  # noqa: E402


def setup(description):
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("--lib", default="ember", help="ember or torch (default %(default)s)")
    ap.add_argument("--threads", type=int, default=int(os.environ.get("OMP_NUM_THREADS", "2")))
    ap.add_argument("--quick", action="store_true", help="smaller data (LeNet: 10k images)")
    args = ap.parse_args()
    lib = importlib.import_module(args.lib)
    args.limits = common.set_threads(lib, args.threads)  # keep alive
    return args, lib


def report_peak(**extra):
    """Print this process's peak RSS (VmHWM, KiB) and extra key=value pairs, one line, at the end."""
    peak = None
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                peak = int(line.split()[1])
    print(" ".join([f"VmHWM_kB={peak}"] + [f"{k}={v}" for k, v in extra.items()]), flush=True)
