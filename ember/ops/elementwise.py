"""Elementwise ops: arithmetic, math functions, comparisons, logic, casts.

Binary ops accept Tensors and Python scalars and follow PyTorch's type promotion; gradients
of broadcast inputs are summed back to the input's shape (`sum_to`).
"""
import builtins

import numpy as np

from ember.autograd.function import Function
from ember.autograd.grad_mode import _GradState
from ember.backend import dtypes as _dt
from ember.backend import threads as _threads
from ember.backend.blas import axpy
from ember.tensor import Tensor

_ndarray = np.ndarray
_asarray = np.asarray
_new = object.__new__
_wrap = Tensor._make  # a backend array (or NumPy scalar) as a Tensor with no history

_PY_SCALARS = (bool, int, float)
_KIND = {"b": 0, "u": 1, "i": 1, "f": 2, "V": 2, "c": 3}  # PyTorch's promotion categories by NumPy kind ("V": bfloat16)


class _Numbers(dict):
    """(type, Python number, dtype) -> the number as a read-only 0-d array of that dtype.

    NumPy is slower for `array - 2` than for `array - array(2)` (bench/README.md): it re-derives the
    Python number's dtype on every call (NEP 50). Both give the same bits, since NumPy casts the
    number to the array's dtype either way, so the arithmetic ops look numbers up here:
    `_NUMBERS[b.__class__, b, a.dtype]` (the type is in the key so that 2, 2.0 and True stay
    apart). For a non-float dtype, or a number that does not cast cleanly (overflow), the entry
    is the number itself and NumPy handles it as before; 0.0 and NaN are not kept at all (-0.0
    is an equal key, NaN matches nothing)."""

    def __missing__(self, key):
        cls, s, dtype = key
        if s != s or (cls is float and not s):
            return s
        c = s
        if dtype.kind == "f" and dtype.isnative and cls in _PY_SCALARS:
            try:
                with np.errstate(all="raise"):
                    c = np.asarray(s, dtype)
                c.flags.writeable = False
            except (OverflowError, FloatingPointError):
                c = s
        if len(self) >= 1024:  # e.g. a learning rate that changes every step: keep the table small
            self.clear()
        self[key] = c
        return c


_NUMBERS = _Numbers()


# -- operand preparation ---------------------------------------------------------------------

def _operands(a, b, wrap=True):
    """Bring two operands to PyTorch's result dtype. Python scalars stay scalars: NumPy keeps the
    tensor's dtype for them (NEP 50), which is PyTorch's rule within a category."""
    if a.__class__ is Tensor:
        # fast paths for the common cases, which need no conversion at all
        cb = b.__class__
        if cb is Tensor:
            if a._data.dtype is b._data.dtype:
                return a, b
        elif cb is float:
            if a._data.dtype.kind == "f":
                return a, b
        elif cb is int and a._data.dtype.kind == "f":
            return a, b
    if isinstance(a, Tensor):
        if isinstance(b, Tensor):
            if a._data.dtype is b._data.dtype or a._data.dtype == b._data.dtype:
                return a, b
            rt = _dt.result_type(a, b)
            return (a if a.dtype is rt else cast(a, rt)), (b if b.dtype is rt else cast(b, rt))
        a = _with_scalar(a, b)
        return a, (_scalar_for(a, _scalar_value(b)) if wrap else _scalar_value(b))
    if isinstance(b, Tensor):
        b = _with_scalar(b, a)
        return (_scalar_for(b, _scalar_value(a)) if wrap else _scalar_value(a)), b
    return as_operand(a), as_operand(b)


def _scalar_value(s):
    if type(s) in _PY_SCALARS or type(s) is complex:
        return s
    if isinstance(s, np.generic):
        return s.item()
    return as_operand(s)


_INT_RANGES = {np.dtype(d): (np.iinfo(d).min, np.iinfo(d).max) for d in (np.uint8, np.int8, np.int16, np.int32)}


def _scalar_for(t, s):
    """A Python int beyond a small integer dtype's range wraps around (PyTorch) instead of raising (NumPy 2)."""
    if type(s) is int:
        bounds = _INT_RANGES.get(t._data.dtype)
        if bounds is not None and not bounds[0] <= s <= bounds[1]:
            return np.array(s, dtype=np.int64).astype(t._data.dtype)
    return s


def _with_scalar(t, s):
    """Lift an integer/bool tensor when the scalar is of a higher category (int tensor * 2.5 → float)."""
    kind = _KIND[t._data.dtype.kind]
    ts = type(s)
    if ts is float:
        if kind < 2:
            return cast(t, _dt.get_default_dtype())
    elif ts is int:
        if kind < 1:
            return cast(t, _dt.int64)
    elif ts is complex:
        if kind < 3:   # float64 tensor * 1j -> complex128; float32 or integer -> the default complex dtype
            return cast(t, t.dtype.to_complex() if kind == 2 else _dt.get_default_complex_dtype())
    elif isinstance(s, np.generic):
        return _with_scalar(t, s.item())
    return t


def as_operand(x):
    if isinstance(x, Tensor):
        return x
    if isinstance(x, np.ndarray):
        return Tensor._make(x)
    if isinstance(x, (list, tuple)):
        from ember.creation import tensor
        return tensor(x)
    if type(x) in _PY_SCALARS or type(x) is complex or isinstance(x, np.generic):
        from ember.creation import tensor
        return tensor(x)
    raise TypeError(f"unsupported operand type for a tensor op: '{type(x).__name__}'")


def _float_operands(a, b):
    """True division and friends: integer inputs compute in the default float dtype."""
    a, b = _operands(a, b, wrap=False)
    t = a if isinstance(a, Tensor) else b
    if t._data.dtype.kind not in "fc":
        f = _dt.get_default_dtype()
        a = cast(a, f) if isinstance(a, Tensor) else a
        b = cast(b, f) if isinstance(b, Tensor) else b
    return a, b


def raise_broadcast_error(shape_a, shape_b, inplace=False):
    """PyTorch's message for shapes that do not broadcast, naming the first offending dimension."""
    sa, sb = tuple(shape_a), tuple(shape_b)
    n = builtins.max(len(sa), len(sb))
    pa, pb = (1,) * (n - len(sa)) + sa, (1,) * (n - len(sb)) + sb
    for i in builtins.range(n - 1, -1, -1):
        if pa[i] != pb[i] and pa[i] != 1 and pb[i] != 1:
            raise RuntimeError(f"The size of tensor a ({pa[i]}) must match the size of tensor b ({pb[i]}) at "
                               f"non-singleton dimension {i}")
    if inplace:
        raise RuntimeError(f"output with shape {list(sa)} doesn't match the broadcast shape "
                           f"{list(np.broadcast_shapes(sa, sb))}")
    raise RuntimeError(f"shapes {list(sa)} and {list(sb)} cannot be broadcast together")


def _apply_binary(cls, a, b, **params):
    """cls.apply(a, b), translating NumPy's broadcast failure into PyTorch's message."""
    try:
        return cls.apply(a, b, **params)
    except ValueError:
        _check_broadcast(a, b)
        raise


def _check_broadcast(a, b):
    sa, sb = np.shape(getattr(a, "_data", a)), np.shape(getattr(b, "_data", b))
    try:
        np.broadcast_shapes(sa, sb)
    except ValueError:
        raise_broadcast_error(sa, sb)


def check_inplace_dtype(result, target):
    """In-place ops may not narrow the category: an int tensor cannot hold a float result."""
    if result._kind > target._kind:
        raise RuntimeError(f"result type {_type_word(result)} can't be cast to the desired output type "
                           f"{_type_word(target)}")


_type_word = _dt.type_word


def sum_to(g, shape):
    """Sum a broadcast gradient back to an input's shape."""
    if g._data.shape == shape:
        return g
    return SumTo.apply(g, shape=shape)


class SumTo(Function):
    def forward(self, g, shape):
        self.in_shape = g.shape
        lead = g.ndim - len(shape)
        axes = tuple(builtins.range(lead)) + tuple(i + lead for i, s in enumerate(shape) if s == 1 and g.shape[i + lead] != 1)
        out = g.sum(axis=axes, keepdims=True) if axes else g
        return out.reshape(shape)

    def backward(self, grad):
        return expand(grad, self.in_shape)


def expand(t, shape):
    from ember.ops.shape import expand as _expand
    return _expand(t, *shape)


# -- casts and copies ------------------------------------------------------------------------

class ToCopy(Function):
    def forward(self, a, dtype):
        self.src = _dt.from_numpy_dtype(a.dtype)
        if a.dtype.kind == "c" and dtype._kind < 3:
            _warn_complex_to_real()
            a = a.real
        return a.astype(dtype.np)

    def backward(self, grad):
        if self.src.is_complex:
            return cast(grad, self.src)
        if not self.src.is_floating_point:
            return None
        if grad.dtype.is_complex:   # a real tensor made complex: its gradient is the real part (handle_r_to_c)
            from ember.ops.complex import real
            grad = real(grad)
        return cast(grad, self.src)


def _warn_complex_to_real():
    import warnings
    warnings.warn("Casting complex values to real discards the imaginary part", UserWarning, stacklevel=4)


def cast(t, dtype):
    if not isinstance(t, Tensor):
        return t
    dtype = _dt.to_dtype(dtype)
    if t.dtype is dtype:
        return t
    return ToCopy.apply(t, dtype=dtype)


class Clone(Function):
    def forward(self, a):
        return a.copy()

    def backward(self, grad):
        return grad


def clone(input, memory_format=None):
    return Clone.apply(input)


# -- arithmetic ------------------------------------------------------------------------------

def _additive_operands(fn, a, b, alpha):
    """Add/Sub's forward bookkeeping (operand shapes and alpha for backward); b as it goes to NumPy."""
    fn.alpha = alpha
    if b.__class__ is _ndarray:
        fn.shapes = (a.shape if a.__class__ is _ndarray else (), b.shape)
        return b
    fn.shapes = (a.shape, ())       # a Python number (so `a` is the array): faster as an array, see _Numbers
    return _NUMBERS[b.__class__, b, a.dtype] if alpha == 1 else b


def _plus_scaled(a, b, alpha):
    """a + alpha * b. PyTorch's add kernel fuses the multiply-add (one rounding); so does BLAS's axpy, which
    takes it when a and b are float arrays of one shape and dtype (ember/backend/blas.py)."""
    if (a.__class__ is _ndarray and b.__class__ is _ndarray and a.shape == b.shape and a.dtype == b.dtype
            and a.dtype.char in "fd" and alpha.__class__ in (int, float)):
        return axpy(alpha, b, np.array(a, order="C"))
    return a + alpha * b


class Add(Function):
    def forward(self, a, b, alpha=1):
        b = _additive_operands(self, a, b, alpha)
        return a + b if alpha == 1 else _plus_scaled(a, b, alpha)

    def backward(self, grad):
        sa, sb = self.shapes
        ga = sum_to(grad, sa) if self.next[0] is not None else None
        gb = None
        if self.next[1] is not None:
            gb = sum_to(grad if self.alpha == 1 else grad * self.alpha, sb)
        return ga, gb


class Sub(Function):
    def forward(self, a, b, alpha=1):
        b = _additive_operands(self, a, b, alpha)
        return a - b if alpha == 1 else _plus_scaled(a, b, -alpha)

    def backward(self, grad):
        sa, sb = self.shapes
        ga = sum_to(grad, sa) if self.next[0] is not None else None
        gb = sum_to(-grad if self.alpha == 1 else grad * -self.alpha, sb) if self.next[1] is not None else None
        return ga, gb


class Rsub(Sub):
    """other - input, as `2 - x` (PyTorch's RsubBackward1)."""

    @classmethod
    def _node_name(cls):
        return "RsubBackward1"

    def forward(self, b, a, alpha=1):
        self.shapes = (np.shape(b), np.shape(a))
        self.alpha = alpha
        return a - b if alpha == 1 else _plus_scaled(a, b, -alpha)

    def backward(self, grad):
        sb, sa = self.shapes
        return sum_to(-grad if self.alpha == 1 else grad * -self.alpha, sb), sum_to(grad, sa)


class Mul(Function):
    save = (0, 1)

    def forward(self, a, b):
        if b.__class__ is not _ndarray:  # a Python number (so `a` is the array): see _Numbers
            return a * _NUMBERS[b.__class__, b, a.dtype]
        return a * b

    def backward(self, grad):
        a, b = self.saved_tensors
        if grad._data.dtype.kind == "c":   # holomorphic: the gradient goes back through conj(f'(z))
            a, b = _conj(a), _conj(b)
        ga = sum_to(grad * b, np.shape(a._data if isinstance(a, Tensor) else a)) if self.next[0] is not None else None
        gb = sum_to(grad * a, np.shape(b._data if isinstance(b, Tensor) else b)) if self.next[1] is not None else None
        return ga, gb


def _conj(x):
    """The complex conjugate of an operand (a Tensor, recorded, or a number) inside a backward formula."""
    if isinstance(x, Tensor):
        from ember.ops.complex import conj
        return conj(x)
    return x.conjugate()


class Div(Function):
    save = (0, 1)

    def forward(self, a, b):
        if type(b) is float or type(b) is int:
            if b != 0:  # `a` is the array; the number as an array is faster, see _Numbers
                return a / _NUMBERS[b.__class__, b, a.dtype]
        with np.errstate(divide="ignore", invalid="ignore"):  # x/0 is inf or nan, silently, as in PyTorch
            return a / b

    def backward(self, grad):
        a, b = self.saved_tensors
        if grad._data.dtype.kind == "c":
            a, b = _conj(a), _conj(b)
        ga = _sum_like(grad / b, a) if self.next[0] is not None else None
        gb = _sum_like(-grad * a / (b * b), b) if self.next[1] is not None else None
        return ga, gb


def _shape(x):
    return x._data.shape if isinstance(x, Tensor) else ()


def _sum_like(g, x):
    """sum_to(g, _shape(x)) in one call: the gradient of operand x, a Tensor or a number."""
    shape = x._data.shape if isinstance(x, Tensor) else ()
    return g if g._data.shape == shape else SumTo.apply(g, shape=shape)



def _no_complex_gradient(name):
    """Ops whose backward is written for real numbers only: computing one on a complex tensor is fine, but a
    gradient through it would miss the conjugate, so ember refuses it rather than be wrong."""
    raise NotImplementedError(f"ember does not implement the gradient of {name} for complex inputs (+, -, *, /, "
                              f"@, linear, einsum, sum, mean, abs, angle, sgn, real, imag, conj, the shape and "
                              f"indexing ops and linalg.eig carry complex gradients); compute it without grad, or "
                              f"on the real and imaginary parts")


class Pow(Function):
    save = (0, 1)

    @classmethod
    def _node_name(cls):
        return "PowBackward0"

    def forward(self, a, b):
        # PowBackward0: tensor ** scalar, PowBackward1: tensor ** tensor, PowBackward2: scalar ** tensor
        if not isinstance(b, _ndarray):
            self.variant = 0
            if type(b) is int and b < 0 and a.dtype.kind in "iub":
                raise RuntimeError("Integers to negative integer powers are not allowed.")
            return a ** b
        self.variant = 1 if isinstance(a, _ndarray) else 2
        if b.dtype.kind in "iu" and (b < 0).any() and a.dtype.kind in "iu":
            raise RuntimeError("Integers to negative integer powers are not allowed.")
        return a ** b

    def name(self):
        return f"PowBackward{self.variant}"

    def backward(self, grad):
        a, b = self.saved_tensors
        if grad._data.dtype.kind == "c":
            _no_complex_gradient("pow")
        ga = gb = None
        if self.next[0] is not None:
            if self.variant != 0:
                ga = sum_to(grad * b * a ** (b - 1), _shape(a))
            elif _GradState.enabled:  # create_graph: record the gradient as an op, for second derivatives
                ga = PowScalarGrad.apply(grad, a, exponent=b)
            else:  # nothing to record: just the arithmetic
                ga = _wrap(PowScalarGrad.compute(grad._data, a._data, b))
        if self.next[1] is not None:
            # d(a**b)/db = a**b * log(a); PyTorch defines it as 0 where a == 0 and b >= 0
            out = a ** b
            log_a = log(a) if isinstance(a, Tensor) else float(np.log(a)) if a > 0 else float("nan")
            gb = grad * out * log_a
            if isinstance(a, Tensor):
                gb = where((a == 0) & (b >= 0), 0.0, gb)
            gb = sum_to(gb, _shape(b))
        return ga, gb


class PowScalarGrad(Function):
    """grad * c * a**(c-1), the derivative of a**c for a number c, as one op. It is an op of its own
    (with a backward) so that second derivatives of powers still work."""
    save = (0, 1)

    def forward(self, g, a, exponent):
        self.exponent = exponent
        return self.compute(g, a, exponent)

    @staticmethod
    def compute(g, a, c):
        if c == 2:
            if g.ndim == 0:  # NumPy mixes a 0-d array and the scalar `a + a` slowly; two scalars are quick
                return g[()] * (a + a)
            return g * (a + a)
        if c == 0:
            return g * 0
        return g * (c * a ** (c - 1))

    def backward(self, grad):
        g, a = self.saved_tensors
        c = self.exponent
        gg = PowScalarGrad.apply(grad, a, exponent=c) if self.next[0] is not None else None
        ga = None
        if self.next[1] is not None:
            ga = grad * g * (c * (c - 1)) * a ** (c - 2) if c not in (0, 1) else grad * 0
        return gg, ga


class Neg(Function):
    def forward(self, a):
        return -a

    def backward(self, grad):
        return -grad


class Abs(Function):
    save = (0,)

    def forward(self, a):
        return np.abs(a)

    def backward(self, grad):
        (a,) = self.saved_tensors
        if a._data.dtype.kind == "c":   # |z| moves along z / |z|: the gradient is grad * sgn(z) (0 at 0)
            from ember.ops.complex import _sgn
            return grad * _sgn(a)
        return grad * sign(a)


class Remainder(Function):
    save = (0, 1)

    def forward(self, a, b):
        if isinstance(b, np.ndarray) and b.dtype.kind in "iub" and (b == 0).any() or (type(b) is int and b == 0
                                                                                   and a.dtype.kind in "iub"):
            raise RuntimeError("ZeroDivisionError")
        return np.remainder(a, b)

    def backward(self, grad):
        a, b = self.saved_tensors
        ga = sum_to(grad, _shape(a)) if self.next[0] is not None else None
        gb = sum_to(-grad * floor_divide(a, b), _shape(b)) if self.next[1] is not None else None
        return ga, gb


class FloorDivide(Function):
    def forward(self, a, b):
        if isinstance(b, np.ndarray) and b.dtype.kind in "iub" and (b == 0).any() or (type(b) is int and b == 0
                                                                                   and a.dtype.kind in "iub"):
            raise RuntimeError("ZeroDivisionError")
        self.shapes = (np.shape(a), np.shape(b))
        return np.floor_divide(a, b)

    def backward(self, grad):
        # flat almost everywhere, as in PyTorch's derivative table
        a, b = self.shapes
        return sum_to(grad * 0, a), sum_to(grad * 0, b)


class Maximum(Function):
    save = (0, 1)

    def forward(self, a, b):
        return np.maximum(a, b)

    def backward(self, grad):
        a, b = self.saved_tensors
        # ties share the gradient equally, as in PyTorch
        half = where(a == b, grad * 0.5, grad)
        ga = sum_to(where(a < b, 0.0, half), _shape(a)) if self.next[0] is not None else None
        gb = sum_to(where(b < a, 0.0, half), _shape(b)) if self.next[1] is not None else None
        return ga, gb


class Minimum(Function):
    save = (0, 1)

    def forward(self, a, b):
        return np.minimum(a, b)

    def backward(self, grad):
        a, b = self.saved_tensors
        half = where(a == b, grad * 0.5, grad)
        ga = sum_to(where(a > b, 0.0, half), _shape(a)) if self.next[0] is not None else None
        gb = sum_to(where(b > a, 0.0, half), _shape(b)) if self.next[1] is not None else None
        return ga, gb


def _fast_binary(cls, general):
    """The op `general`, with a short path for the most common call: a float tensor with a float
    tensor of the same dtype, or with a Python number. Those need no promotion and no checks, so
    they run the op right here: this is Function.apply specialised to two operands, and it is
    what keeps tiny-tensor loops cheap."""
    def op(input, other, **kwargs):
        if not kwargs and input.__class__ is Tensor and input._data.dtype.kind == "f":
            oc = other.__class__
            if oc is float or oc is int:
                b = other
            elif oc is Tensor and other._data.dtype is input._data.dtype:
                b = other._data
            else:
                return general(input, other, **kwargs)
            fn = cls()
            try:
                data = fn.forward(input._data, b)
            except ValueError:
                _check_broadcast(input, other)
                raise
            if data.__class__ is not _ndarray:
                data = _asarray(data)
            # tensor._init_fields, inlined as in Function.apply (tests/test_autograd.py checks the fields)
            out = _new(Tensor)
            out._data = data
            out._requires_grad = False
            out.grad = None
            out.grad_fn = None
            out._version = [0]
            out._base = None
            out._hooks = None
            if _GradState.enabled and (input._requires_grad or (oc is Tensor and other._requires_grad)):
                # Function.record, unrolled for two operands
                fn.next = ((input.grad_fn or input) if input._requires_grad else None,
                           (other.grad_fn or other) if oc is Tensor and other._requires_grad else None)
                if saves:
                    fn._saved = [input, other]
                    fn._saved_versions = [input._version[0], other._version[0] if oc is Tensor else None]
                out._requires_grad = True
                out.grad_fn = fn
            return out
        return general(input, other, **kwargs)
    # what the unrolled record above knows how to keep: both operands, or nothing
    saves = cls._holds_state
    assert cls.save == ((0, 1) if saves else ()) and not cls.save_output and not cls.stash
    op.__name__ = general.__name__
    op.__doc__ = general.__doc__
    op.__wrapped__ = general
    return op


def add(input, other, *, alpha=1, out=None):
    a, b = _operands(input, other)
    if alpha != 1 and isinstance(a, Tensor) and a.dtype._kind < 2 and isinstance(alpha, float):
        raise RuntimeError("For integral input tensors, argument alpha must not be a floating point number.")
    if a.__class__ is Tensor and b.__class__ is Tensor and a.dtype is _dt.bool_ and alpha != 1:
        raise RuntimeError("Boolean alpha only supported for Boolean results.")
    r = _apply_binary(Add, a, b, alpha=alpha) if alpha != 1 else _apply_binary(Add, a, b)
    return r if out is None else _out(r, out)


add = _fast_binary(Add, add)


def sub(input, other, *, alpha=1, out=None):
    a, b = input, other
    if _any_bool(a, b) and _is_bool(a) and _is_bool(b):
        raise RuntimeError("Subtraction, the `-` operator, with two bool tensors is not supported. Use the `^` "
                           "or `logical_xor()` operator instead.")
    if _any_bool(a, b):
        raise RuntimeError("Subtraction, the `-` operator, with a bool tensor is not supported. If you are trying "
                           "to invert a mask, use the `~` or `logical_not()` operator instead.")
    a, b = _operands(a, b)
    r = _apply_binary(Sub, a, b, alpha=alpha) if alpha != 1 else _apply_binary(Sub, a, b)
    return r if out is None else _out(r, out)


sub = _fast_binary(Sub, sub)
subtract = sub


def rsub(input, other, alpha=1):
    if _is_bool(input) or _is_bool(other):
        return sub(other, input, alpha=alpha)  # raises PyTorch's error for bool operands
    a, b = _operands(input, other)
    return _apply_binary(Rsub, a, b, alpha=alpha) if alpha != 1 else _apply_binary(Rsub, a, b)


def _any_bool(a, b):
    if a.__class__ is Tensor and (b.__class__ is float or b.__class__ is int):  # the usual case, in one look
        return a._data.dtype.kind == "b"
    return _is_bool(a) or _is_bool(b)


def _is_bool(x):
    return x is True or x is False or (isinstance(x, Tensor) and x.dtype is _dt.bool_)


def mul(input, other, *, out=None):
    a, b = _operands(input, other)
    r = _apply_binary(Mul, a, b)
    return r if out is None else _out(r, out)


mul = _fast_binary(Mul, mul)
multiply = mul


def div(input, other, *, rounding_mode=None, out=None):
    if rounding_mode is None:
        if input.__class__ is Tensor and input._data.dtype.kind == "f" and (
                other.__class__ is float or other.__class__ is int or (
                other.__class__ is Tensor and other._data.dtype is input._data.dtype)):
            a, b = input, other
        else:
            a, b = _float_operands(input, other)
        r = _apply_binary(Div, a, b)
        return r if out is None else _out(r, out)
    if rounding_mode == "floor":
        return _out(floor_divide(input, other), out)
    if rounding_mode == "trunc":
        a, b = _operands(input, other)
        t = a if isinstance(a, Tensor) else b
        if t.dtype._kind == 2:
            return _out(trunc(div(a, b)), out)
        return _out(Tensor._make(np.trunc(np.true_divide(_arr(a), _arr(b))).astype(t.dtype.np)), out)
    raise RuntimeError(f"div expected rounding_mode to be one of None, 'trunc', or 'floor' but found "
                       f"'{rounding_mode}'")


div = _fast_binary(Div, div)
divide = true_divide = div


def _arr(x):
    return x._data if isinstance(x, Tensor) else x


def floor_divide(input, other, *, out=None):
    a, b = _operands(input, other)
    r = _apply_binary(FloorDivide, a, b)
    return r if out is None else _out(r, out)


def remainder(input, other, *, out=None):
    a, b = _operands(input, other)
    r = _apply_binary(Remainder, a, b)
    return r if out is None else _out(r, out)


class Fmod(Function):
    """C's remainder: the sign of the dividend. fmod(a, b) = a - b * trunc(a / b)."""
    save = (0, 1)

    def forward(self, a, b):
        return np.fmod(a, b)

    def backward(self, grad):
        a, b = self.saved_tensors
        ga = sum_to(grad, _shape(a)) if self.next[0] is not None else None
        gb = sum_to(-grad * trunc(a / b), _shape(b)) if self.next[1] is not None else None
        return ga, gb


def fmod(input, other, *, out=None):
    a, b = _operands(input, other)
    return _out(_apply_binary(Fmod, a, b), out)


def pow(input, exponent, *, out=None):
    a, b = _operands(input, exponent, wrap=False)
    if a.__class__ is Tensor and a._data.dtype.kind == "b" and (_is_bool(b) or type(b) is bool):
        # bool ** bool stays bool in PyTorch: x ** y is x or not y
        return _out(Tensor._make(np.logical_or(a._data, np.logical_not(_arr(b)))), out)
    r = _apply_binary(Pow, a, b)
    return r if out is None else _out(r, out)


pow = _fast_binary(Pow, pow)


def float_power(input, exponent):
    return pow(cast(as_operand(input), _dt.float64), cast(exponent, _dt.float64)
               if isinstance(exponent, Tensor) else exponent)


def square(input):
    return pow(input, 2)


def maximum(input, other, *, out=None):
    a, b = _operands(input, other)
    _refuse_complex(a, "maximum not implemented for complex tensors.", RuntimeError)
    r = _apply_binary(Maximum, a, b)
    return r if out is None else _out(r, out)


def minimum(input, other, *, out=None):
    a, b = _operands(input, other)
    _refuse_complex(a, "minimum not implemented for complex tensors.", RuntimeError)
    r = _apply_binary(Minimum, a, b)
    return r if out is None else _out(r, out)


class Fmax(Function):
    """maximum that ignores NaN: the other operand wins where one is NaN."""
    save = (0, 1)

    def forward(self, a, b):
        return np.fmax(a, b)

    def backward(self, grad):
        a, b = self.saved_tensors
        # as PyTorch: a takes the whole gradient where a >= b (ties included) or b is NaN
        a_wins = logical_or(a >= b, b != b)
        ga = sum_to(where(a_wins, grad, 0.0), _shape(a)) if self.next[0] is not None else None
        gb = sum_to(where(a_wins, 0.0, grad), _shape(b)) if self.next[1] is not None else None
        return ga, gb


class Fmin(Function):
    """minimum that ignores NaN: the other operand wins where one is NaN."""
    save = (0, 1)

    def forward(self, a, b):
        return np.fmin(a, b)

    def backward(self, grad):
        a, b = self.saved_tensors
        a_wins = logical_or(a <= b, b != b)
        ga = sum_to(where(a_wins, grad, 0.0), _shape(a)) if self.next[0] is not None else None
        gb = sum_to(where(a_wins, 0.0, grad), _shape(b)) if self.next[1] is not None else None
        return ga, gb


def _tensor_operands(name, input, other):
    for position, (arg, value) in enumerate((("input", input), ("other", other)), 1):
        if not isinstance(value, Tensor):
            raise TypeError(f"{name}(): argument '{arg}' (position {position}) must be Tensor, "
                            f"not {type(value).__name__}")
    return _operands(input, other)


def fmax(input, other, *, out=None):
    a, b = _tensor_operands("fmax", input, other)
    return _out(_apply_binary(Fmax, a, b), out)


def fmin(input, other, *, out=None):
    a, b = _tensor_operands("fmin", input, other)
    return _out(_apply_binary(Fmin, a, b), out)


def neg(input, *, out=None):
    if input.dtype is _dt.bool_:
        raise RuntimeError("Negation, the `-` operator, on a bool tensor is not supported. If you are trying to "
                           "invert a mask, use the `~` or `logical_not()` operator instead.")
    return _out(Neg.apply(input), out)


negative = neg


def abs(input, *, out=None):
    return _out(Abs.apply(input), out)


absolute = abs


def _out(result, out):
    """Write into `out=` when given (resizing like PyTorch), else return the result."""
    if out is None:
        return result
    if out.shape != result.shape:
        out._data = np.empty(result.shape, out._data.dtype)
    np.copyto(out._data, result._data, casting="unsafe")
    out._version[0] += 1
    return out


# -- unary math: each a forward and the derivative beside it -------------------------------

def _float_input(t):
    """Math functions on integer tensors compute in the default float dtype (exp(int) → float32)."""
    if t.dtype._kind < 2:
        return cast(t, _dt.get_default_dtype())
    return t


class Exp(Function):
    save_output = True

    def forward(self, a):
        return np.exp(a)

    def backward(self, grad):
        return grad * self.output


class Exp2(Function):
    save_output = True

    def forward(self, a):
        return np.exp2(a)

    def backward(self, grad):
        return grad * self.output * float(np.log(2.0))


class Expm1(Function):
    save_output = True

    def forward(self, a):
        return np.expm1(a)

    def backward(self, grad):
        return grad * (self.output + 1)


class Log(Function):
    save = (0,)

    def forward(self, a):
        return np.log(a)

    def backward(self, grad):
        (a,) = self.saved_tensors
        return grad / a


class Log2(Function):
    save = (0,)

    def forward(self, a):
        return np.log2(a)

    def backward(self, grad):
        (a,) = self.saved_tensors
        return grad / (a * float(np.log(2.0)))


class Log10(Function):
    save = (0,)

    def forward(self, a):
        return np.log10(a)

    def backward(self, grad):
        (a,) = self.saved_tensors
        return grad / (a * float(np.log(10.0)))


class Log1p(Function):
    save = (0,)

    def forward(self, a):
        return np.log1p(a)

    def backward(self, grad):
        (a,) = self.saved_tensors
        return grad / (a + 1)


class Sqrt(Function):
    save_output = True

    def forward(self, a):
        return np.sqrt(a)

    def backward(self, grad):
        return grad / (self.output * 2)


class Rsqrt(Function):
    save_output = True

    def forward(self, a):
        with np.errstate(divide="ignore"):
            return 1.0 / np.sqrt(a)

    def backward(self, grad):
        out = self.output
        return grad * out * out * out * -0.5


class Reciprocal(Function):
    save_output = True

    def forward(self, a):
        with np.errstate(divide="ignore"):
            return np.reciprocal(a)

    def backward(self, grad):
        out = self.output
        return grad * -(out * out)


class Sin(Function):
    save = (0,)

    def forward(self, a):
        return np.sin(a)

    def backward(self, grad):
        (a,) = self.saved_tensors
        return grad * cos(a)


class Cos(Function):
    save = (0,)

    def forward(self, a):
        return np.cos(a)

    def backward(self, grad):
        (a,) = self.saved_tensors
        return grad * -sin(a)


class Tan(Function):
    save_output = True

    def forward(self, a):
        return np.tan(a)

    def backward(self, grad):
        out = self.output
        return grad * (out * out + 1)


class Tanh(Function):
    save_output = True

    def forward(self, a):
        return np.tanh(a)

    def backward(self, grad):
        return TanhBackward.apply(grad, self.output)


def _grad_buffer(grad, out):
    """The result array of an activation's backward: the inputs' broadcast shape and promoted dtype."""
    dt = grad.dtype if grad.dtype == out.dtype else np.result_type(grad, out)
    return np.empty(out.shape if grad.shape == out.shape else np.broadcast_shapes(grad.shape, out.shape), dt)


def _tanh_backward(r, grad, out):
    np.multiply(out, out, out=r)
    np.subtract(1, r, out=r)
    np.multiply(grad, r, out=r)


class _OutputBackward(Function):
    """The backward of an activation whose derivative is a function of its output (tanh, sigmoid): the
    subclass's `kernel(r, grad, out)` writes grad * f'(out) into one buffer, in PyTorch's order; a
    Function of its own so that double backward has its derivative (`d_out`: the gradient for out)."""
    save = (0, 1)
    kernel = d_out = None

    def forward(self, grad, out):
        return _threads.elementwise(self.kernel, _grad_buffer(grad, out), grad, out)

    def backward(self, gg):
        grad, out = self.saved_tensors
        g_grad = type(self).apply(gg, out) if self.next[0] is not None else None
        g_out = self.d_out(gg, grad, out) if self.next[1] is not None else None
        return g_grad, g_out


class TanhBackward(_OutputBackward):
    """grad * (1 - out*out) (tanh_backward)."""
    kernel = staticmethod(_tanh_backward)
    d_out = staticmethod(lambda gg, grad, out: gg * (out * -2 * grad))     # d/d(out) = -2 * out * grad

    @classmethod
    def _node_name(cls):
        return "TanhBackwardBackward0"


def _sigmoid(t, a):
    np.negative(a, out=t)
    np.exp(t, out=t)
    t += 1.0
    np.reciprocal(t, out=t)


class Sigmoid(Function):
    save_output = True

    def forward(self, a):
        # exp(-a) may overflow to inf for very negative a; 1/(1+inf) = 0 is the right limit
        with np.errstate(over="ignore"):
            if a.ndim == 0:
                return 1.0 / (1.0 + np.exp(-a))
            # the same arithmetic in one buffer instead of three temporaries
            return _threads.elementwise(_sigmoid, np.empty(a.shape, a.dtype), a)

    def backward(self, grad):
        return SigmoidBackward.apply(grad, self.output)


def _sigmoid_backward(r, grad, out):
    np.subtract(1, out, out=r)
    np.multiply(grad, r, out=r)
    np.multiply(r, out, out=r)


class SigmoidBackward(_OutputBackward):
    """grad * (1 - out) * out (sigmoid_backward)."""
    kernel = staticmethod(_sigmoid_backward)
    d_out = staticmethod(lambda gg, grad, out: gg * grad * (out * -2 + 1))   # d/d(out) = grad * (1 - 2 out)

    @classmethod
    def _node_name(cls):
        return "SigmoidBackwardBackward0"


class Relu(Function):
    save_output = True

    def forward(self, a):
        return _relu(a)

    def backward(self, grad):
        return ThresholdBackward.apply(grad, self.output)


_ZROW = 1 << 14
_zero_rows = {}   # dtype -> a row of _ZROW zeros


def _relu(a):
    """max(0, a) with PyTorch's edge cases: NaN stays NaN and -0.0 stays -0.0 (NumPy's maximum keeps its
    second operand on a tie). Against rows of zeros, not the scalar 0: a scalar operand sends NumPy's
    maximum to a slower loop than its SIMD one (bench/README.md); one cached zero row, broadcast over
    the rows of the input, does not."""
    n = a.size
    if n <= _ZROW:
        return np.maximum(_zero_row(a.dtype)[:n].reshape(a.shape), a)
    return _threads.elementwise(_relu_into, np.empty(a.shape, a.dtype), a)


def _zero_row(dtype):
    z = _zero_rows.get(dtype)
    if z is None:
        z = _zero_rows[dtype] = np.zeros(_ZROW, dtype)
    return z


def _relu_into(r, a):
    z = _zero_row(a.dtype)
    flat = a.reshape(-1)                      # a copy only if a is not contiguous
    rf = r.reshape(-1)
    n = flat.size
    m = n // _ZROW
    k = m * _ZROW
    if m:
        np.maximum(z, flat[:k].reshape(m, _ZROW), out=rf[:k].reshape(m, _ZROW))   # z broadcast over the rows
    if k < n:
        np.maximum(z[:n - k], flat[k:], out=rf[k:])


class ThresholdBackward(Function):
    """Relu's backward, PyTorch's threshold_backward(grad, out, 0): grad where out > 0 or NaN (not out <= 0),
    else +0 -- an exact selection, which grad * mask is not (inf * 0 = NaN, -1 * 0 = -0)."""
    save = (1,)

    @classmethod
    def _node_name(cls):
        return "ThresholdBackwardBackward0"

    def forward(self, grad, out):
        r = _grad_buffer(grad, out)
        self.grad_like = r.shape, r.dtype
        if r.dtype.itemsize not in _UINT_OF or r.dtype.kind != "f":
            r[...] = np.where(out != 0, grad, 0)
            return r
        if grad.dtype != r.dtype or grad.shape != r.shape:
            grad = np.broadcast_to(grad.astype(r.dtype, copy=False), r.shape)
        # relu's output is never below 0, so `out != 0` is the kept set; as 0/1 in unsigned integers of the
        # float's width, times grad's bits, it selects without float arithmetic
        bits = r.view(_UINT_OF[r.dtype.itemsize])
        _threads.elementwise(_select_bits, bits, grad.view(bits.dtype), out)
        return r

    def backward(self, gg):
        (out,) = self.saved_tensors
        g_grad = ThresholdBackward.apply(gg, out) if self.next[0] is not None else None
        # flat almost everywhere, but a zero gradient rather than none, as in PyTorch
        g_out = _wrap(np.zeros(*self.grad_like)) if self.next[1] is not None else None
        return g_grad, g_out


_UINT_OF = {2: np.dtype(np.uint16), 4: np.dtype(np.uint32), 8: np.dtype(np.uint64)}


def _select_bits(bits, grad_bits, out):
    np.not_equal(out, 0, out=bits)
    np.multiply(grad_bits, bits, out=bits)


class Atan(Function):
    save = (0,)

    def forward(self, a):
        return np.arctan(a)

    def backward(self, grad):
        (a,) = self.saved_tensors
        return grad / (a * a + 1)


class Asin(Function):
    save = (0,)

    def forward(self, a):
        return np.arcsin(a)

    def backward(self, grad):
        (a,) = self.saved_tensors
        return grad * rsqrt(1 - a * a)


class Acos(Function):
    save = (0,)

    def forward(self, a):
        return np.arccos(a)

    def backward(self, grad):
        (a,) = self.saved_tensors
        return grad * -rsqrt(1 - a * a)


class Sinh(Function):
    save = (0,)

    def forward(self, a):
        return np.sinh(a)

    def backward(self, grad):
        (a,) = self.saved_tensors
        return grad * cosh(a)


class Cosh(Function):
    save = (0,)

    def forward(self, a):
        return np.cosh(a)

    def backward(self, grad):
        (a,) = self.saved_tensors
        return grad * sinh(a)


class _Piecewise(Function):
    """Ops that are flat almost everywhere (sign, floor, round...): the gradient is zero."""
    fn = None

    def forward(self, a, **kw):
        return type(self).fn(a, **kw)

    def backward(self, grad):
        return grad * 0


class Sign(_Piecewise):
    fn = staticmethod(np.sign)


class Floor(_Piecewise):
    fn = staticmethod(np.floor)


class Ceil(_Piecewise):
    fn = staticmethod(np.ceil)


class Trunc(_Piecewise):
    fn = staticmethod(np.trunc)


class Round(_Piecewise):
    fn = staticmethod(np.round)  # round half to even, like PyTorch


class Frac(Function):
    def forward(self, a):
        return a - np.trunc(a)

    def backward(self, grad):
        return grad


def _unary(cls, float_only=True):
    def op(input, *, out=None):
        t = _float_input(input) if float_only else input
        if t._requires_grad and t._data.dtype.kind == "c" and _GradState.enabled:
            _no_complex_gradient(op.__name__)
        return _out(cls.apply(t), out)
    op.__name__ = cls.__name__.lower()
    return op


exp = _unary(Exp)
exp2 = _unary(Exp2)
expm1 = _unary(Expm1)
log = _unary(Log)
log2 = _unary(Log2)
log10 = _unary(Log10)
log1p = _unary(Log1p)
sqrt = _unary(Sqrt)
rsqrt = _unary(Rsqrt)
reciprocal = _unary(Reciprocal)
sin = _unary(Sin)
cos = _unary(Cos)
tan = _unary(Tan)
tanh = _unary(Tanh)
sigmoid = _unary(Sigmoid)
atan = arctan = _unary(Atan)
asin = arcsin = _unary(Asin)
acos = arccos = _unary(Acos)
sinh = _unary(Sinh)
cosh = _unary(Cosh)
frac = _unary(Frac)


def _refuse_complex(t, message, error=NotImplementedError):
    if t._data.dtype.kind == "c":
        raise error(message)


def relu(input, inplace=False):
    if inplace:
        return input._inplace(relu)
    kind = input._data.dtype.kind
    if kind != "f":   # one look at the dtype on the common path
        if kind == "c":
            raise NotImplementedError("clamp is not supported for complex types")
        if kind == "b":
            raise RuntimeError("\"clamp_min_scalar_cpu\" not implemented for 'Bool'")
    return Relu.apply(input)


def _integral_noop(cls):
    def op(input, *, out=None, **kw):
        if input.dtype._kind < 2:
            return _out(clone(input), out)  # rounding an integer changes nothing
        return _out(cls.apply(input, **kw), out)
    op.__name__ = cls.__name__.lower()
    return op


floor = _integral_noop(Floor)
ceil = _integral_noop(Ceil)
trunc = fix = _integral_noop(Trunc)


def round(input, *, decimals=0, out=None):
    if decimals:
        scale = 10.0 ** decimals
        return _out(_integral_noop(Round)(input * scale) / scale, out)
    return _integral_noop(Round)(input, out=out)


def sign(input, *, out=None):
    _refuse_complex(input, "Unlike NumPy, torch.sign is not intended to support complex numbers. Please use "
                           "torch.sgn instead.")
    if input.dtype is _dt.bool_:
        return clone(input)
    return _out(Sign.apply(input), out)


def sgn(input, *, out=None):
    """sign for real numbers; z / |z| (0 at 0) for complex ones."""
    if input._data.dtype.kind == "c":
        from ember.ops.complex import _sgn
        return _out(_sgn(input), out)
    return sign(input, out=out)


class Clamp(Function):
    """clamp with scalar bounds; the gradient passes where min <= x <= max."""
    save = (0,)

    @classmethod
    def _node_name(cls):
        return "ClampBackward1"

    def forward(self, a, lo, hi):
        self.lo, self.hi = lo, hi
        return np.clip(a, lo, hi)

    def backward(self, grad):
        (a,) = self.saved_tensors
        mask = None
        if self.lo is not None:
            mask = a >= self.lo
        if self.hi is not None:
            upper = a <= self.hi
            mask = upper if mask is None else mask & upper
        return grad * mask


class ClampTensor(Function):
    """clamp with tensor bounds: x gets the gradient inside, each bound where it was chosen."""
    save = (0, 1, 2)

    @classmethod
    def _node_name(cls):
        return "ClampBackward0"

    def forward(self, a, lo, hi):
        out = a
        if lo is not None:
            out = np.maximum(out, lo)
        if hi is not None:
            out = np.minimum(out, hi)
        return out

    def backward(self, grad):
        a, lo, hi = self.saved_tensors
        inside = None
        ga = glo = ghi = None
        if lo is not None:
            inside = a >= lo
            if self.next[1] is not None:
                glo = sum_to(where(a < lo, grad, 0.0), _shape(lo))
        if hi is not None:
            below = a <= hi
            inside = below if inside is None else inside & below
            if self.next[2] is not None:
                ghi = sum_to(where(a > hi, grad, 0.0), _shape(hi))
        if self.next[0] is not None:
            ga = sum_to(where(inside, grad, 0.0), _shape(a))
        return ga, glo, ghi


def clamp(input, min=None, max=None, *, out=None):
    if min is None and max is None:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    _refuse_complex(input, "clamp is not supported for complex types")
    if isinstance(min, Tensor) or isinstance(max, Tensor):
        lo = cast(min, input.dtype) if isinstance(min, Tensor) else min
        hi = cast(max, input.dtype) if isinstance(max, Tensor) else max
        return _out(ClampTensor.apply(input, lo, hi), out)
    if input.dtype._kind < 2 and (isinstance(min, float) or isinstance(max, float)):
        input = cast(input, _dt.get_default_dtype())
    return _out(Clamp.apply(input, min, max), out)


clip = clamp


def clamp_min(input, min):
    return clamp(input, min=min)


def clamp_max(input, max):
    return clamp(input, max=max)


class Where(Function):
    def forward(self, cond, a, b):
        self.cond = cond
        self.shapes = (np.shape(a), np.shape(b))
        return np.where(cond, a, b)

    def backward(self, grad):
        cond = Tensor._make(self.cond)
        sa, sb = self.shapes
        ga = sum_to(where(cond, grad, 0.0), sa) if self.next[1] is not None else None
        gb = sum_to(where(cond, 0.0, grad), sb) if self.next[2] is not None else None
        return None, ga, gb


def where(condition, input=None, other=None, *, out=None):
    if input is None and other is None:
        from ember.ops.index import nonzero
        return nonzero(condition, as_tuple=True)
    cond = condition._data if isinstance(condition, Tensor) else np.asarray(condition)
    if cond.dtype != np.bool_:
        if cond.dtype.kind in "iu":
            cond = cond != 0
        else:
            raise RuntimeError(f"where expected condition to be a boolean tensor, but got a tensor with dtype "
                               f"{_dt.from_numpy_dtype(cond.dtype)}")
    a, b = _operands(input, other)
    try:
        return _out(Where.apply(cond, a, b), out)
    except ValueError:
        _check_broadcast(Tensor._make(cond), a)
        _check_broadcast(a, b)
        raise


def lerp(input, end, weight):
    return input + weight * (end - input)


# -- comparisons and logic (no gradient) ----------------------------------------------------

def _elementwise_no_grad(npfn):
    """Comparisons and logical ops: promoted operands, a bool result, no gradient."""
    def op(input, other, *, out=None):
        a, b = _operands(input, other)
        try:
            r = npfn(_arr(a), _arr(b))
        except ValueError:
            _check_broadcast(a, b)
            raise
        return _out(Tensor._make(r), out)
    op.__name__ = npfn.__name__
    return op


def _ordering(npfn, name):
    """<, <=, >, >=: complex numbers have no order, and PyTorch's kernels say so."""
    compare = _elementwise_no_grad(npfn)

    def op(input, other, *, out=None):
        for t in (input, other):
            if isinstance(t, Tensor) and t._data.dtype.kind == "c" or type(t) is complex:
                word = t.dtype.word if isinstance(t, Tensor) else _dt.get_default_complex_dtype().word
                raise NotImplementedError(f'"{name}_cpu" not implemented for \'{word}\'')
        return compare(input, other, out=out)
    op.__name__ = npfn.__name__
    return op


eq = _elementwise_no_grad(np.equal)
ne = not_equal = _elementwise_no_grad(np.not_equal)
lt = less = _ordering(np.less, "lt")
le = less_equal = _ordering(np.less_equal, "le")
gt = greater = _ordering(np.greater, "gt")
ge = greater_equal = _ordering(np.greater_equal, "ge")
logical_and = _elementwise_no_grad(np.logical_and)
logical_or = _elementwise_no_grad(np.logical_or)
logical_xor = _elementwise_no_grad(np.logical_xor)


def logical_not(input, *, out=None):
    return _out(Tensor._make(np.logical_not(input._data)), out)


def _bitwise(npfn, name):
    def op(input, other, *, out=None):
        a, b = _operands(input, other)
        t = a if isinstance(a, Tensor) else b
        if t.dtype._kind == 2:
            raise TypeError(f"unsupported operand type(s) for {name}: bitwise ops need bool or integer tensors, "
                            f"got {t.dtype}")
        try:
            return _out(Tensor._make(npfn(_arr(a), _arr(b))), out)
        except ValueError:
            _check_broadcast(a, b)
            raise
    op.__name__ = npfn.__name__
    return op


bitwise_and = _bitwise(np.bitwise_and, "&")
bitwise_or = _bitwise(np.bitwise_or, "|")
bitwise_xor = _bitwise(np.bitwise_xor, "^")


def bitwise_not(input, *, out=None):
    if input.dtype._kind == 2:
        raise TypeError(f"~ (bitwise_not) is only supported for integer and bool tensors, got {input.dtype}")
    return _out(Tensor._make(np.invert(input._data)), out)


def isnan(input):
    return Tensor._make(np.isnan(input._data))


def isinf(input):
    return Tensor._make(np.isinf(input._data))


def isfinite(input):
    return Tensor._make(np.isfinite(input._data))


def isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    return Tensor._make(np.isclose(input._data, _arr(as_operand(other)), rtol=rtol, atol=atol, equal_nan=equal_nan))


def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    return bool(np.allclose(input._data, _arr(as_operand(other)), rtol=rtol, atol=atol, equal_nan=equal_nan))


def equal(input, other):
    return input.shape == other.shape and bool(np.array_equal(input._data, other._data))


class NanToNum(Function):
    save = (0,)

    def forward(self, a, nan, posinf, neginf):
        return np.nan_to_num(a, nan=nan, posinf=posinf, neginf=neginf)

    def backward(self, grad):
        (a,) = self.saved_tensors
        return where(isfinite(a), grad, 0.0)  # replaced values do not depend on the input


def nan_to_num(input, nan=0.0, posinf=None, neginf=None, *, out=None):
    return _out(NanToNum.apply(input, nan=nan, posinf=posinf, neginf=neginf), out)
