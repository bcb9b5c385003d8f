"""Building the ONNX graph from a trace: one translation per ember op, in one table (OPS)."""
import math

import numpy as np

from ember.onnx.errors import OnnxExporterError, UnsupportedOperatorError


class GraphBuilder:
    def __init__(self, opset, name_of_param):
        from onnx import helper, numpy_helper
        self.helper, self.numpy_helper = helper, numpy_helper
        self.opset = opset
        self.nodes, self.initializers = [], []
        self.names = {}                    # id(array) -> value name
        self.name_of_param = name_of_param  # id(array) -> parameter/buffer name (state_dict key)
        self.counter = {}
        self.traced_ids = set()

    # -- names -----------------------------------------------------------------------------
    def fresh(self, base):
        n = self.counter.get(base, 0)
        self.counter[base] = n + 1
        return f"{base}_{n}" if n or base[0].isupper() else base

    def const(self, value, dtype=None, base="onnx::Constant"):
        """An initializer holding value (a NumPy array or number); its name."""
        arr = np.asarray(value, dtype=dtype)
        name = self.fresh(base)
        self.initializers.append(self.numpy_helper.from_array(arr, name))
        return name

    def value(self, x, dtype=None):
        """The graph value for an op input: a traced array, a parameter, or a constant."""
        if isinstance(x, np.ndarray):
            name = self.names.get(id(x))
            if name is not None:
                return name
            param = self.name_of_param.get(id(x))
            if param is not None:
                if param not in self._param_done:
                    self.initializers.append(self.numpy_helper.from_array(np.ascontiguousarray(x), param))
                    self._param_done.add(param)
                self.names[id(x)] = param
                return param
            base = x
            while isinstance(base, np.ndarray) and base.base is not None:
                base = base.base
                if id(base) in self.traced_ids:
                    raise OnnxExporterError(
                        "the model computed a value through an operation the ONNX exporter cannot see (a NumPy "
                        "view or in-place write outside ember's ops); export needs every step as an ember op")
            return self.const(np.ascontiguousarray(x))
        return self.const(x, dtype=dtype)

    _param_done = None

    def node(self, op_type, inputs, n_out=1, **attrs):
        outs = [self.fresh(f"/{op_type}_output") for _ in range(n_out)]
        self.nodes.append(self.helper.make_node(op_type, list(inputs), outs, name=self.fresh(f"/{op_type}"),
                                                **attrs))
        return outs[0] if n_out == 1 else outs

    def ints(self, values):
        return self.const(np.asarray(values, dtype=np.int64))


def _scalar_like(g, v, ref):
    """A Python number as a constant of the dtype of array ref (ONNX does not promote)."""
    if isinstance(v, np.ndarray):
        return g.value(v)
    return g.const(np.asarray(v, dtype=ref.dtype))


def _binary(op_type):
    def convert(g, r):
        a, b = r.inputs[0], r.inputs[1]
        na = g.value(a)
        nb = g.value(b) if isinstance(b, np.ndarray) else _scalar_like(g, b, a)
        alpha = r.params.get("alpha", 1)
        if alpha != 1:
            nb = g.node("Mul", [nb, _scalar_like(g, alpha, a)])
        return g.node(op_type, [na, nb])
    return convert


def _unary(op_type):
    return lambda g, r: g.node(op_type, [g.value(r.inputs[0])])


def _param(r, name, index):
    return r.params[name] if name in r.params else r.inputs[index]


def _conv(g, r):
    x, w, b = r.inputs[0], r.inputs[1], r.inputs[2] if len(r.inputs) > 2 else r.params.get("b")
    geom = r.params["geom"]
    inputs = [g.value(x), g.value(w)] + ([g.value(b)] if b is not None else [])
    if geom.one_d:
        attrs = dict(kernel_shape=[geom.KW], strides=[geom.sw], pads=[geom.pl, geom.pr], dilations=[geom.dw])
    else:
        attrs = dict(kernel_shape=[geom.KH, geom.KW], strides=[geom.sh, geom.sw],
                     pads=[geom.pt, geom.pl, geom.pb, geom.pr], dilations=[geom.dh, geom.dw])
    return g.node("Conv", inputs, group=geom.G, **attrs)


def _pool_attrs(geom):
    return dict(kernel_shape=[geom.kh, geom.kw], strides=[geom.sh, geom.sw], pads=[geom.ph, geom.pw, geom.pb, geom.pr])


def _max_pool(g, r):
    geom = r.params["geom"]
    return g.node("MaxPool", [g.value(r.inputs[0])], dilations=[geom.dh, geom.dw], **_pool_attrs(geom))


def _avg_pool(g, r):
    geom, div = r.params["geom"], np.asarray(r.params["div"])
    x = r.inputs[0]
    window = geom.kh * geom.kw
    attrs = _pool_attrs(geom)
    if div.size == 1 and float(div) == window:
        return g.node("AveragePool", [g.value(x)], count_include_pad=1, **attrs)
    # ember's divisor differs per window (count_include_pad=False, ceil_mode windows, divisor_override):
    # the window sums (an average over the zero-padded window, times its size) divided by that divisor
    sums = g.node("Mul", [g.node("AveragePool", [g.value(x)], count_include_pad=1, **attrs),
                          g.const(np.asarray(window, x.dtype))])
    return g.node("Div", [sums, g.const(div.astype(x.dtype))])


def _adaptive_avg(g, r):
    x = r.inputs[0]
    oh, ow = r.params["out_hw"]
    H, W = x.shape[-2:]
    if (oh, ow) == (1, 1):
        return g.node("GlobalAveragePool", [g.value(x)])
    if H % oh or W % ow:
        raise UnsupportedOperatorError(f"adaptive_avg_pool2d from {H}x{W} to {oh}x{ow} (not a whole-window split)",
                                       g.opset)
    k = [H // oh, W // ow]
    return g.node("AveragePool", [g.value(x)], kernel_shape=k, strides=k)


def _global_avg(g, r):
    return g.node("GlobalAveragePool", [g.value(r.inputs[0])])


def _batch_norm(g, r):
    x, weight, bias, mean, invstd = r.inputs[:5]   # (then `centered`, None outside training)
    if getattr(r.fn, "training", False):
        raise UnsupportedOperatorError("batch_norm in training mode (call model.eval() before exporting)", g.opset)
    shape = [1, -1] + [1] * (x.ndim - 2)
    # inference: y = x * scale + shift, the running statistics and affine parameters folded per channel
    scale = np.asarray(invstd, np.float64) * (1.0 if weight is None else np.asarray(weight, np.float64))
    shift = (0.0 if bias is None else np.asarray(bias, np.float64)) - np.asarray(mean, np.float64) * scale
    out = g.node("Mul", [g.value(x), g.const(scale.astype(x.dtype).reshape(shape))])
    return g.node("Add", [out, g.const(np.asarray(shift, x.dtype).reshape(shape))])


def _linear(g, r):
    x, w = r.inputs[0], r.inputs[1]
    b = r.inputs[2] if len(r.inputs) > 2 else None
    if x.ndim == 2 and b is not None:
        return g.node("Gemm", [g.value(x), g.value(w), g.value(b)], transB=1)
    out = g.node("MatMul", [g.value(x), g.node("Transpose", [g.value(w)], perm=[1, 0])])
    return out if b is None else g.node("Add", [out, g.value(b)])


def _reshape(g, r):
    x, out = r.inputs[0], r.output
    shape = list(out.shape)
    if x.ndim and shape and x.shape[0] == shape[0]:
        shape[0] = 0    # keep the input's first (batch) dimension, so a dynamic batch axis stays dynamic
    return g.node("Reshape", [g.value(x), g.ints(shape)])


def _softmax(op_type):
    def convert(g, r):
        x, dim = r.inputs[0], _param(r, "dim", 1)
        return g.node(op_type, [g.value(x)], axis=int(dim) % max(x.ndim, 1))
    return convert


def _clip(g, r):
    x = r.inputs[0]
    lo, hi = (r.params.get("lo"), r.params.get("hi")) if "lo" in r.params else (r.inputs[1], r.inputs[2])
    lo_name = "" if lo is None else g.const(np.asarray(lo, x.dtype))
    hi_name = "" if hi is None else g.const(np.asarray(hi, x.dtype))
    return g.node("Clip", [g.value(x), lo_name, hi_name])


def _gelu(g, r):
    x = r.inputs[0]
    approximate = _param(r, "approximate", 1)
    if g.opset >= 20:
        return g.node("Gelu", [g.value(x)], approximate=approximate)
    if approximate == "tanh":
        raise UnsupportedOperatorError("gelu(approximate='tanh') below opset 20", g.opset)
    c = lambda v: g.const(np.asarray(v, x.dtype))  # noqa: E731
    erf = g.node("Erf", [g.node("Div", [g.value(x), c(math.sqrt(2.0))])])
    return g.node("Mul", [g.node("Mul", [g.value(x), c(0.5)]), g.node("Add", [erf, c(1.0)])])


def _leaky_relu(g, r):
    return g.node("LeakyRelu", [g.value(r.inputs[0])], alpha=float(_param(r, "slope", 1)))


def _elu(g, r):
    return g.node("Elu", [g.value(r.inputs[0])], alpha=float(_param(r, "alpha", 1)))


def _silu(g, r):
    x = g.value(r.inputs[0])
    return g.node("Mul", [x, g.node("Sigmoid", [x])])


def _permute(g, r):
    return g.node("Transpose", [g.value(r.inputs[0])], perm=[int(d) for d in _param(r, "dims", 1)])


def _transpose(g, r):
    x = r.inputs[0]
    d0, d1 = int(_param(r, "d0", 1)) % x.ndim, int(_param(r, "d1", 2)) % x.ndim
    perm = list(range(x.ndim))
    perm[d0], perm[d1] = perm[d1], perm[d0]
    return g.node("Transpose", [g.value(x)], perm=perm)


def _t(g, r):
    x = r.inputs[0]
    return g.node("Transpose", [g.value(x)], perm=list(range(x.ndim))[::-1])


def _cat(g, r):
    arrays = [a for a in r.inputs]
    dim = int(r.params["dim"]) % r.output.ndim
    return g.node("Concat", [g.value(a) for a in arrays], axis=dim)


def _reduce(op_type):
    def convert(g, r):
        x = r.inputs[0]
        dims, keepdim = _param(r, "dims", 1), bool(_param(r, "keepdim", 2))
        axes = list(range(x.ndim)) if dims is None else [int(d) % x.ndim for d in np.atleast_1d(dims)]
        if op_type == "ReduceMean" and g.opset < 18:    # axes became an input in opset 18 (13 for ReduceSum)
            return g.node(op_type, [g.value(x)], axes=axes, keepdims=int(keepdim))
        return g.node(op_type, [g.value(x), g.ints(axes)], keepdims=int(keepdim))
    return convert


def _pow(g, r):
    a, b = r.inputs[0], r.inputs[1]
    return g.node("Pow", [g.value(a), g.value(b) if isinstance(b, np.ndarray) else _scalar_like(g, b, a)])


def _to_copy(g, r):
    from onnx import helper
    return g.node("Cast", [g.value(r.inputs[0])], to=helper.np_dtype_to_tensor_dtype(r.output.dtype))


def _identity(g, r):
    return g.node("Identity", [g.value(r.inputs[0])])


def _unsqueeze(g, r):
    return g.node("Reshape", [g.value(r.inputs[0]), g.ints([0 if i == 0 and r.inputs[0].ndim and
                                                            r.output.shape[0] == r.inputs[0].shape[0] else s
                                                            for i, s in enumerate(r.output.shape)])])


def _pad(g, r):
    x = r.inputs[0]
    pad = list(_param(r, "pad", 1))
    value = r.params.get("value", 0)
    begins, ends = [0] * x.ndim, [0] * x.ndim
    for i in range(len(pad) // 2):
        begins[x.ndim - 1 - i], ends[x.ndim - 1 - i] = pad[2 * i], pad[2 * i + 1]
    return g.node("Pad", [g.value(x), g.ints(begins + ends), g.const(np.asarray(value, x.dtype))])


def _narrow(g, r):
    x = r.inputs[0]
    dim, start, length = int(r.params["dim"]) % x.ndim, int(r.params["start"]), int(r.params["length"])
    return g.node("Slice", [g.value(x), g.ints([start]), g.ints([start + length]), g.ints([dim])])


def _neg(g, r):
    return g.node("Neg", [g.value(r.inputs[0])])


def _softplus(g, r):
    x = r.inputs[0]
    beta, threshold = _param(r, "beta", 1), _param(r, "threshold", 2)
    if beta != 1:
        raise UnsupportedOperatorError("softplus with beta != 1", g.opset)
    sp = g.node("Softplus", [g.value(x)])
    return g.node("Where", [g.node("Greater", [g.value(x), g.const(np.asarray(threshold, x.dtype))]), g.value(x), sp])


# ember op (Function class name) -> its ONNX translation
OPS = {
    "Convolution": _conv,
    "Linear": _linear,
    "MatMul": _binary("MatMul"),
    "MaxPool2DWithIndices": _max_pool,
    "AvgPool2D": _avg_pool,
    "AdaptiveAvgPool2D": _adaptive_avg,
    "_GlobalAvg": _global_avg,
    "BatchNorm": _batch_norm,
    "Relu": _unary("Relu"), "Sigmoid": _unary("Sigmoid"), "Tanh": _unary("Tanh"), "Exp": _unary("Exp"),
    "Log": _unary("Log"), "Sqrt": _unary("Sqrt"), "Abs": _unary("Abs"), "Neg": _neg,
    "Reciprocal": _unary("Reciprocal"), "Sin": _unary("Sin"), "Cos": _unary("Cos"),
    "Softmax": _softmax("Softmax"), "LogSoftmax": _softmax("LogSoftmax"),
    "Gelu": _gelu, "LeakyRelu": _leaky_relu, "Elu": _elu, "Silu": _silu, "Softplus": _softplus,
    "Hardtanh": _clip, "Clamp": _clip,
    "Add": _binary("Add"), "Sub": _binary("Sub"), "Mul": _binary("Mul"), "Div": _binary("Div"), "Pow": _pow,
    "Maximum": _binary("Max"), "Minimum": _binary("Min"),
    "View": _reshape, "UnsafeView": _reshape, "Squeeze": _unsqueeze, "Unsqueeze": _unsqueeze,
    "Permute": _permute, "Transpose": _transpose, "T": _t,
    "Cat": _cat, "Narrow": _narrow, "ConstantPad": _pad, "PadZeros": _pad,
    "Sum": _reduce("ReduceSum"), "Mean": _reduce("ReduceMean"),
    "ToCopy": _to_copy, "Clone": _identity,
}


def convert(g, record):
    translate = OPS.get(record.op)
    if translate is None:
        name = getattr(record.fn, "node_name", None) or record.op
        raise UnsupportedOperatorError(name, g.opset)
    return translate(g, record)
