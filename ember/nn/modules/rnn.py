"""Recurrent layers RNN, LSTM, GRU and their single-step cells, as torch.nn.modules.rnn.

A layer runs, for each layer and direction: the input projection of all time steps as one `linear`
(one GEMM), then the recurrence as one fused node (ember/ops/rnn.py: arrays inside, first-order
gradients). Between layers, dropout in training mode. Parameter names, shapes, order, initialisation
and the checks with their messages are PyTorch's, so state_dicts move both ways.

The cells (RNNCell, LSTMCell, GRUCell) are written with ordinary ops: a step of a hand-written loop,
differentiable any number of times.
"""
import math
import numbers
import warnings

import numpy as np

from ember.nn.modules.module import Module
from ember.nn.parameter import Parameter
from ember.nn import init, functional as F
from ember.nn.utils.rnn import PackedSequence, _packed_positions
from ember.creation import empty, zeros
from ember.ops.rnn import RecurrentLayer
from ember.ops.shape import cat, stack
from ember.tensor import Tensor

__all__ = ["RNNBase", "RNN", "LSTM", "GRU", "RNNCellBase", "RNNCell", "LSTMCell", "GRUCell"]

_GATES = {"LSTM": 4, "GRU": 3, "RNN_TANH": 1, "RNN_RELU": 1}


class RNNBase(Module):
    def __init__(self, mode, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False, proj_size=0, device=None, dtype=None):
        super().__init__()
        self.mode = mode
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bias = bias
        self.batch_first = batch_first
        self.dropout = float(dropout)
        self.bidirectional = bidirectional
        self.proj_size = proj_size
        num_directions = 2 if bidirectional else 1
        self._check_settings(dropout)
        if mode not in _GATES:
            raise ValueError("Unrecognized RNN mode: " + mode)
        gate_size = _GATES[mode] * hidden_size
        real_hidden_size = proj_size if proj_size > 0 else hidden_size
        self._flat_weights_names = []
        self._all_weights = []
        for layer in range(num_layers):
            layer_input_size = input_size if layer == 0 else real_hidden_size * num_directions
            for direction in range(num_directions):
                shapes = [("weight_ih_l{}{}", (gate_size, layer_input_size)),
                          ("weight_hh_l{}{}", (gate_size, real_hidden_size))]
                if bias:
                    shapes += [("bias_ih_l{}{}", (gate_size,)), ("bias_hh_l{}{}", (gate_size,))]
                if proj_size > 0:
                    shapes += [("weight_hr_l{}{}", (proj_size, hidden_size))]
                suffix = "_reverse" if direction == 1 else ""
                names = []
                for pattern, shape in shapes:
                    name = pattern.format(layer, suffix)
                    setattr(self, name, Parameter(empty(*shape, dtype=dtype, device=device)))
                    names.append(name)
                self._flat_weights_names.extend(names)
                self._all_weights.append(names)
        self.reset_parameters()

    def _check_settings(self, dropout):
        if not isinstance(dropout, numbers.Number) or not 0 <= dropout <= 1 or isinstance(dropout, bool):
            raise ValueError("dropout should be a number in range [0, 1] representing the probability of an element "
                             "being zeroed")
        if dropout > 0 and self.num_layers == 1:
            warnings.warn("dropout option adds dropout after all but last recurrent layer, so non-zero dropout expects "
                          f"num_layers greater than 1, but got dropout={dropout} and num_layers={self.num_layers}",
                          stacklevel=3)
        for name in ("bias", "batch_first"):
            if not isinstance(getattr(self, name), bool):
                raise TypeError(f"{name} should be of type bool, got: {type(getattr(self, name)).__name__}")
        for name in ("input_size", "hidden_size"):
            value = getattr(self, name)
            if not isinstance(value, int):
                raise TypeError(f"{name} should be of type int, got: {type(value).__name__}")
            if value <= 0:
                raise ValueError(f"{name} must be greater than zero")
        if self.num_layers <= 0:
            raise ValueError("num_layers must be greater than zero")
        if self.proj_size < 0:
            raise ValueError("proj_size should be a positive integer or zero to disable projections")
        if self.proj_size >= self.hidden_size:
            raise ValueError("proj_size has to be smaller than hidden_size")

    @property
    def _flat_weights(self):
        return [getattr(self, name, None) for name in self._flat_weights_names]

    @property
    def all_weights(self):
        return [[getattr(self, name) for name in names] for names in self._all_weights]

    def flatten_parameters(self):
        """PyTorch packs the weights into one buffer for cuDNN; on the CPU it does nothing, nor does ember."""

    def reset_parameters(self):
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -stdv, stdv)

    def extra_repr(self):
        s = "{input_size}, {hidden_size}"
        if self.proj_size != 0:
            s += ", proj_size={proj_size}"
        if self.num_layers != 1:
            s += ", num_layers={num_layers}"
        if self.bias is not True:
            s += ", bias={bias}"
        if self.batch_first is not False:
            s += ", batch_first={batch_first}"
        if self.dropout != 0:
            s += ", dropout={dropout}"
        if self.bidirectional is not False:
            s += ", bidirectional={bidirectional}"
        return s.format(**self.__dict__)

    # -- the checks PyTorch makes, with its messages ------------------------------------------
    def check_input(self, input, batch_sizes):
        w = self._flat_weights[0]
        if input.dtype != w.dtype:
            raise ValueError(f"RNN input dtype ({input.dtype}) does not match weight dtype ({w.dtype}). Convert input: "
                             f"input.to({w.dtype}), or convert model: model.to({input.dtype})")
        expected_input_dim = 2 if batch_sizes is not None else 3
        if input.dim() != expected_input_dim:
            raise RuntimeError(f"input must have {expected_input_dim} dimensions, got {input.dim()}")
        if self.input_size != input.size(-1):
            raise RuntimeError(f"input.size(-1) must be equal to input_size. Expected {self.input_size}, "
                               f"got {input.size(-1)}")

    def get_expected_hidden_size(self, input, batch_sizes):
        if batch_sizes is not None:
            mini_batch = int(batch_sizes[0])
        else:
            mini_batch = input.size(0) if self.batch_first else input.size(1)
        num_directions = 2 if self.bidirectional else 1
        size = self.proj_size if self.proj_size > 0 else self.hidden_size
        return (self.num_layers * num_directions, mini_batch, size)

    def check_hidden_size(self, hx, expected_hidden_size, msg="Expected hidden size {}, got {}"):
        if tuple(hx.size()) != expected_hidden_size:
            raise RuntimeError(msg.format(expected_hidden_size, list(hx.size())))

    def check_forward_args(self, input, hidden, batch_sizes):
        self.check_input(input, batch_sizes)
        self.check_hidden_size(hidden, self.get_expected_hidden_size(input, batch_sizes))

    def permute_hidden(self, hx, permutation):
        if permutation is None:
            return hx
        return hx.index_select(1, permutation)

    # -- the computation ------------------------------------------------------------------------
    def _state_shapes(self, batch):
        """(h0 shape, c0 shape or None) for a batch of this size."""
        d = 2 if self.bidirectional else 1
        size = self.proj_size if self.proj_size > 0 else self.hidden_size
        h = (self.num_layers * d, batch, size)
        return h, ((self.num_layers * d, batch, self.hidden_size) if self.mode == "LSTM" else None)

    def _unpack(self, input):
        """A PackedSequence as a padded time-major batch, with its (T, B) mask of real elements."""
        data, batch_sizes = input.data, input.batch_sizes._data
        T, B = batch_sizes.size, int(batch_sizes[0])
        where = np.full(T * B, data.shape[0], dtype=np.int64)
        positions = _packed_positions(batch_sizes, B)
        where[positions] = np.arange(data.shape[0])
        pad_row = zeros(1, data.shape[1], dtype=data.dtype)
        padded = cat([data, pad_row]).index_select(0, Tensor._make(where)).reshape(T, B, data.shape[1])
        mask = np.arange(T)[:, None] < np.array([(batch_sizes > b).sum() for b in range(B)])[None, :]
        return padded, mask, positions

    def _run(self, x, h0, c0, mask):
        """x: (T, B, I) time-major. Returns the last layer's output (T, B, D*P) and h_n (and c_n)."""
        D = 2 if self.bidirectional else 1
        P = self.proj_size if self.proj_size > 0 else self.hidden_size
        lstm = self.mode == "LSTM"
        weights = self.all_weights
        finals_h, finals_c = [], []
        for layer in range(self.num_layers):
            outs = []
            for direction in range(D):
                k = layer * D + direction
                w = weights[k]
                w_ih, w_hh = w[0], w[1]
                b_ih, b_hh = (w[2], w[3]) if self.bias else (None, None)
                w_hr = w[-1] if self.proj_size > 0 else None
                if b_hh is not None and self.mode != "GRU":
                    # outside a GRU (whose b_hn sits inside r * (W_hn h + b_hn)) both biases just add to the
                    # input projection: as one bias of the projection's GEMM, no pass over (T, B, G) for b_hh
                    b_ih, b_hh = b_ih + b_hh, None
                xp = F.linear(x, w_ih, b_ih)
                out = RecurrentLayer.apply(xp, h0[k], c0[k] if lstm else None, w_hh, b_hh, w_hr, mode=self.mode,
                                           reverse=direction == 1, mask=mask)
                last = out[0] if direction == 1 else out[-1]
                if lstm:
                    outs.append(out[:, :, :P])
                    finals_h.append(last[:, :P])
                    finals_c.append(last[:, P:])
                else:
                    outs.append(out)
                    finals_h.append(last)
            x = outs[0] if D == 1 else cat(outs, 2)
            if self.dropout and self.training and layer < self.num_layers - 1:
                x = F.dropout(x, self.dropout, True)
        h_n = stack(finals_h)
        return x, (h_n, stack(finals_c)) if lstm else h_n

    def _forward(self, input, hx):
        name = {"LSTM": "LSTM", "GRU": "GRU"}.get(self.mode, "RNN")
        lstm = self.mode == "LSTM"
        packed = isinstance(input, PackedSequence)
        if packed:
            sorted_indices, unsorted_indices = input.sorted_indices, input.unsorted_indices
            batch_sizes = input.batch_sizes
            self.check_input(input.data, batch_sizes)
            x, mask, positions = self._unpack(input)
            batch = x.shape[1]
            is_batched = True
        else:
            sorted_indices = unsorted_indices = batch_sizes = mask = None
            if input.dim() not in (2, 3):
                suffix = "tensor instead" if name == "RNN" else "instead"
                raise ValueError(f"{name}: Expected input to be 2D or 3D, got {input.dim()}D {suffix}")
            is_batched = input.dim() == 3
            batch_dim = 0 if self.batch_first else 1
            if not is_batched:
                input = input.unsqueeze(batch_dim)
            self.check_input(input, None)
            if hx is not None:
                self._check_hx_rank(hx, is_batched, lstm)
                if not is_batched:
                    hx = tuple(h.unsqueeze(1) for h in hx) if lstm else hx.unsqueeze(1)
            x = input.transpose(0, 1) if self.batch_first else input
            batch = x.shape[1]
        h_shape, c_shape = self._state_shapes(batch)
        if hx is None:
            h0 = zeros(*h_shape, dtype=x.dtype)
            c0 = zeros(*c_shape, dtype=x.dtype) if lstm else None
        else:
            if lstm:
                h0, c0 = hx
                self.check_hidden_size(h0, h_shape, "Expected hidden[0] size {}, got {}")
                self.check_hidden_size(c0, c_shape, "Expected hidden[1] size {}, got {}")
                h0, c0 = self.permute_hidden(h0, sorted_indices), self.permute_hidden(c0, sorted_indices)
            else:
                self.check_hidden_size(hx, h_shape)
                h0, c0 = self.permute_hidden(hx, sorted_indices), None
        output, hidden = self._run(x, h0, c0, mask)
        if lstm:
            hidden = tuple(self.permute_hidden(h, unsorted_indices) for h in hidden)
        else:
            hidden = self.permute_hidden(hidden, unsorted_indices)
        if packed:
            T, B, Fo = output.shape
            data = output.reshape(T * B, Fo).index_select(0, Tensor._make(positions))
            return PackedSequence(data, batch_sizes, sorted_indices, unsorted_indices), hidden
        if self.batch_first:
            output = output.transpose(0, 1)
        if not is_batched:
            output = output.squeeze(0 if self.batch_first else 1)
            hidden = tuple(h.squeeze(1) for h in hidden) if lstm else hidden.squeeze(1)
        return output, hidden

    def _check_hx_rank(self, hx, is_batched, lstm):
        want = 3 if is_batched else 2
        kind = "batched 3-D" if is_batched else "unbatched 2-D"
        if lstm:
            if hx[0].dim() != want or hx[1].dim() != want:
                raise RuntimeError(f"For {kind} input, hx and cx should also be {want}-D but got "
                                   f"({hx[0].dim()}-D, {hx[1].dim()}-D) tensors")
        elif hx.dim() != want:
            raise RuntimeError(f"For {kind} input, hx should also be {want}-D but got {hx.dim()}-D tensor")

    def forward(self, input, hx=None):
        return self._forward(input, hx)


class RNN(RNNBase):
    def __init__(self, *args, **kwargs):
        if "proj_size" in kwargs:
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        if len(args) > 3:
            self.nonlinearity = args[3]
            args = args[:3] + args[4:]
        else:
            self.nonlinearity = kwargs.pop("nonlinearity", "tanh")
        if self.nonlinearity == "tanh":
            mode = "RNN_TANH"
        elif self.nonlinearity == "relu":
            mode = "RNN_RELU"
        else:
            raise ValueError(f"Unknown nonlinearity '{self.nonlinearity}'. Select from 'tanh' or 'relu'.")
        super().__init__(mode, *args, **kwargs)

class LSTM(RNNBase):
    def __init__(self, *args, **kwargs):
        super().__init__("LSTM", *args, **kwargs)


class GRU(RNNBase):
    def __init__(self, *args, **kwargs):
        if "proj_size" in kwargs:
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        super().__init__("GRU", *args, **kwargs)


# -- cells --------------------------------------------------------------------------------------

class RNNCellBase(Module):
    def __init__(self, input_size, hidden_size, bias, num_chunks, device=None, dtype=None):
        super().__init__()
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.bias = bias
        self.weight_ih = Parameter(empty(num_chunks * hidden_size, input_size, dtype=dtype))
        self.weight_hh = Parameter(empty(num_chunks * hidden_size, hidden_size, dtype=dtype))
        if bias:
            self.bias_ih = Parameter(empty(num_chunks * hidden_size, dtype=dtype))
            self.bias_hh = Parameter(empty(num_chunks * hidden_size, dtype=dtype))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def extra_repr(self):
        s = "{input_size}, {hidden_size}"
        if "bias" in self.__dict__ and self.bias is not True:
            s += ", bias={bias}"
        if "nonlinearity" in self.__dict__ and self.nonlinearity != "tanh":
            s += ", nonlinearity={nonlinearity}"
        return s.format(**self.__dict__)

    def reset_parameters(self):
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -stdv, stdv)

    def _prepare(self, name, input, hx, n_states):
        """PyTorch's rank checks; unbatched inputs get a batch of one; missing states are zeros."""
        if input.dim() not in (1, 2):
            raise ValueError(f"{name}: Expected input to be 1D or 2D, got {input.dim()}D instead")
        if hx is not None:
            states = (hx,) if n_states == 1 else tuple(hx)
            for i, value in enumerate(states):
                if value.dim() not in (1, 2):
                    what = "hidden" if n_states == 1 else f"hx[{i}]"
                    raise ValueError(f"{name}: Expected {what} to be 1D or 2D, got {value.dim()}D instead")
        is_batched = input.dim() == 2
        if not is_batched:
            input = input.unsqueeze(0)
        if hx is None:
            states = (zeros(input.size(0), self.hidden_size, dtype=input.dtype),) * n_states
        elif not is_batched:
            states = tuple(s.unsqueeze(0) for s in states)
        if input.size(1) != self.input_size:
            raise RuntimeError(f"input has inconsistent input_size: got {input.size(1)} expected {self.input_size}")
        for i, s in enumerate(states):
            if s.size(0) != input.size(0):
                raise RuntimeError(f"Input batch size {input.size(0)} doesn't match hidden{i} batch size {s.size(0)}")
            if s.size(1) != self.hidden_size:
                raise RuntimeError(f"hidden{i} has inconsistent hidden_size: got {s.size(1)}, expected "
                                   f"{self.hidden_size}")
        return input, states, is_batched

    def _gates(self, input, h):
        return F.linear(input, self.weight_ih, self.bias_ih), F.linear(h, self.weight_hh, self.bias_hh)


class RNNCell(RNNCellBase):
    def __init__(self, input_size, hidden_size, bias=True, nonlinearity="tanh", device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, num_chunks=1, device=device, dtype=dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input, hx=None):
        input, (h,), is_batched = self._prepare("RNNCell", input, hx, 1)
        gi, gh = self._gates(input, h)
        if self.nonlinearity == "tanh":
            ret = (gi + gh).tanh()
        elif self.nonlinearity == "relu":
            ret = (gi + gh).relu()
        else:
            raise RuntimeError(f"Unknown nonlinearity: {self.nonlinearity}")
        return ret if is_batched else ret.squeeze(0)


class LSTMCell(RNNCellBase):
    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, num_chunks=4, device=device, dtype=dtype)

    def forward(self, input, hx=None):
        input, (h, c), is_batched = self._prepare("LSTMCell", input, hx, 2)
        gi, gh = self._gates(input, h)
        i, f, g, o = (gi + gh).chunk(4, 1)
        c = f.sigmoid() * c + i.sigmoid() * g.tanh()
        h = o.sigmoid() * c.tanh()
        return (h, c) if is_batched else (h.squeeze(0), c.squeeze(0))


class GRUCell(RNNCellBase):
    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, num_chunks=3, device=device, dtype=dtype)

    def forward(self, input, hx=None):
        input, (h,), is_batched = self._prepare("GRUCell", input, hx, 1)
        gi, gh = self._gates(input, h)
        i_r, i_z, i_n = gi.chunk(3, 1)
        h_r, h_z, h_n = gh.chunk(3, 1)
        r = (i_r + h_r).sigmoid()
        z = (i_z + h_z).sigmoid()
        n = (i_n + r * h_n).tanh()
        ret = (1 - z) * n + z * h
        return ret if is_batched else ret.squeeze(0)
