"""bench/mlp_gemm_floor.py's hand-written MLP step is a floor only if it trains the MLP: its loss, gradients and
the parameters after two SGD steps (with and without momentum) against torch's."""
import os
import sys

import numpy as np
import pytest

torch = pytest.importorskip("torch")

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_modules  # noqa: E402


@pytest.fixture(scope="module")
def floor():
    return bench_modules.load("mlp_gemm_floor")


@pytest.mark.parametrize("widths,batch,momentum", [([784, 256, 10], 256, 0.0), ([50, 40, 30, 10], 33, 0.5)],
                         ids=["mlp", "deeper-momentum"])
def test_hand_written_step_trains_as_torch(floor, threads, widths, batch, momentum):
    rng = np.random.default_rng(2)
    weights = [((rng.standard_normal((o, i)) / np.sqrt(i)).astype(np.float32), rng.standard_normal(o).astype(np.float32))
               for i, o in zip(widths[:-1], widths[1:])]
    model = floor.mlp(torch, weights)
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=momentum)
    hand = floor.HandWrittenStep([(w.copy(), b.copy()) for w, b in weights], 0.05, momentum)
    for step in range(2):
        x = rng.standard_normal((batch, widths[0])).astype(np.float32)
        y = rng.integers(0, widths[-1], batch)
        loss, grads = hand.grads(x, y)
        opt.zero_grad()
        tl = torch.nn.functional.cross_entropy(model(torch.from_numpy(x)), torch.from_numpy(y))
        tl.backward()
        assert loss == pytest.approx(tl.item(), rel=1e-5)
        for g, p in zip(grads, model.parameters()):
            np.testing.assert_allclose(g, p.grad.numpy(), rtol=1e-4, atol=1e-4 * np.abs(p.grad.numpy()).max())
        hand.step(x, y)
        opt.step()
        for mine, p in zip(hand.params, model.parameters()):
            np.testing.assert_allclose(mine, p.detach().numpy(), rtol=1e-5, atol=1e-6)
