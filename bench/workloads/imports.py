"""Group `import`: cost of `import X` in a fresh interpreter.

For each library, `python -c "import X"` and the bare `python -c "pass"` are
started alternately (~7 times each, after one warm-up round that fills the page
cache).  Import time = median wall time of the import run minus median of the
bare run (over the runs other processes left undisturbed, when there
are enough of them; see harness.py).  Peak memory = the whole child process's peak RSS (VmHWM, see
REPORT_PEAK).  NumPy is measured too, as the floor a NumPy-based framework
cannot go below.

Every library is timed with its bytecode cached, as after `pip install` (which
writes the .pyc files): the children write and read theirs under a private
PYTHONPYCACHEPREFIX, filled by the warm-up round.  A machine that sets
PYTHONDONTWRITEBYTECODE (this sandbox does) would otherwise time the compiling of
ember's sources from an editable checkout against torch's cached bytecode.
"""
import os
import statistics
import subprocess
import sys
import tempfile
import time

import harness
from registry import group

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TARGET_S = 0.15
TARGET_MIB = 40.0


# Peak RSS is read from /proc/self/status (VmHWM) by the child itself, just before
# it exits.  ru_maxrss of the child is not usable here: the kernel carries the
# parent's peak RSS into the child at exec (subprocess uses vfork), so every child
# would report at least this harness's own ~30 MiB.
REPORT_PEAK = "\nfor _l in open('/proc/self/status'):\n    _l.startswith('VmHWM:') and print(_l.split()[1])"


def child_env(pycache: str) -> dict:
    """The children's environment: bytecode written to and read from `pycache`."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = pycache
    return env


def spawn(code: str, env=None):
    """Run `python -c code`; returns (wall seconds, peak RSS in MiB or None, whether
    other processes left it undisturbed) of that child."""
    c0 = harness.cpu_snapshot()
    t0 = time.perf_counter()
    p = subprocess.run([sys.executable, "-c", code + REPORT_PEAK], cwd=ROOT, capture_output=True, text=True,
                       env=env)
    wall = time.perf_counter() - t0
    clean = harness.is_clean(wall, harness.foreign_since(c0))
    if p.returncode != 0:
        raise RuntimeError(f"`python -c {code!r}` failed: {p.stderr.strip()[-800:]}")
    out = p.stdout.split()
    return wall, (int(out[-1]) / 1024 if out else None), clean  # VmHWM is in KiB


def run(opts):
    runs = 3 if opts.quick else 7
    mods = list(dict.fromkeys([opts.lib_a, opts.lib_b, "numpy"]))
    codes = {"(bare)": "pass", **{m: f"import {m}" for m in mods}}
    samples = {k: [] for k in codes}
    if opts.wait_quiet > 0:
        harness.wait_quiet(opts.wait_quiet)
    errors = {}
    with tempfile.TemporaryDirectory(prefix="bench-pycache-") as pycache:
        env = child_env(pycache)
        for i in range(runs + 1):  # round 0 is warm-up (and writes the bytecode)
            for key, code in codes.items():
                if key in errors:
                    continue
                try:
                    s = spawn(code, env)
                except RuntimeError as e:
                    errors[key] = str(e)
                    continue
                if i:
                    samples[key].append(s)

    def stats(key):
        if key in errors:
            return {"error": errors[key]}
        t = [s[0] for s in samples[key]]
        clean = [s[0] for s in samples[key] if s[2]]
        noisy = len(clean) < (runs + 1) // 2  # then use all samples
        m = [s[1] for s in samples[key] if s[1] is not None]
        return {"wall_s": statistics.median(t if noisy else clean), "wall_samples_s": t,
                "clean_samples": len(clean), "noisy": noisy,
                "rss_mib": statistics.median(m) if m else None, "rss_samples_mib": m}

    st = {k: stats(k) for k in codes}
    bare = st["(bare)"]
    if "error" in bare:
        raise RuntimeError(bare["error"])
    for k in mods:
        if "error" not in st[k]:
            st[k]["import_s"] = st[k]["wall_s"] - bare["wall_s"]

    def side(mod, field):
        s = st[mod]
        if "error" in s:
            return {"error": s["error"]}
        return {"value": s[field], "noisy": field == "import_s" and (s["noisy"] or bare["noisy"])}

    def mib(v):
        return "?" if v is None else f"{v:.1f}"

    note = f"reference: bare python {bare['wall_s']:.3f} s, {mib(bare['rss_mib'])} MiB"
    if "error" not in st["numpy"]:
        note += f"; import numpy {st['numpy']['import_s']:.3f} s, {mib(st['numpy']['rss_mib'])} MiB"
    common = {"group": "import", "threads": None, "runs": runs, "details": st, "note": note}
    return [
        {**common, "name": "import time", "unit": "s", "a": side(opts.lib_a, "import_s"),
         "b": side(opts.lib_b, "import_s"), "target_abs": TARGET_S},
        {**common, "name": "peak RSS (whole process)", "unit": "MiB", "a": side(opts.lib_a, "rss_mib"),
         "b": side(opts.lib_b, "rss_mib"), "target_abs": TARGET_MIB},
    ]


group("import", "fresh `python -c 'import X'` minus bare `python -c pass` (median of 7 runs), "
      "and the child's whole-process peak RSS", unit="s",
      target=f"ember: import <= {TARGET_S} s, peak RSS <= {TARGET_MIB:.0f} MiB", run=run)
