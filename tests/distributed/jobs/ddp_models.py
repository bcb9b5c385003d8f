"""Models and data shared by the DDP job and the single-process reference in test_ddp.py."""
import numpy as np

import ember
from ember import nn

GLOBAL_BATCH, STEPS = 16, 20


def mlp():
    return nn.Sequential(nn.Linear(12, 32), nn.ReLU(), nn.Linear(32, 5))


def lenet_bn():
    return nn.Sequential(
        nn.Conv2d(1, 4, kernel_size=3), nn.BatchNorm2d(4), nn.Sigmoid(), nn.AvgPool2d(2),
        nn.Flatten(), nn.Linear(4 * 5 * 5, 16), nn.BatchNorm1d(16), nn.Sigmoid(), nn.Linear(16, 5))


class TwoHeads(nn.Module):
    """`unused` gets no gradient: find_unused_parameters=True must not wait for it."""

    def __init__(self):
        super().__init__()
        self.body = nn.Linear(12, 8)
        self.used = nn.Linear(8, 5)
        self.unused = nn.Linear(8, 5)

    def forward(self, x):
        return self.used(self.body(x).tanh())


class CharLSTM(nn.Module):
    """The book's character model in miniature: one-hot steps through an LSTM, a linear readout per step."""

    def __init__(self, vocab=12, hidden=16):
        super().__init__()
        self.vocab = vocab
        self.rnn = nn.LSTM(vocab, hidden, batch_first=True)
        self.out = nn.Linear(hidden, vocab)

    def forward(self, x):
        h, _ = self.rnn(x)
        return self.out(h[:, -1])


CASES = {
    # name: (model, optimizer, micro-batches per step (no_sync accumulation), find_unused_parameters)
    "mlp_sgd": (mlp, "sgd", 1, False),
    "mlp_adam": (mlp, "adam", 1, False),
    "lenet_bn_sgd": (lenet_bn, "sgd", 1, False),
    "lenet_bn_adam": (lenet_bn, "adam", 1, False),
    "mlp_no_sync": (mlp, "sgd", 2, False),
    "unused_adam": (TwoHeads, "adam", 1, True),
    "lstm_adam": (CharLSTM, "adam", 1, False),
}


def build(case):
    make, opt_name, micro, unused = CASES[case]
    ember.manual_seed(7)
    model = make().double()
    if opt_name == "sgd":
        opt = ember.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    else:
        opt = ember.optim.Adam(model.parameters(), lr=0.01)
    return model, opt, micro, unused


def batch(case, step):
    g = np.random.default_rng(step)
    if CASES[case][0] is CharLSTM:  # sequences of 6 one-hot characters, the next character as the label
        chars = g.integers(0, 12, (GLOBAL_BATCH, 6))
        x = ember.from_numpy(np.eye(12)[chars])
        return x, ember.from_numpy(g.integers(0, 5, GLOBAL_BATCH))
    shape = (GLOBAL_BATCH, 1, 12, 12) if CASES[case][0] is lenet_bn else (GLOBAL_BATCH, 12)
    x = ember.from_numpy(g.standard_normal(shape))
    y = ember.from_numpy(g.integers(0, 5, GLOBAL_BATCH))
    return x, y
