"""DistributedDataParallel on 2 processes, each with half of every batch, against one process
(an MLP, LeNet with BatchNorm, a two-headed net with an unused head, and a character LSTM).

One process on the whole batch is the reference: after 20 SGD (momentum) or Adam steps the weights must
agree to 1e-6 relative (float64 models, so that the comparison is about the algorithm, not about float32
rounding of a different summation order). BatchNorm keeps per-process batch statistics, as PyTorch does
without SyncBatchNorm, so its reference runs each half through the model separately and averages the two
losses. With no_sync, each rank accumulates two micro-batches and reduces once."""
import numpy as np
import pytest

import ember
from ember.nn import functional as F

from tests.distributed.jobs.ddp_models import CASES, STEPS, batch, build, lenet_bn
from tests.distributed.launch import results, run_job


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    out = tmp_path_factory.mktemp("ddp")
    results(run_job("ddp.py", out, timeout=180), out)
    return out


def reference(case, world=2):
    model, opt, micro, unused = build(case)
    per_rank = CASES[case][0] is lenet_bn
    for step in range(STEPS):
        x, y = batch(case, step)
        opt.zero_grad()
        if per_rank:
            half = x.shape[0] // world
            loss = sum(F.cross_entropy(model(x[r * half:(r + 1) * half]), y[r * half:(r + 1) * half])
                       for r in range(world)) / world
        else:
            loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
    return model


@pytest.mark.parametrize("case", list(CASES))
def test_ddp_matches_one_process(trained, case):
    ours = [dict(np.load(trained / f"{case}_rank{r}.npz")) for r in range(2)]
    model = reference(case)
    for name, p in model.named_parameters():
        want = p.detach().numpy()
        np.testing.assert_allclose(ours[0][name], want, rtol=1e-6, atol=1e-9, err_msg=f"{case}: {name}")
        np.testing.assert_array_equal(ours[0][name], ours[1][name], err_msg=f"{case}: ranks differ at {name}")
    if case.startswith("unused"):
        assert not np.array_equal(ours[0]["unused.weight"], ours[0]["used.weight"][:0])  # present, untouched
        start, _, _, _ = build(case)
        np.testing.assert_array_equal(ours[0]["unused.weight"], start.unused.weight.detach().numpy())
