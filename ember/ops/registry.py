"""The op registry: one row per public op, and the loop that binds it.

Each row says where an op is reachable: as `ember.<name>` (``export``), as the Tensor method
`x.<name>(...)` (``method``), as the in-place variant `x.<name>_(...)` (``inplace``), and through which
operators (``dunders`` / ``rdunders`` / ``idunders``). `bind()` turns the table into Tensor attributes
and `exported()` into the names `ember/__init__.py` puts in its namespace and `__all__` -- nothing else
adds ops to either. The models are PyTorch's `derivatives.yaml` / OpInfo tables and tinygrad's
`register` loop; the op test table (`tests/ops/op_table.py`) is checked against this one.

To add an op: write its `Function` subclass and its lowercase function in `ember/ops/<family>.py`,
then add one `Op(...)` row below (and a row in `tests/ops/op_table.py`).

    Op("lerp", elementwise.lerp, inplace=True)       # ember.lerp, x.lerp(...), x.lerp_(...)
    Op("view", shape.view, export=False)              # x.view(...) only: torch has no torch.view
    Op("cat", shape.cat, method=False)                # ember.cat only

Operators are bound straight to the op functions (`Tensor.__add__ is elementwise.add`): an arithmetic
expression costs one Python call, as before the registry.
"""
import importlib

from ember.ops import activation, complex as complex_ops, elementwise, index, linalg, reduce, shape


class Op:
    """One row: an op and the forms it is reachable as."""
    __slots__ = ("name", "fn", "method", "inplace", "dunders", "rdunders", "idunders", "export")

    def __init__(self, name, fn, *, method=True, inplace=False, dunders=(), rdunders=(), idunders=(), export=True):
        self.name = name          # the public name: ember.<name>, Tensor.<name>
        self.fn = fn              # the op function, input tensor first
        self.method = method      # Tensor.<name>: True binds fn; a callable binds itself
        self.inplace = inplace    # Tensor.<name>_: True writes fn's result into the tensor; a callable binds itself
        self.dunders = dunders    # operators that are fn itself: x.__add__(y) is fn(x, y)
        self.rdunders = rdunders  # reflected operators: x.__rtruediv__(y) is fn(y, x)
        self.idunders = idunders  # augmented assignment: x.__iadd__(y) writes fn(x, y) into x
        self.export = export      # ember.<name>

    def __repr__(self):
        return f"Op({self.name!r}, {self.fn.__module__}.{self.fn.__name__})"


# -- adaptors for the few methods whose arguments differ from the function's -----------------

def _where_method(self, condition, other):
    """x.where(condition, y) is torch.where(condition, x, y)."""
    return elementwise.where(condition, self, other)


def _reshaping_inplace(op, name):
    """x.t_(), x.squeeze_(), x.unsqueeze_(): x takes the shape (and, when autograd tracks x, the graph
    node) of the view op(x)."""
    def method(self, *args, **kwargs):
        view = op(self, *args, **kwargs)
        if self._check_inplace():
            self.grad_fn = view.grad_fn
        self._data = view._data
        self._version[0] += 1
        return self
    method.__name__ = method.__qualname__ = name
    return method


def _multinomial_method(self, num_samples, replacement=False, *, generator=None):
    """x.multinomial(n): torch.multinomial (a creation function) as the sampling method of a probability tensor."""
    from ember.creation import multinomial
    return multinomial(self, num_samples, replacement, generator=generator)


def _on_first_use(module, attr):
    """The op `ember.ops.<module>.<attr>`, its module imported at the first call: the matrix functions
    (LAPACK wrappers) are rarely used, and `import ember` should not pay for them."""
    def op(*args, **kwargs):
        return getattr(importlib.import_module("ember.ops." + module), attr)(*args, **kwargs)
    op.__name__ = op.__qualname__ = attr
    op.__doc__ = f"ember.ops.{module}.{attr} (imported on first use)"
    return op


E, S, R, L, X = elementwise, shape, reduce, linalg, index

OPS = [
    # -- elementwise arithmetic ------------------------------------------------------------------
    Op("add", E.add, inplace=True, dunders=("__add__", "__radd__"), idunders=("__iadd__",)),
    Op("sub", E.sub, inplace=True, dunders=("__sub__",), idunders=("__isub__",)),
    Op("subtract", E.subtract),
    Op("rsub", E.rsub, method=False, dunders=("__rsub__",)),
    Op("mul", E.mul, inplace=True, dunders=("__mul__", "__rmul__"), idunders=("__imul__",)),
    Op("multiply", E.multiply),
    Op("div", E.div, inplace=True, dunders=("__truediv__",), rdunders=("__rtruediv__",),
       idunders=("__itruediv__",)),
    Op("divide", E.divide),
    Op("true_divide", E.true_divide),
    Op("floor_divide", E.floor_divide, inplace=True, dunders=("__floordiv__",), rdunders=("__rfloordiv__",),
       idunders=("__ifloordiv__",)),
    Op("remainder", E.remainder, inplace=True, dunders=("__mod__",), rdunders=("__rmod__",),
       idunders=("__imod__",)),
    Op("fmod", E.fmod, inplace=True),
    Op("pow", E.pow, inplace=True, dunders=("__pow__",), rdunders=("__rpow__",), idunders=("__ipow__",)),
    Op("float_power", E.float_power),
    Op("square", E.square, inplace=True),
    Op("maximum", E.maximum),
    Op("minimum", E.minimum),
    Op("fmax", E.fmax),
    Op("fmin", E.fmin),
    Op("neg", E.neg, inplace=True, dunders=("__neg__",)),
    Op("negative", E.negative, inplace=True),
    Op("abs", E.abs, inplace=True, dunders=("__abs__",)),
    Op("absolute", E.absolute, inplace=True),
    Op("lerp", E.lerp, inplace=True),
    # -- elementwise functions -------------------------------------------------------------------
    Op("exp", E.exp, inplace=True),
    Op("exp2", E.exp2),
    Op("expm1", E.expm1, inplace=True),
    Op("log", E.log, inplace=True),
    Op("log2", E.log2, inplace=True),
    Op("log10", E.log10, inplace=True),
    Op("log1p", E.log1p, inplace=True),
    Op("sqrt", E.sqrt, inplace=True),
    Op("rsqrt", E.rsqrt, inplace=True),
    Op("reciprocal", E.reciprocal, inplace=True),
    Op("sin", E.sin, inplace=True),
    Op("cos", E.cos, inplace=True),
    Op("tan", E.tan, inplace=True),
    Op("tanh", E.tanh, inplace=True),
    Op("sigmoid", E.sigmoid, inplace=True),
    Op("atan", E.atan, inplace=True),
    Op("arctan", E.arctan),
    Op("asin", E.asin, inplace=True),
    Op("arcsin", E.arcsin),
    Op("acos", E.acos, inplace=True),
    Op("arccos", E.arccos),
    Op("sinh", E.sinh),
    Op("cosh", E.cosh),
    Op("frac", E.frac, inplace=True),
    Op("relu", E.relu, inplace=True),
    Op("floor", E.floor, inplace=True),
    Op("ceil", E.ceil, inplace=True),
    Op("trunc", E.trunc, inplace=True),
    Op("fix", E.fix),
    Op("round", E.round, inplace=True),
    Op("sign", E.sign, inplace=True),
    Op("sgn", E.sgn),
    Op("clamp", E.clamp, inplace=True),
    Op("clip", E.clip, inplace=True),
    Op("clamp_min", E.clamp_min, inplace=True),
    Op("clamp_max", E.clamp_max, inplace=True),
    Op("nan_to_num", E.nan_to_num, inplace=True),
    Op("where", E.where, method=_where_method),
    # -- comparisons and logic -------------------------------------------------------------------
    Op("eq", E.eq, inplace=True, dunders=("__eq__",)),
    Op("ne", E.ne, inplace=True, dunders=("__ne__",)),
    Op("not_equal", E.not_equal),
    Op("lt", E.lt, inplace=True, dunders=("__lt__",)),
    Op("less", E.less),
    Op("le", E.le, inplace=True, dunders=("__le__",)),
    Op("less_equal", E.less_equal),
    Op("gt", E.gt, inplace=True, dunders=("__gt__",)),
    Op("greater", E.greater),
    Op("ge", E.ge, inplace=True, dunders=("__ge__",)),
    Op("greater_equal", E.greater_equal),
    Op("logical_and", E.logical_and, inplace=True),
    Op("logical_or", E.logical_or, inplace=True),
    Op("logical_xor", E.logical_xor, inplace=True),
    Op("logical_not", E.logical_not, inplace=True),
    Op("bitwise_and", E.bitwise_and, inplace=True, dunders=("__and__", "__rand__"), idunders=("__iand__",)),
    Op("bitwise_or", E.bitwise_or, inplace=True, dunders=("__or__", "__ror__"), idunders=("__ior__",)),
    Op("bitwise_xor", E.bitwise_xor, inplace=True, dunders=("__xor__", "__rxor__"), idunders=("__ixor__",)),
    Op("bitwise_not", E.bitwise_not, inplace=True, dunders=("__invert__",)),
    Op("isnan", E.isnan),
    Op("isinf", E.isinf),
    Op("isfinite", E.isfinite),
    Op("isclose", E.isclose),
    Op("allclose", E.allclose),
    Op("equal", E.equal),
    # -- shape -----------------------------------------------------------------------------------
    Op("reshape", S.reshape),
    Op("view", S.view, export=False),
    Op("view_as", S.view_as, export=False),
    Op("reshape_as", S.reshape_as, export=False),
    Op("flatten", S.flatten),
    Op("unflatten", S.unflatten),
    Op("permute", S.permute),
    Op("transpose", S.transpose),
    Op("swapaxes", S.swapaxes),
    Op("swapdims", S.swapdims),
    Op("t", S.t, inplace=_reshaping_inplace(S.t, "t_")),
    Op("adjoint", S.adjoint),
    Op("movedim", S.movedim),
    Op("moveaxis", S.moveaxis),
    Op("expand", S.expand, export=False),
    Op("expand_as", S.expand_as, export=False),
    Op("broadcast_to", S.broadcast_to),
    Op("broadcast_tensors", S.broadcast_tensors, method=False),
    Op("broadcast_shapes", S.broadcast_shapes, method=False),
    Op("squeeze", S.squeeze, inplace=_reshaping_inplace(S.squeeze, "squeeze_")),
    Op("unsqueeze", S.unsqueeze, inplace=_reshaping_inplace(S.unsqueeze, "unsqueeze_")),
    Op("repeat", S.repeat, export=False),
    Op("tile", S.tile),
    Op("repeat_interleave", S.repeat_interleave),
    Op("flip", S.flip),
    Op("fliplr", S.fliplr),
    Op("flipud", S.flipud),
    Op("roll", S.roll),
    Op("cat", S.cat, method=False),
    Op("concat", S.concat, method=False),
    Op("concatenate", S.concatenate, method=False),
    Op("stack", S.stack, method=False),
    Op("hstack", S.hstack, method=False),
    Op("vstack", S.vstack, method=False),
    Op("dstack", S.dstack, method=False),
    Op("column_stack", S.column_stack, method=False),
    Op("atleast_1d", S.atleast_1d, method=False),
    Op("atleast_2d", S.atleast_2d, method=False),
    Op("split", S.split),
    Op("chunk", S.chunk),
    Op("tensor_split", S.tensor_split),
    Op("narrow", S.narrow),
    Op("select", S.select),
    Op("unbind", S.unbind),
    Op("diagonal", S.diagonal),
    Op("diag", S.diag),
    Op("tril", S.tril, inplace=True),
    Op("triu", S.triu, inplace=True),
    # -- reductions, scans, sorting ----------------------------------------------------------------
    Op("sum", R.sum),
    Op("mean", R.mean),
    Op("nansum", R.nansum),
    Op("var", R.var),
    Op("std", R.std),
    Op("var_mean", R.var_mean, method=False),
    Op("std_mean", R.std_mean, method=False),
    Op("prod", R.prod),
    Op("max", R.max),
    Op("min", R.min),
    Op("amax", R.amax),
    Op("amin", R.amin),
    Op("aminmax", R.aminmax),
    Op("argmax", R.argmax),
    Op("argmin", R.argmin),
    Op("all", R.all),
    Op("any", R.any),
    Op("count_nonzero", R.count_nonzero),
    Op("norm", R.norm),
    Op("logsumexp", R.logsumexp),
    Op("cumsum", R.cumsum),
    Op("cumprod", R.cumprod),
    Op("sort", R.sort),
    Op("argsort", R.argsort),
    Op("topk", R.topk),
    Op("median", R.median),
    Op("kthvalue", R.kthvalue),
    Op("unique", R.unique),
    # -- linear algebra ----------------------------------------------------------------------------
    Op("matmul", L.matmul, dunders=("__matmul__",), rdunders=("__rmatmul__",)),
    Op("mm", L.mm),
    Op("mv", L.mv),
    Op("dot", L.dot),
    Op("vdot", L.vdot, method=False),
    Op("inner", L.inner),
    Op("bmm", L.bmm),
    Op("outer", L.outer),
    Op("ger", L.ger),
    Op("addmm", L.addmm),
    Op("einsum", L.einsum, method=False),
    Op("baddbmm", L.baddbmm),
    Op("det", _on_first_use("matrix", "det")),
    Op("slogdet", _on_first_use("matrix", "slogdet")),
    Op("logdet", _on_first_use("matrix", "logdet")),
    Op("inverse", _on_first_use("matrix", "inverse")),
    Op("pinverse", _on_first_use("matrix", "pinverse")),
    Op("cholesky", _on_first_use("matrix", "cholesky_torch")),
    Op("qr", _on_first_use("matrix", "qr_torch")),
    Op("svd", _on_first_use("matrix", "torch_svd")),
    Op("trace", _on_first_use("tensor_math", "trace")),
    Op("cross", _on_first_use("tensor_math", "cross")),
    Op("dist", _on_first_use("tensor_math", "dist")),
    Op("meshgrid", _on_first_use("tensor_math", "meshgrid"), method=False),
    Op("multinomial", _multinomial_method, export=False),   # ember.multinomial comes from ember.creation
    # -- indexing ----------------------------------------------------------------------------------
    Op("getitem", X.getitem, method=False, export=False, dunders=("__getitem__",)),
    Op("setitem", X.setitem, method=False, export=False, dunders=("__setitem__",)),
    Op("gather", X.gather),
    Op("scatter", X.scatter, inplace=X.scatter_),
    Op("scatter_add", X.scatter_add, inplace=True),
    Op("scatter_reduce", X.scatter_reduce, inplace=True),
    Op("take_along_dim", X.take_along_dim),
    Op("index_select", X.index_select),
    Op("index_add", X.index_add, inplace=True),
    Op("index_fill", X.index_fill, inplace=True),
    Op("index_put", X.index_put, inplace=True),
    Op("index_put_", X.index_put_, method=False),
    Op("masked_fill", X.masked_fill, inplace=True),
    Op("masked_select", X.masked_select),
    Op("masked_scatter", X.masked_scatter, inplace=True),
    Op("nonzero", X.nonzero),
    Op("argwhere", X.argwhere),
    Op("take", X.take),
    # -- complex numbers (ember/ops/complex.py) ------------------------------------------------------
    Op("real", complex_ops.real, method=complex_ops._real_property),      # x.real is a property, as in torch
    Op("imag", complex_ops.imag, method=complex_ops._imag_property),
    Op("view_as_real", complex_ops.view_as_real, method=False),
    Op("view_as_complex", complex_ops.view_as_complex, method=False),
    Op("complex", complex_ops.complex, method=False),
    Op("polar", complex_ops.polar, method=False),
    Op("conj", complex_ops.conj),
    Op("angle", complex_ops.angle),
    Op("resolve_conj", complex_ops.resolve_conj),
    Op("resolve_neg", complex_ops.resolve_neg),
    Op("is_complex", complex_ops.is_complex),
    # -- activations that torch also keeps in its top namespace --------------------------------------
    Op("softmax", activation.softmax, method=False),
    Op("log_softmax", activation.log_softmax, method=False),
]


# -- binding ---------------------------------------------------------------------------------

def _inplace_method(fn, name):
    def method(self, *args, **kwargs):
        return self._inplace(fn, *args, **kwargs)
    method.__name__ = method.__qualname__ = name
    method.__doc__ = f"In-place version of {fn.__name__}: writes the result into this tensor."
    return method


def _reflected(fn, name):
    def method(self, other):
        return fn(other, self)
    method.__name__ = method.__qualname__ = name
    return method


def _augmented(fn, name):
    def method(self, other):
        return self._inplace_binary(fn, other)
    method.__name__ = method.__qualname__ = name
    return method


def tensor_attributes(ops=OPS):
    """{attribute name: value} that the table gives Tensor."""
    attrs = {}

    def put(name, value, row):
        if name in attrs:
            raise ValueError(f"op registry: Tensor.{name} is bound twice (second time by the row {row.name!r})")
        attrs[name] = value

    for row in ops:
        if row.method:
            put(row.name, row.fn if row.method is True else row.method, row)
        if row.inplace:
            put(row.name + "_", _inplace_method(row.fn, row.name + "_") if row.inplace is True else row.inplace, row)
        for d in row.dunders:
            put(d, row.fn, row)
        for d in row.rdunders:
            put(d, _reflected(row.fn, d), row)
        for d in row.idunders:
            put(d, _augmented(row.fn, d), row)
    return attrs


def bind(cls):
    """Give `cls` (Tensor) the table's methods. A name tensor.py already defines is an error: a method
    lives in one place only."""
    for name, value in tensor_attributes().items():
        if name in cls.__dict__:
            raise TypeError(f"op registry: Tensor.{name} is defined in tensor.py and registered as an op")
        setattr(cls, name, value)


def exported():
    """{name: function} of the ops in the `ember` namespace."""
    names = {}
    for row in OPS:
        if row.export:
            if row.name in names:
                raise ValueError(f"op registry: ember.{row.name} is registered twice")
            names[row.name] = row.fn
    return names
