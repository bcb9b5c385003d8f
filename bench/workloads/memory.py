"""Group `memory`: whole-process peak RSS of training, each library in its own fresh process.

Each case is a small script under bench/scripts/ run as `python SCRIPT --lib X` (with the run's first thread
count), under `/usr/bin/time -v` when it exists ("Maximum resident set size"), else from the script's own
VmHWM (/proc/self/status) at exit; the script prints its VmHWM either way and both are kept in the JSON.
Runs alternate between the libraries; the figure is the median over the runs (3; --quick: 1).

  AlexNet 3 steps b16 Adam     bench/scripts/mem_alexnet_steps.py   target ember <= 1.2 x torch
  LeNet epoch 60k float32      bench/scripts/mem_lenet_epoch.py     target ember <= torch
"""
import os
import re
import statistics
import subprocess
import sys

import common
import harness
from registry import group

SCRIPTS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "scripts")
TIME = "/usr/bin/time"
CASES = [  # (row name, script, target ratio ember/torch)
    ("AlexNet 3 train steps b16 Adam", "mem_alexnet_steps.py", 1.2),
    ("LeNet epoch 60k float32 (SGD b256)", "mem_lenet_epoch.py", 1.0),
]


def peak_mib(script, lib, threads, quick):
    """One fresh process: (peak RSS MiB, method, VmHWM MiB, wall s, foreign CPU s)."""
    cmd = [sys.executable, os.path.join(SCRIPTS, script), "--lib", lib, "--threads", str(threads)]
    if quick:
        cmd.append("--quick")
    use_time = os.access(TIME, os.X_OK)
    if use_time:
        cmd = [TIME, "-v"] + cmd
    c0 = harness.cpu_snapshot()
    t0 = harness.now()
    p = subprocess.run(cmd, env=harness.thread_env(threads), capture_output=True, text=True, cwd=common.ROOT)
    wall = harness.now() - t0
    foreign = harness.foreign_since(c0)
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd[-4:])} failed: {p.stderr.strip()[-800:]}")
    m = re.search(r"VmHWM_kB=(\d+)", p.stdout)
    vmhwm = int(m.group(1)) / 1024 if m else None
    if use_time:
        t = re.search(r"Maximum resident set size \(kbytes\): (\d+)", p.stderr)
        if t:
            return int(t.group(1)) / 1024, "time -v", vmhwm, wall, foreign
    if vmhwm is None:
        raise RuntimeError(f"no peak RSS from {script}: {p.stdout[-300:]}")
    return vmhwm, "VmHWM", vmhwm, wall, foreign


def run(opts):
    common.ensure_mnist_cache()
    threads = opts.thread_counts[0]
    runs = 1 if opts.quick else 3
    libs = list(dict.fromkeys([opts.lib_a, opts.lib_b]))
    rows = []
    for name, script, target in CASES:
        if opts.match and not re.search(opts.match, name):
            continue
        if opts.wait_quiet > 0:
            harness.wait_quiet(opts.wait_quiet)
        samples, errors = {lib: [] for lib in libs}, {}
        for _ in range(runs):
            for lib in libs:
                if lib in errors:
                    continue
                try:
                    samples[lib].append(peak_mib(script, lib, threads, opts.quick))
                except RuntimeError as e:
                    errors[lib] = str(e)
                    harness.log(f"  [{lib}] {name}: ERROR {e}")
                    continue
                s = samples[lib][-1]
                harness.log(f"  [{lib}] {name}: {s[0]:.0f} MiB ({s[1]}; VmHWM {s[2] or 0:.0f} MiB), {s[3]:.1f} s")

        def side(lib):
            if lib in errors:
                return {"error": errors[lib]}
            s = samples[lib]
            return {"value": statistics.median(x[0] for x in s), "method": s[0][1],
                    "samples_mib": [x[0] for x in s], "vmhwm_mib": [x[2] for x in s],
                    "wall_s": [round(x[3], 2) for x in s]}
        methods = {samples[lib][0][1] for lib in libs if samples[lib]}
        rows.append({"group": "memory", "name": name + (" [--quick: 10k images]" if opts.quick and "LeNet" in name
                                                         else ""),
                     "threads": None, "thread_count": threads, "unit": "MiB", "runs": runs,
                     "script": f"bench/scripts/{script}", "target_ratio": target,
                     "a": side(opts.lib_a), "b": side(opts.lib_b),
                     "note": f"peak RSS by {' / '.join(sorted(methods)) or '?'}, {threads} threads, "
                             f"median of {runs} run(s) per library"})
    return rows


group("memory", "whole-process peak RSS (/usr/bin/time -v, else VmHWM) of a training script, each library "
      "in a fresh process (median of 3 runs)", unit="MiB", default=False,
      target="AlexNet steps: ember <= 1.2 x torch; LeNet epoch: ember <= torch", run=run)
