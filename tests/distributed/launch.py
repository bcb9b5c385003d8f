"""Run a job script under `python -m ember.distributed.run` (mpiexec on this machine's loopback)."""
import json
import os
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]
JOBS = pathlib.Path(__file__).resolve().parent / "jobs"


def run_job(name, *args, nproc=2, timeout=120, env=None):
    environ = dict(os.environ, PYTHONPATH=str(ROOT), OMP_NUM_THREADS="1")
    environ.update(env or {})
    cmd = [sys.executable, "-m", "ember.distributed.run", "--nproc-per-node", str(nproc), str(JOBS / name),
           *map(str, args)]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=environ, cwd=ROOT)


def results(proc, out_dir, nproc=2):
    """Each rank writes rank<r>.json; fail with the job's output when it did not finish."""
    assert proc.returncode == 0, f"job failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}"
    return [json.loads((pathlib.Path(out_dir) / f"rank{r}.json").read_text()) for r in range(nproc)]
