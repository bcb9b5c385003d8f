"""`ember train lenet --nproc 2`: two processes under DistributedDataParallel, the same global batch,
the same accuracy as one process (different shuffles, so within a margin), one set of outputs."""
import json
import os
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
DATA = os.environ.get("EMBER_TEST_DATA", str(pathlib.Path.home() / ".cache" / "ember" / "data"))
SMALL = ["--epochs", "3", "--limit-train", "4096", "--limit-test", "1000", "--batch-size", "128",
         "--data-dir", DATA, "--quiet"]


@pytest.fixture(scope="module", autouse=True)
def mnist():
    from ember.vision.datasets import MNIST
    MNIST(DATA, train=True, download=True)
    MNIST(DATA, train=False, download=True)


def train(out, *extra):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.run([sys.executable, "-m", "ember.cli", "train", "lenet", *SMALL, "--out", str(out), *extra],
                          capture_output=True, text=True, timeout=600, env=env, cwd=ROOT)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc, json.loads((out / "metrics.json").read_text())


def test_two_processes_reach_one_process_accuracy(tmp_path):
    one_proc, one = train(tmp_path / "one")
    two_proc, two = train(tmp_path / "two", "--nproc", "2")
    assert "(2 processes)" in two_proc.stdout
    assert two_proc.stdout.count("epoch   3/3") == 1  # rank 1 prints nothing
    a, b = one["final_test_acc"], two["final_test_acc"]
    assert a > 0.45 and b > 0.45, (a, b)
    assert abs(a - b) <= 0.08, (a, b)
    assert sorted(os.listdir(tmp_path / "two")) == ["checkpoint.pt", "curves.png", "metrics.json"]
    ev = subprocess.run([sys.executable, "-m", "ember.cli", "eval", str(tmp_path / "two" / "checkpoint.pt"),
                         "--data-dir", DATA, "--limit-test", "1000"], capture_output=True, text=True, timeout=300,
                        env=dict(os.environ, PYTHONPATH=str(ROOT)), cwd=ROOT)
    assert ev.returncode == 0 and f"{b:.2%}" in ev.stdout, ev.stdout + ev.stderr


def test_batch_must_split_evenly(tmp_path):
    from tests.cli.test_cli_bad_input import assert_refused, run
    code, out, err = run("train", "lenet", "--nproc", "3", "--batch-size", "128", "--out", tmp_path / "x")
    assert_refused(code, err, "--nproc", "multiple of the process count (3)")
    assert not (tmp_path / "x").exists()
