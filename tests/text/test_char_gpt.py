"""CharGPT (ember.text._gpt, the zoo's char-gpt): the same network built from torch.nn with torch's weights
gives the same logits and gradients; attention is causal; it learns; generate crops and samples."""
import math
import pathlib
import sys

import numpy as np
import pytest
import torch

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "nn"))

import ember  # noqa: E402
from ember.text._gpt import CharGPT  # noqa: E402
from nn_compare import assert_same, copy_weights, to_numpy  # noqa: E402


class TorchCharGPT(torch.nn.Module):
    """CharGPT's architecture written with torch.nn (the oracle)."""

    def __init__(self, vocab_size, block_size, d_model, nhead, num_layers, dropout):
        super().__init__()
        self.block_size = block_size
        self.token_embedding = torch.nn.Embedding(vocab_size, d_model)
        self.position_embedding = torch.nn.Embedding(block_size, d_model)
        self.dropout = torch.nn.Dropout(dropout)
        layer = torch.nn.TransformerEncoderLayer(d_model, nhead, 4 * d_model, dropout, activation="gelu",
                                                 batch_first=True, norm_first=True)
        self.blocks = torch.nn.TransformerEncoder(layer, num_layers, enable_nested_tensor=False)
        self.norm = torch.nn.LayerNorm(d_model)
        self.head = torch.nn.Linear(d_model, vocab_size)

    def forward(self, idx):
        seq = idx.shape[1]
        x = self.dropout(self.token_embedding(idx) + self.position_embedding(torch.arange(seq)))
        mask = torch.nn.Transformer.generate_square_subsequent_mask(seq)
        return self.head(self.norm(self.blocks(x, mask=mask, is_causal=True)))


def _pair(dropout=0.0):
    torch.manual_seed(0)
    ref = TorchCharGPT(11, 16, 16, 2, 2, dropout)
    lib = CharGPT(11, block_size=16, d_model=16, nhead=2, num_layers=2, dropout=dropout)
    copy_weights(ref, lib)
    return ref, lib


@pytest.mark.parametrize("train", [False, True])
def test_char_gpt_matches_the_same_network_in_torch(train):
    ref, lib = _pair()
    ref.train(train)
    lib.train(train)
    idx = np.random.default_rng(0).integers(0, 11, (3, 9))
    targets = np.random.default_rng(1).integers(0, 11, (3 * 9,))
    r = ref(torch.from_numpy(idx))
    o = lib(ember.tensor(idx))
    assert_same(o, r, 2e-4, 2e-5, name="CharGPT logits")
    torch.nn.functional.cross_entropy(r.reshape(-1, 11), torch.from_numpy(targets)).backward()
    ember.nn.functional.cross_entropy(o.reshape(-1, 11), ember.tensor(targets)).backward()
    lp = dict(lib.named_parameters())
    for name, p in ref.named_parameters():
        assert_same(lp[name].grad, p.grad, 2e-4, 2e-5, name=f"CharGPT grad of {name}")


def test_char_gpt_is_causal():
    _, lib = _pair()
    lib.eval()
    idx = np.random.default_rng(2).integers(0, 11, (1, 12))
    changed = idx.copy()
    changed[0, 7] = (changed[0, 7] + 1) % 11
    a, b = to_numpy(lib(ember.tensor(idx))), to_numpy(lib(ember.tensor(changed)))
    np.testing.assert_array_equal(a[0, :7], b[0, :7])
    assert not np.allclose(a[0, 7:], b[0, 7:])


def test_char_gpt_initialisation_and_state_dict():
    lib = CharGPT(50, block_size=32, d_model=32, nhead=4, num_layers=3)
    w = to_numpy(lib.blocks.layers[0].linear1.weight)
    assert abs(w.std() - 0.02) < 0.003
    w2 = to_numpy(lib.blocks.layers[0].linear2.weight)
    assert abs(w2.std() - 0.02 / math.sqrt(6)) < 0.002
    assert (to_numpy(lib.head.bias) == 0).all()
    ref = TorchCharGPT(50, 32, 32, 4, 3, 0.1)
    assert list(lib.state_dict()) == list(ref.state_dict())


def test_char_gpt_learns_a_repeating_text():
    ember.manual_seed(0)
    text = "hello world, " * 40
    chars = sorted(set(text))
    ids = np.array([chars.index(c) for c in text])
    model = CharGPT(len(chars), block_size=16, d_model=32, nhead=2, num_layers=2, dropout=0.0)
    opt = ember.optim.Adam(model.parameters(), lr=3e-3)
    rng = np.random.default_rng(0)
    losses = []
    for step in range(60):
        starts = rng.integers(0, len(ids) - 17, 16)
        x = ember.tensor(np.stack([ids[s:s + 16] for s in starts]))
        y = ember.tensor(np.stack([ids[s + 1:s + 17] for s in starts]))
        loss = ember.nn.functional.cross_entropy(model(x).reshape(-1, len(chars)), y.reshape(-1))
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(float(loss))
    assert losses[0] > 2.0 and losses[-1] < 0.3, (losses[0], losses[-1])
    out = model.generate(ember.tensor([[chars.index(c) for c in "hello wo"]]), 20, temperature=0)
    assert "".join(chars[i] for i in to_numpy(out)[0]).startswith("hello world, hello w")


def test_char_gpt_generate_and_bad_input():
    _, lib = _pair()
    idx = ember.randint(0, 11, (2, 14))
    out = lib.generate(idx, 6)          # the context passes block_size (16): cropped, no error
    assert tuple(out.shape) == (2, 20) and int(out.max()) < 11
    g1, g2 = ember.Generator().manual_seed(5), ember.Generator().manual_seed(5)
    np.testing.assert_array_equal(to_numpy(lib.generate(idx, 4, top_k=3, generator=g1)),
                                  to_numpy(lib.generate(idx, 4, top_k=3, generator=g2)))
    with pytest.raises(ValueError, match="block size"):
        lib(ember.randint(0, 11, (1, 17)))
    with pytest.raises(ValueError, match="batch, seq"):
        lib(ember.randint(0, 11, (17,)))
