"""ember.distributed's collectives on 2 MPI processes, checked against NumPy (one job runs every case)."""
import numpy as np
import pytest

import ember
import ember.distributed as dist

from tests.distributed.launch import results, run_job


@pytest.fixture(scope="module")
def collectives(tmp_path_factory):
    out = tmp_path_factory.mktemp("collectives")
    return results(run_job("collectives.py", out), out)


def test_every_collective_dtype_op_and_shape_matches_numpy(collectives):
    for rank, r in enumerate(collectives):
        assert r["checks"] > 600
        assert not r["failures"], f"rank {rank}:\n" + "\n".join(r["failures"][:5])


def test_launcher_sets_torchrun_environment(collectives):
    for rank, r in enumerate(collectives):
        assert r["env"] == {"RANK": str(rank), "WORLD_SIZE": "2", "LOCAL_RANK": str(rank), "LOCAL_WORLD_SIZE": "2",
                            "MASTER_ADDR": "127.0.0.1"}
        assert r["backend_initialized"] is False  # destroy_process_group ran


@pytest.mark.parametrize("call", [
    lambda: dist.get_rank(), lambda: dist.get_world_size(), lambda: dist.all_reduce(ember.ones(2)),
    lambda: dist.barrier(), lambda: dist.broadcast(ember.ones(2), src=0), lambda: dist.get_backend(),
])
def test_collective_before_init_raises_torchs_error(call):
    import torch
    import torch.distributed as tdist
    with pytest.raises(ValueError) as ours:
        call()
    with pytest.raises(ValueError) as theirs:
        tdist.get_rank()
    assert str(ours.value) == str(theirs.value)
    assert torch  # the oracle


def test_backends_and_reduce_ops_mirror_torch():
    import torch.distributed as tdist
    assert dist.Backend("GLOO") == "gloo" and dist.Backend.MPI == tdist.Backend.MPI
    for name in ["SUM", "AVG", "PRODUCT", "MIN", "MAX", "BAND", "BOR", "BXOR"]:
        assert repr(getattr(dist.ReduceOp, name)) == repr(getattr(tdist.ReduceOp, name))
    assert dist.is_available() and not dist.is_initialized() and not dist.is_nccl_available()


def test_single_process_group_without_launcher(tmp_path):
    """Without mpiexec a script still gets a group of one (MPI singleton), like torch with world_size=1."""
    import subprocess
    import sys
    code = ("import ember, ember.distributed as d; d.init_process_group('gloo');"
            "t = ember.ones(3); d.all_reduce(t); print(d.get_rank(), d.get_world_size(), t.tolist());"
            "d.destroy_process_group()")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split("\n")[0] == "0 1 [1.0, 1.0, 1.0]"


def test_bad_backend_and_world_size_outside_launcher():
    with pytest.raises(RuntimeError, match="NCCL"):
        dist.init_process_group("nccl")
    with pytest.raises(RuntimeError, match="Invalid backend"):
        dist.init_process_group("tcp")
    with pytest.raises(RuntimeError, match="ember.distributed.run --nproc-per-node 4"):
        dist.init_process_group("gloo", world_size=4, rank=0)
    assert not dist.is_initialized()


def test_failing_rank_aborts_the_whole_job_quickly(tmp_path):
    import time
    start = time.perf_counter()
    proc = run_job("fail.py", timeout=60)
    took = time.perf_counter() - start
    assert proc.returncode != 0
    assert "ZeroDivisionError: rank 1 divides by zero" in proc.stderr
    assert took < 30, f"the job took {took:.1f} s to end"
