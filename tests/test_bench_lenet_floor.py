"""bench/lenet_numpy_floor.py's hand-written LeNet is a floor only if it computes LeNet: its logits, loss and
every gradient against torch's, fused and layer by layer, at one and two threads, with a batch that leaves a
short last chunk."""
import os
import sys

import numpy as np
import pytest

torch = pytest.importorskip("torch")

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_modules  # noqa: E402


@pytest.fixture(scope="module")
def bench():
    """(lenet_numpy_floor, common) loaded from bench/, once."""
    return bench_modules.load("lenet_numpy_floor"), bench_modules.load("common")


@pytest.mark.parametrize("fused", [True, False], ids=["fused", "layer_by_layer"])
def test_hand_written_lenet_matches_torch(bench, threads, fused):
    mod, common = bench
    tm = common.build(torch, "lenet", init="xavier")
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2 * mod.HandWrittenLeNet.CHUNK + 6, 1, 28, 28), dtype=np.float32)
    y = rng.integers(0, 10, len(x))
    hand = mod.HandWrittenLeNet({k: v.detach().numpy() for k, v in tm.state_dict().items()}, fused=fused)
    with np.errstate(over="ignore"):
        logits = hand.infer(x)
        loss, grads = hand.grads(x, y)
    with torch.no_grad():
        np.testing.assert_allclose(logits, tm(torch.from_numpy(x)).numpy(), rtol=1e-5, atol=1e-5)
    tl = torch.nn.functional.cross_entropy(tm(torch.from_numpy(x)), torch.from_numpy(y))
    tl.backward()
    assert loss == pytest.approx(tl.item(), rel=1e-5)
    for name, p in tm.named_parameters():
        g = p.grad.numpy()
        np.testing.assert_allclose(grads[name], g, rtol=1e-4, atol=1e-4 * np.abs(g).max(), err_msg=name)
