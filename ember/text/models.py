"""The character-level language models of the `ember` command (the zoo's char-rnn, char-gru, char-lstm and
char-gpt).

RNNModel is the book's (Dive into Deep Learning, 6.5): a recurrent layer over one-hot characters and a Linear
layer to the vocabulary, so its state_dict keys (rnn.weight_ih_l0, ..., dense.weight) are the book's and a
checkpoint loads into the book's class under PyTorch. char-gpt (a small decoder-only Transformer with causal
attention) lives in ember/text/_gpt.py and is loaded only when asked for.
"""
from collections import OrderedDict

from ember import nn
from ember.nn import functional as F

__all__ = ["RNNModel", "LMSpec", "LM_MODELS", "build_lm"]


class RNNModel(nn.Module):
    """inputs (batch, num_steps) of token indices -> (logits (num_steps * batch, vocab), state)."""

    def __init__(self, rnn_layer, vocab_size):
        super().__init__()
        self.rnn = rnn_layer
        self.hidden_size = rnn_layer.hidden_size * (2 if rnn_layer.bidirectional else 1)
        self.vocab_size = vocab_size
        self.dense = nn.Linear(self.hidden_size, vocab_size)
        self.state = None

    def forward(self, inputs, state):
        X = F.one_hot(inputs.t().long(), self.vocab_size).float()   # (num_steps, batch, vocab)
        Y, self.state = self.rnn(X, state)
        return self.dense(Y.reshape(-1, Y.shape[-1])), self.state


class LMSpec:
    """How `ember train` builds and trains a language model by default."""

    def __init__(self, build, lr, description, hidden=256, num_steps=35, batch_size=32, epochs=2,
                 optimizer="adam", clip=1.0, stateful=True):
        self.build = build                  # build(vocab_size) -> Module
        self.lr, self.description = lr, description
        self.hidden, self.num_steps, self.batch_size, self.epochs = hidden, num_steps, batch_size, epochs
        self.optimizer, self.clip = optimizer, clip
        self.stateful = stateful            # RNNs carry their state between consecutive minibatches


def _rnn(kind, hidden):
    return lambda vocab_size: RNNModel(getattr(nn, kind)(vocab_size, hidden), vocab_size)


def _gpt(vocab_size):
    try:
        from ember.text._gpt import CharGPT
    except ImportError as e:
        raise ImportError(f"char-gpt needs ember.text._gpt (the Transformer language model), which this ember "
                          f"does not have ({e})") from None
    return CharGPT(vocab_size)


LM_MODELS = OrderedDict([
    # the book's settings (D2L 6.5, 6.7, 6.8): hidden 256, 35 steps, batch 32, Adam; lr 1e-3 (RNN), 1e-2 (GRU, LSTM)
    ("char-rnn", LMSpec(_rnn("RNN", 256), 1e-3, "Character RNN (tanh, hidden 256) over one-hot input (D2L 6.5).")),
    ("char-gru", LMSpec(_rnn("GRU", 256), 1e-2, "Character GRU (hidden 256) over one-hot input (D2L 6.7).")),
    ("char-lstm", LMSpec(_rnn("LSTM", 256), 1e-2, "Character LSTM (hidden 256) over one-hot input (D2L 6.8).")),
    ("char-gpt", LMSpec(_gpt, 1e-3, "Small decoder-only Transformer with causal attention (ember.text._gpt).",
                        num_steps=64, stateful=False)),
])


def build_lm(name, vocab_size):
    try:
        spec = LM_MODELS[name]
    except KeyError:
        raise ValueError(f"unknown language model '{name}'; choose one of: {', '.join(LM_MODELS)}") from None
    return spec.build(vocab_size)
