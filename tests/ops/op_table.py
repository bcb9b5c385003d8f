"""THE op table: one entry per op form; every differential check is driven from here.

Each ``OpSpec`` says how to call the op (``fn(lib, *tensors)`` -- the same lambda runs
with ``lib=torch`` and ``lib=ember``), what its tensor arguments look like (shape, dtype,
value domain), whether it is differentiable, and how close ember must be to torch.

Reading guide
    F(3, 4)                float tensor of the test's float dtype (float32 / float64), values in [-2, 2)
    F(3, 4, low=.1)        ... in [0.1, 2)
    F(3, 4, avoid=near(0)) ... never within 0.05 of 0 (a kink: finite differences and
                               float32-vs-float64 rounding must not straddle it)
    F(3, 4, integers=True) float tensor holding small whole numbers (to make == meaningful)
    I(4, high=5)           int64 index tensor, values in [0, 5)
    Ints(3, 4, "int32")    integer tensor of that dtype
    Mask(3, 4)             bool tensor
    Const([...])           fixed values (float dtype of the test unless given)

``grad=True`` means: gradients of all float arguments are compared with torch
(test_ops_grad) and with ember's own finite differences (test_ops_gradcheck).
``kind="elementwise"`` entries are also run by hypothesis on random broadcastable shapes,
including 0-d and empty tensors (test_ops_hypothesis).

Tolerances are float32 tolerances (``rtol``/``atol``); float64 uses ``rtol64``/``atol64``.
Defaults: float32 1e-5 / 1e-6, float64 1e-10 / 1e-12.  Looser bounds carry a ``note``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Any, Callable

import numpy as np

# ---------------------------------------------------------------------------------------
# Argument specs
# ---------------------------------------------------------------------------------------

FLOAT = None  # dtype placeholder: "the floating dtype this test runs with"


@dataclass(frozen=True)
class Arg:
    shape: tuple = ()
    dtype: str | None = FLOAT
    low: float = -2.0
    high: float = 2.0
    avoid: Callable[[np.ndarray], np.ndarray] | None = None
    integers: bool = False            # float tensor holding whole numbers
    values: Any = None                # fixed contents (Const)
    make: Callable | None = None      # custom generator: make(rng, shape, dtype) -> array
    grad: bool | None = None          # None: floats require grad, others don't

    def resolved_dtype(self, float_dtype: str) -> str:
        return float_dtype if self.dtype is FLOAT else self.dtype

    @property
    def is_float(self) -> bool:
        return self.dtype is FLOAT or str(self.dtype).startswith(("float", "bfloat"))

    @property
    def wants_grad(self) -> bool:
        return self.is_float if self.grad is None else self.grad

    def with_shape(self, shape) -> "Arg":
        return replace(self, shape=tuple(shape))

    def generate(self, rng: np.random.Generator, float_dtype: str = "float32") -> np.ndarray:
        dt = np.dtype(self.resolved_dtype(float_dtype))
        if self.values is not None:
            return np.array(self.values, dtype=dt)
        if self.make is not None:
            return np.asarray(self.make(rng, self.shape, dt)).astype(dt)
        if dt == np.bool_:
            return rng.random(self.shape) < 0.5
        if dt.kind in "iu":
            return rng.integers(int(self.low), int(self.high), size=self.shape).astype(dt)
        if self.integers:
            return rng.integers(int(self.low), int(self.high) + 1, size=self.shape).astype(dt)
        x = rng.uniform(self.low, self.high, size=self.shape)
        if self.avoid is not None:
            for _ in range(1000):
                bad = np.asarray(self.avoid(x))
                if not bad.any():
                    break
                x = np.where(bad, rng.uniform(self.low, self.high, size=self.shape), x)
            else:  # pragma: no cover - a domain with no room left
                raise ValueError("could not sample away from the avoided points")
        return x.astype(dt)


def F(*shape, low=-2.0, high=2.0, avoid=None, integers=False, grad=None):
    """A floating tensor (float32 or float64, chosen by the test)."""
    return Arg(tuple(shape), FLOAT, low, high, avoid, integers, grad=grad)


def Pos(*shape, low=0.5, high=2.5, grad=None):
    """A positive floating tensor (for log, sqrt, a base of a real power ...)."""
    return Arg(tuple(shape), FLOAT, low, high, grad=grad)


def I(*shape, high, low=0):
    """An int64 index tensor with values in [low, high)."""
    return Arg(tuple(shape), "int64", low, high)


def Ints(*shape, dtype="int64", low=-5, high=6):
    return Arg(tuple(shape), dtype, low, high)


def Mask(*shape):
    return Arg(tuple(shape), "bool")


def Const(values, dtype=FLOAT, grad=None):
    return Arg(np.shape(values), dtype, values=values, grad=grad)


def Perm(*shape, dim, size):
    """An int64 index tensor whose entries are distinct along ``dim`` (for scatter)."""
    def make(rng, shp, dt):
        keys = rng.random(shp[:dim] + (size,) + shp[dim + 1:])
        return np.argsort(keys, axis=dim).take(range(shp[dim]), axis=dim)
    return Arg(tuple(shape), "int64", make=make)


# Value predicates for ``avoid=`` (the points where an op has a kink or a jump).
def near(*points, margin=0.05):
    return lambda x: np.any([np.abs(x - p) < margin for p in points], axis=0)


def near_integer(margin=0.05):
    return lambda x: np.abs(x - np.round(x)) < margin


def near_half_integer(margin=0.05):
    return lambda x: np.abs(x - np.floor(x) - 0.5) < margin


def near_multiple(step, margin=0.05):
    return lambda x: np.abs(x / step - np.round(x / step)) * step < margin


# ---------------------------------------------------------------------------------------
# Op specs
# ---------------------------------------------------------------------------------------

@dataclass
class OpSpec:
    name: str
    fn: Callable
    inputs: list
    grad: bool = True
    rtol: float = 1e-5
    atol: float = 1e-6
    rtol64: float = 1e-10
    atol64: float = 1e-12
    kind: str = "other"               # "elementwise": also run on hypothesis shapes
    gradcheck: bool | None = None     # finite differences (default: same as grad)
    float_dtypes: tuple = ("float32", "float64")
    note: str = ""
    covers: tuple = ()                # registry entries this row tests besides the one its name says

    @property
    def covered(self) -> set:
        """The registry entries this row tests: ``torch.add`` / ``Tensor.add_`` from a name such as
        ``torch.add.broadcast`` or ``Tensor.add_``, plus ``covers`` (e.g. ``Tensor.__add__``)."""
        m = re.match(r"(torch|Tensor)\.(\w+)", self.name)
        return ({f"{m.group(1)}.{m.group(2)}"} if m else set()) | set(self.covers)

    def __post_init__(self):
        if self.gradcheck is None:
            self.gradcheck = self.grad

    @property
    def has_float_placeholder(self) -> bool:
        return any(a.dtype is FLOAT for a in self.inputs)

    def dtypes(self) -> tuple:
        """The float dtypes to run with (a single run if no argument follows the float dtype)."""
        return self.float_dtypes if self.has_float_placeholder else (self.float_dtypes[0],)

    def tol(self, float_dtype: str):
        return (self.rtol64, self.atol64) if float_dtype == "float64" else (self.rtol, self.atol)

    def arrays(self, float_dtype: str, seed: int = 0, inputs=None):
        rng = np.random.default_rng(seed)
        return [a.generate(rng, float_dtype) for a in (inputs or self.inputs)]

    def grad_mask(self):
        return [a.wants_grad for a in self.inputs]


def elementwise(name, fn, inputs, **kw):
    return OpSpec(name, fn, inputs, kind="elementwise", **kw)


def forward_only(name, fn, inputs, **kw):
    return OpSpec(name, fn, inputs, grad=False, **kw)


NONZERO = near(0, margin=0.3)
KINK0 = near(0)

# Broadcasting shapes used by the binary entries: (3, 4) op (4,)  and  (2, 1, 4) op (3, 1).
A, B = (3, 4), (4,)
C, D = (2, 1, 4), (3, 1)

OPS: list[OpSpec] = [
    # ------------------------------------------------------------------ arithmetic
    elementwise("torch.add", lambda lib, x, y: lib.add(x, y), [F(*A), F(*B)]),
    elementwise("Tensor.add", lambda lib, x, y: x.add(y), [F(*C), F(*D)]),
    elementwise("x+y", lambda lib, x, y: x + y, [F(*A), F(*B)]),
    elementwise("x+y.broadcast3d", lambda lib, x, y: x + y, [F(*C), F(*D)]),
    elementwise("x+2.5", lambda lib, x: x + 2.5, [F(*A)]),
    elementwise("2.5+x", lambda lib, x: 2.5 + x, [F(*A)]),
    elementwise("x+0d", lambda lib, x, y: x + y, [F(*A), F()]),
    elementwise("torch.sub", lambda lib, x, y: lib.sub(x, y), [F(*A), F(*B)]),
    elementwise("Tensor.sub", lambda lib, x, y: x.sub(y), [F(*C), F(*D)]),
    elementwise("x-y", lambda lib, x, y: x - y, [F(*A), F(*B)]),
    elementwise("x-1.5", lambda lib, x: x - 1.5, [F(*A)]),
    elementwise("1.5-x", lambda lib, x: 1.5 - x, [F(*A)]),
    elementwise("torch.mul", lambda lib, x, y: lib.mul(x, y), [F(*A), F(*B)]),
    elementwise("Tensor.mul", lambda lib, x, y: x.mul(y), [F(*C), F(*D)]),
    elementwise("x*y", lambda lib, x, y: x * y, [F(*A), F(*B)]),
    elementwise("x*x", lambda lib, x: x * x, [F(*A)]),
    elementwise("x*3", lambda lib, x: x * 3, [F(*A)]),
    elementwise("3*x", lambda lib, x: 3 * x, [F(*A)]),
    elementwise("torch.div", lambda lib, x, y: lib.div(x, y), [F(*A), F(*B, avoid=NONZERO)]),
    elementwise("Tensor.div", lambda lib, x, y: x.div(y), [F(*C), F(*D, avoid=NONZERO)]),
    elementwise("x/y", lambda lib, x, y: x / y, [F(*A), F(*B, avoid=NONZERO)]),
    elementwise("x/2", lambda lib, x: x / 2, [F(*A)]),
    elementwise("2/x", lambda lib, x: 2 / x, [F(*A, avoid=NONZERO)]),
    elementwise("torch.true_divide", lambda lib, x, y: lib.true_divide(x, y), [F(*A), F(*B, avoid=NONZERO)]),
    # floor division has no derivative in torch ("derivative for aten::floor_divide is not implemented")
    elementwise("torch.floor_divide", lambda lib, x, y: lib.floor_divide(x, y),
                [F(*A, low=-5, high=5), F(*B, avoid=NONZERO)], grad=False),
    elementwise("x//y", lambda lib, x, y: x // y, [F(*A, low=-5, high=5), F(*B, avoid=NONZERO)], grad=False),
    elementwise("x//1.5", lambda lib, x: x // 1.5, [F(*A, low=-5, high=5)], grad=False),
    elementwise("int//int", lambda lib, x, y: x // y,
                [Ints(*A, low=-9, high=10), Ints(*B, low=1, high=4)], grad=False),
    elementwise("int//-int", lambda lib, x, y: x // y,
                [Ints(*A, low=-9, high=10), Ints(*B, low=-4, high=-1)], grad=False),
    # remainder has Python's sign convention (the divisor's sign)
    elementwise("torch.remainder", lambda lib, x, y: lib.remainder(x, y),
                [F(*A, low=-5, high=5), F(*B, low=0.5, high=2)]),
    elementwise("x%y", lambda lib, x, y: x % y, [F(*A, low=-5, high=5), F(*B, low=-2, high=2, avoid=NONZERO)]),
    elementwise("x%1.5", lambda lib, x: x % 1.5, [F(*A, low=-5, high=5, avoid=near_multiple(1.5))]),
    elementwise("Tensor.remainder", lambda lib, x: x.remainder(-1.5),
                [F(*A, low=-5, high=5, avoid=near_multiple(1.5))]),
    elementwise("int%int", lambda lib, x, y: x % y,
                [Ints(*A, low=-9, high=10), Ints(*B, low=1, high=4)], grad=False),
    elementwise("int%-int", lambda lib, x, y: x % y,
                [Ints(*A, low=-9, high=10), Ints(*B, low=-4, high=-1)], grad=False),
    elementwise("torch.pow.int", lambda lib, x: lib.pow(x, 2), [F(*A)]),
    elementwise("x**2", lambda lib, x: x ** 2, [F(*A)]),
    elementwise("x**3", lambda lib, x: x ** 3, [F(*A)]),
    elementwise("x**0", lambda lib, x: x ** 0, [F(*A)]),
    elementwise("x**-1", lambda lib, x: x ** -1, [F(*A, avoid=NONZERO)]),
    elementwise("Tensor.pow.0.5", lambda lib, x: x.pow(0.5), [Pos(*A)]),
    elementwise("x**-1.5", lambda lib, x: x ** -1.5, [Pos(*A)]),
    elementwise("torch.pow.tensor", lambda lib, x, y: lib.pow(x, y), [Pos(*A), F(*B)]),
    elementwise("x**y", lambda lib, x, y: x ** y, [Pos(*C), F(*D)]),
    elementwise("2**x", lambda lib, x: 2 ** x, [F(*A)]),
    elementwise("torch.pow.scalar_base", lambda lib, x: lib.pow(2.5, x), [F(*A)]),
    # ------------------------------------------------------------------ unary
    elementwise("-x", lambda lib, x: -x, [F(*A)]),
    elementwise("torch.neg", lambda lib, x: lib.neg(x), [F(*A)]),
    elementwise("Tensor.neg", lambda lib, x: x.neg(), [F(*A)]),
    elementwise("torch.abs", lambda lib, x: lib.abs(x), [F(*A, avoid=KINK0)]),
    elementwise("Tensor.abs", lambda lib, x: x.abs(), [F(*A, avoid=KINK0)]),
    elementwise("abs(x)", lambda lib, x: abs(x), [F(*A, avoid=KINK0)]),
    elementwise("torch.exp", lambda lib, x: lib.exp(x), [F(*A, low=-3, high=3)]),
    elementwise("Tensor.exp", lambda lib, x: x.exp(), [F(*A, low=-3, high=3)]),
    elementwise("torch.log", lambda lib, x: lib.log(x), [Pos(*A, low=0.1, high=4)]),
    elementwise("Tensor.log", lambda lib, x: x.log(), [Pos(*A, low=0.1, high=4)]),
    elementwise("torch.log1p", lambda lib, x: lib.log1p(x), [F(*A, low=-0.9, high=3)]),
    elementwise("Tensor.log1p.tiny", lambda lib, x: x.log1p(), [F(*A, low=-1e-6, high=1e-6)],
                note="log1p must stay accurate for tiny x (log(1 + x) loses all digits)"),
    elementwise("torch.sqrt", lambda lib, x: lib.sqrt(x), [Pos(*A, low=0.1, high=4)]),
    elementwise("Tensor.sqrt", lambda lib, x: x.sqrt(), [Pos(*A, low=0.1, high=4)]),
    elementwise("torch.rsqrt", lambda lib, x: lib.rsqrt(x), [Pos(*A, low=0.2, high=4)]),
    elementwise("Tensor.rsqrt", lambda lib, x: x.rsqrt(), [Pos(*A, low=0.2, high=4)]),
    elementwise("torch.sin", lambda lib, x: lib.sin(x), [F(*A, low=-4, high=4)]),
    elementwise("Tensor.sin", lambda lib, x: x.sin(), [F(*A, low=-4, high=4)]),
    elementwise("torch.cos", lambda lib, x: lib.cos(x), [F(*A, low=-4, high=4)]),
    elementwise("Tensor.cos", lambda lib, x: x.cos(), [F(*A, low=-4, high=4)]),
    elementwise("torch.tanh", lambda lib, x: lib.tanh(x), [F(*A, low=-3, high=3)]),
    elementwise("Tensor.tanh", lambda lib, x: x.tanh(), [F(*A, low=-3, high=3)]),
    elementwise("torch.sigmoid", lambda lib, x: lib.sigmoid(x), [F(*A, low=-5, high=5)]),
    elementwise("Tensor.sigmoid", lambda lib, x: x.sigmoid(), [F(*A, low=-5, high=5)]),
    elementwise("torch.sigmoid.saturated", lambda lib, x: lib.sigmoid(x), [F(*A, low=-60, high=60)],
                note="saturates without overflow warnings or nan for |x| large"),
    elementwise("torch.relu", lambda lib, x: lib.relu(x), [F(*A, avoid=KINK0)]),
    elementwise("Tensor.relu", lambda lib, x: x.relu(), [F(*A, avoid=KINK0)]),
    # sign / floor / ceil / round: gradient is zero wherever defined (torch returns zeros)
    elementwise("torch.sign", lambda lib, x: lib.sign(x), [F(*A, avoid=KINK0)]),
    elementwise("Tensor.sign", lambda lib, x: x.sign(), [F(*A, avoid=KINK0)]),
    forward_only("torch.sign.zero", lambda lib, x: lib.sign(x), [Const([-2.0, 0.0, 3.0])]),
    elementwise("torch.floor", lambda lib, x: lib.floor(x), [F(*A, low=-4, high=4, avoid=near_integer())]),
    elementwise("Tensor.floor", lambda lib, x: x.floor(), [F(*A, low=-4, high=4, avoid=near_integer())]),
    elementwise("torch.ceil", lambda lib, x: lib.ceil(x), [F(*A, low=-4, high=4, avoid=near_integer())]),
    elementwise("Tensor.ceil", lambda lib, x: x.ceil(), [F(*A, low=-4, high=4, avoid=near_integer())]),
    elementwise("torch.round", lambda lib, x: lib.round(x), [F(*A, low=-4, high=4, avoid=near_half_integer())]),
    elementwise("Tensor.round", lambda lib, x: x.round(), [F(*A, low=-4, high=4, avoid=near_half_integer())]),
    forward_only("torch.round.half_to_even", lambda lib, x: lib.round(x),
                 [Const([0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 0.49, 3.51])],
                 note="torch rounds halves to even, like numpy.round"),
    # clamp / clip  (x avoids the bounds: the derivative jumps there)
    elementwise("torch.clamp.min", lambda lib, x: lib.clamp(x, min=-0.5), [F(*A, avoid=near(-0.5))]),
    elementwise("torch.clamp.max", lambda lib, x: lib.clamp(x, max=0.5), [F(*A, avoid=near(0.5))]),
    elementwise("torch.clamp.both", lambda lib, x: lib.clamp(x, -0.5, 0.5), [F(*A, avoid=near(-0.5, 0.5))]),
    elementwise("Tensor.clamp", lambda lib, x: x.clamp(min=-0.5, max=0.5), [F(*A, avoid=near(-0.5, 0.5))]),
    elementwise("Tensor.clamp.min", lambda lib, x: x.clamp(min=0.0), [F(*A, avoid=KINK0)]),
    elementwise("Tensor.clamp.max_only", lambda lib, x: x.clamp(max=1.0), [F(*A, avoid=near(1.0))]),
    elementwise("torch.clip", lambda lib, x: lib.clip(x, -0.5, 0.5), [F(*A, avoid=near(-0.5, 0.5))]),
    elementwise("Tensor.clip", lambda lib, x: x.clip(min=-0.5), [F(*A, avoid=near(-0.5))]),
    elementwise("torch.clamp.tensor_bounds", lambda lib, x, lo, hi: lib.clamp(x, lo, hi),
                [F(*A, low=-3, high=3, avoid=lambda v: (np.abs(v) > 0.4) & (np.abs(v) < 1.6)),
                 F(*B, low=-1.5, high=-0.5), F(*A, low=0.5, high=1.5)],
                note="x stays outside [-1.6,-0.4] and [0.4,1.6], where the bounds live"),
    elementwise("Tensor.clamp.tensor_min", lambda lib, x, lo: x.clamp(min=lo),
                [F(*A, low=-3, high=3, avoid=lambda v: np.abs(v) < 1.1), F(*B, low=-1, high=1)]),
    # maximum / minimum / where
    elementwise("torch.maximum", lambda lib, x, y: lib.maximum(x, y), [F(*A), F(*B)]),
    elementwise("Tensor.maximum", lambda lib, x, y: x.maximum(y), [F(*C), F(*D)]),
    elementwise("torch.minimum", lambda lib, x, y: lib.minimum(x, y), [F(*A), F(*B)]),
    elementwise("Tensor.minimum", lambda lib, x, y: x.minimum(y), [F(*C), F(*D)]),
    elementwise("torch.max(a,b)", lambda lib, x, y: lib.max(x, y), [F(*A), F(*B)]),
    elementwise("torch.min(a,b)", lambda lib, x, y: lib.min(x, y), [F(*A), F(*B)]),
    elementwise("torch.where", lambda lib, c, x, y: lib.where(c, x, y), [Mask(*A), F(*B), F(3, 1)]),
    elementwise("torch.where.cond_from_x", lambda lib, x, y: lib.where(x > 0, x, y), [F(*A, avoid=KINK0), F(*B)]),
    elementwise("Tensor.where", lambda lib, x, c, y: x.where(c, y), [F(*A), Mask(*B), F(*A)]),
    elementwise("torch.where.scalar", lambda lib, c, x: lib.where(c, x, 0.0), [Mask(*A), F(*A)]),
    # ------------------------------------------------------------------ comparisons (bool results)
    elementwise("x==y", lambda lib, x, y: x == y, [F(*A, integers=True), F(*B, integers=True)], grad=False),
    elementwise("x!=y", lambda lib, x, y: x != y, [F(*A, integers=True), F(*B, integers=True)], grad=False),
    elementwise("x<y", lambda lib, x, y: x < y, [F(*A, integers=True), F(*B, integers=True)], grad=False),
    elementwise("x<=y", lambda lib, x, y: x <= y, [F(*A, integers=True), F(*B, integers=True)], grad=False),
    elementwise("x>y", lambda lib, x, y: x > y, [F(*A, integers=True), F(*B, integers=True)], grad=False),
    elementwise("x>=y", lambda lib, x, y: x >= y, [F(*A, integers=True), F(*B, integers=True)], grad=False),
    elementwise("x==1.0", lambda lib, x: x == 1.0, [F(*A, integers=True)], grad=False),
    elementwise("x>0", lambda lib, x: x > 0, [F(*A, integers=True)], grad=False),
    elementwise("0<x", lambda lib, x: 0 < x, [F(*A, integers=True)], grad=False),
    elementwise("int<float", lambda lib, x, y: x < y, [Ints(*A), F(*B, integers=True)], grad=False),
    elementwise("torch.eq", lambda lib, x, y: lib.eq(x, y), [F(*A, integers=True), F(*B, integers=True)], grad=False),
    elementwise("torch.ne", lambda lib, x, y: lib.ne(x, y), [F(*A, integers=True), F(*B, integers=True)], grad=False),
    elementwise("torch.lt", lambda lib, x, y: lib.lt(x, y), [F(*A, integers=True), F(*B, integers=True)], grad=False),
    elementwise("torch.le", lambda lib, x, y: lib.le(x, y), [F(*A, integers=True), F(*B, integers=True)], grad=False),
    elementwise("torch.gt", lambda lib, x, y: lib.gt(x, y), [F(*A, integers=True), F(*B, integers=True)], grad=False),
    elementwise("torch.ge", lambda lib, x, y: lib.ge(x, y), [F(*A, integers=True), F(*B, integers=True)], grad=False),
    elementwise("Tensor.eq", lambda lib, x, y: x.eq(y), [F(*A, integers=True), F(*B, integers=True)], grad=False),
    elementwise("Tensor.ne", lambda lib, x, y: x.ne(y), [F(*A, integers=True), F(*B, integers=True)], grad=False),
    elementwise("Tensor.lt", lambda lib, x, y: x.lt(y), [F(*A, integers=True), F(*B, integers=True)], grad=False),
    elementwise("Tensor.le", lambda lib, x, y: x.le(y), [F(*A, integers=True), F(*B, integers=True)], grad=False),
    elementwise("Tensor.gt", lambda lib, x, y: x.gt(y), [F(*A, integers=True), F(*B, integers=True)], grad=False),
    elementwise("Tensor.ge", lambda lib, x, y: x.ge(y), [F(*A, integers=True), F(*B, integers=True)], grad=False),
    elementwise("torch.logical_and", lambda lib, a, b: lib.logical_and(a, b), [Mask(*A), Mask(*B)], grad=False),
    elementwise("torch.logical_or", lambda lib, a, b: lib.logical_or(a, b), [Mask(*A), Mask(*B)], grad=False),
    elementwise("torch.logical_xor", lambda lib, a, b: lib.logical_xor(a, b), [Mask(*A), Mask(*B)], grad=False),
    elementwise("torch.logical_not", lambda lib, a: lib.logical_not(a), [Mask(*A)], grad=False),
    elementwise("Tensor.logical_and", lambda lib, a, b: a.logical_and(b), [Mask(*A), Mask(*B)], grad=False),
    elementwise("Tensor.logical_or", lambda lib, a, b: a.logical_or(b), [Mask(*A), Mask(*B)], grad=False),
    elementwise("Tensor.logical_xor", lambda lib, a, b: a.logical_xor(b), [Mask(*A), Mask(*B)], grad=False),
    elementwise("Tensor.logical_not", lambda lib, a: a.logical_not(), [Mask(*A)], grad=False),
    elementwise("torch.logical_and.float", lambda lib, x, y: lib.logical_and(x, y),
                [F(*A, integers=True, low=-1, high=1), F(*B, integers=True, low=-1, high=1)], grad=False,
                note="non-bool inputs are truthy where nonzero; the result is bool"),
    elementwise("torch.logical_not.float", lambda lib, x: lib.logical_not(x),
                [F(*A, integers=True, low=-1, high=1)], grad=False),
    elementwise("a&b", lambda lib, a, b: a & b, [Mask(*A), Mask(*B)], grad=False),
    elementwise("a|b", lambda lib, a, b: a | b, [Mask(*A), Mask(*B)], grad=False),
    elementwise("a^b", lambda lib, a, b: a ^ b, [Mask(*A), Mask(*B)], grad=False),
    elementwise("~a", lambda lib, a: ~a, [Mask(*A)], grad=False),
    # ------------------------------------------------------------------ reductions
    OpSpec("torch.sum", lambda lib, x: lib.sum(x), [F(2, 3, 4)]),
    OpSpec("Tensor.sum", lambda lib, x: x.sum(), [F(2, 3, 4)]),
    OpSpec("Tensor.sum.dim", lambda lib, x: x.sum(1), [F(2, 3, 4)]),
    OpSpec("Tensor.sum.negdim", lambda lib, x: x.sum(dim=-1), [F(2, 3, 4)]),
    OpSpec("Tensor.sum.tuple", lambda lib, x: x.sum(dim=(0, 2)), [F(2, 3, 4)]),
    OpSpec("Tensor.sum.tuple_keepdim", lambda lib, x: x.sum(dim=(-1, 0), keepdim=True), [F(2, 3, 4)]),
    OpSpec("Tensor.sum.keepdim", lambda lib, x: x.sum(1, keepdim=True), [F(2, 3, 4)]),
    OpSpec("torch.sum.dim", lambda lib, x: lib.sum(x, 0), [F(2, 3, 4)]),
    OpSpec("torch.sum.axis", lambda lib, x: lib.sum(x, axis=1), [F(2, 3, 4)]),
    OpSpec("Tensor.sum.axis_keepdims", lambda lib, x: x.sum(axis=0, keepdims=True), [F(2, 3, 4)]),
    OpSpec("Tensor.sum.0d", lambda lib, x: x.sum(), [F()]),
    forward_only("Tensor.sum.int32", lambda lib, x: x.sum(), [Ints(3, 4, dtype="int32")],
                 note="integer sums accumulate in int64"),
    forward_only("Tensor.sum.bool", lambda lib, m: m.sum(1), [Mask(3, 4)]),
    OpSpec("torch.mean", lambda lib, x: lib.mean(x), [F(2, 3, 4)]),
    OpSpec("Tensor.mean", lambda lib, x: x.mean(), [F(2, 3, 4)]),
    OpSpec("Tensor.mean.dim", lambda lib, x: x.mean(1), [F(2, 3, 4)]),
    OpSpec("Tensor.mean.negdim_keepdim", lambda lib, x: x.mean(-1, keepdim=True), [F(2, 3, 4)]),
    OpSpec("torch.mean.tuple", lambda lib, x: lib.mean(x, dim=(0, 2)), [F(2, 3, 4)]),
    OpSpec("Tensor.mean.axis", lambda lib, x: x.mean(axis=0), [F(2, 3, 4)]),
    OpSpec("torch.var", lambda lib, x: lib.var(x), [F(2, 3, 4)]),
    OpSpec("Tensor.var", lambda lib, x: x.var(), [F(2, 3, 4)]),
    OpSpec("Tensor.var.dim", lambda lib, x: x.var(1), [F(2, 3, 4)]),
    OpSpec("Tensor.var.unbiased_false", lambda lib, x: x.var(1, unbiased=False), [F(2, 3, 4)]),
    OpSpec("torch.var.correction0", lambda lib, x: lib.var(x, dim=(0, 1), correction=0), [F(2, 3, 4)]),
    OpSpec("torch.var.correction2", lambda lib, x: lib.var(x, dim=-1, correction=2), [F(2, 3, 4)]),
    OpSpec("Tensor.var.keepdim", lambda lib, x: x.var(dim=-1, keepdim=True), [F(2, 3, 4)]),
    OpSpec("torch.std", lambda lib, x: lib.std(x), [F(2, 3, 4)]),
    OpSpec("Tensor.std", lambda lib, x: x.std(), [F(2, 3, 4)]),
    OpSpec("Tensor.std.unbiased", lambda lib, x: x.std(unbiased=True), [F(2, 3, 4)]),
    OpSpec("Tensor.std.unbiased_false", lambda lib, x: x.std(0, unbiased=False), [F(2, 3, 4)]),
    OpSpec("torch.std.dim_keepdim", lambda lib, x: lib.std(x, dim=-1, keepdim=True), [F(2, 3, 4)]),
    OpSpec("torch.std.correction0", lambda lib, x: lib.std(x, dim=(0, 2), correction=0), [F(2, 3, 4)]),
    OpSpec("torch.prod", lambda lib, x: lib.prod(x), [F(2, 3, 2, low=0.5, high=1.5)]),
    OpSpec("Tensor.prod", lambda lib, x: x.prod(), [F(2, 3, 2, low=-1.5, high=1.5, avoid=near(0, margin=0.3))]),
    OpSpec("Tensor.prod.dim", lambda lib, x: x.prod(1), [F(2, 3, 4, avoid=near(0, margin=0.3))]),
    OpSpec("torch.prod.negdim_keepdim", lambda lib, x: lib.prod(x, -1, keepdim=True),
           [F(2, 3, 4, avoid=near(0, margin=0.3))]),
    OpSpec("Tensor.prod.with_zero", lambda lib, x: x.prod(1),
           [Const([[1.0, 0.0, 3.0], [2.0, 4.0, 5.0], [0.0, 2.0, 0.0]])],
           note="gradient at a zero must not be computed as prod / x"),
    forward_only("Tensor.prod.int", lambda lib, x: x.prod(), [Ints(5, dtype="int8", low=1, high=3)]),
    OpSpec("Tensor.max", lambda lib, x: x.max(), [F(3, 4)]),
    OpSpec("torch.max", lambda lib, x: lib.max(x), [F(3, 4)]),
    OpSpec("torch.max.dim", lambda lib, x: lib.max(x, 1), [F(3, 4)],
           note="returns (values, indices); only values are differentiable"),
    OpSpec("Tensor.max.dim_keepdim", lambda lib, x: x.max(dim=1, keepdim=True), [F(3, 4)]),
    OpSpec("Tensor.max.negdim", lambda lib, x: x.max(-1), [F(2, 3, 4)]),
    OpSpec("Tensor.max.values", lambda lib, x: x.max(dim=0).values, [F(3, 4)]),
    forward_only("Tensor.max.indices", lambda lib, x: x.max(0).indices, [F(3, 4)]),
    forward_only("Tensor.max.unpack", lambda lib, x: x.max(1)[1], [F(3, 4)]),
    OpSpec("Tensor.min", lambda lib, x: x.min(), [F(3, 4)]),
    OpSpec("torch.min", lambda lib, x: lib.min(x), [F(3, 4)]),
    OpSpec("torch.min.dim", lambda lib, x: lib.min(x, dim=0), [F(3, 4)]),
    OpSpec("Tensor.min.dim_keepdim", lambda lib, x: x.min(1, keepdim=True), [F(3, 4)]),
    OpSpec("Tensor.max.ties", lambda lib, x: x.max(), [Const([[1.0, 3.0, 3.0], [2.0, 3.0, 0.0]])],
           gradcheck=False, note="torch splits the gradient evenly between tied maxima"),
    OpSpec("Tensor.max.dim.ties", lambda lib, x: x.max(1), [Const([[1.0, 3.0, 3.0], [2.0, 2.0, 0.0]])],
           gradcheck=False, note="indices: first occurrence; gradient goes to that index only"),
    forward_only("torch.argmax", lambda lib, x: lib.argmax(x), [F(3, 4)]),
    forward_only("Tensor.argmax.dim", lambda lib, x: x.argmax(dim=1), [F(3, 4)]),
    forward_only("Tensor.argmax.keepdim", lambda lib, x: x.argmax(1, keepdim=True), [F(3, 4)]),
    forward_only("torch.argmin", lambda lib, x: lib.argmin(x), [F(3, 4)]),
    forward_only("torch.argmin.negdim", lambda lib, x: lib.argmin(x, dim=-1), [F(2, 3, 4)]),
    forward_only("Tensor.argmin.keepdim", lambda lib, x: x.argmin(0, keepdim=True), [F(3, 4)]),
    forward_only("torch.argmax.ties", lambda lib, x: lib.argmax(x, 1), [Const([[1.0, 3.0, 3.0], [2.0, 2.0, 0.0]])]),
    forward_only("torch.all", lambda lib, m: lib.all(m), [Mask(3, 4)]),
    forward_only("Tensor.all.dim", lambda lib, m: m.all(dim=1), [Mask(3, 4)]),
    forward_only("Tensor.all.true", lambda lib, m: m.all(), [Const([[True, True], [True, True]], dtype="bool")]),
    forward_only("torch.any", lambda lib, m: lib.any(m), [Mask(3, 4)]),
    forward_only("Tensor.any.dim_keepdim", lambda lib, m: m.any(0, keepdim=True), [Mask(3, 4)]),
    forward_only("Tensor.any.false", lambda lib, m: m.any(), [Const([False, False], dtype="bool")]),
    forward_only("Tensor.any.float", lambda lib, x: x.any(dim=-1), [F(3, 4, integers=True, low=0, high=1)]),
    forward_only("Tensor.all.compare", lambda lib, x: (x > -1.5).all(), [F(3, 4)]),
    OpSpec("torch.norm", lambda lib, x: lib.norm(x), [F(3, 4)]),
    OpSpec("Tensor.norm", lambda lib, x: x.norm(), [F(2, 3, 4)]),
    OpSpec("Tensor.norm.p1", lambda lib, x: x.norm(p=1), [F(3, 4, avoid=KINK0)]),
    OpSpec("Tensor.norm.p2_dim", lambda lib, x: x.norm(p=2, dim=1), [F(3, 4)]),
    OpSpec("torch.norm.p1_dim", lambda lib, x: lib.norm(x, 1, dim=0), [F(3, 4, avoid=KINK0)]),
    OpSpec("torch.norm.fro", lambda lib, x: lib.norm(x, "fro"), [F(3, 4)]),
    OpSpec("torch.norm.fro_dims", lambda lib, x: lib.norm(x, p="fro", dim=(0, 1)), [F(3, 4, 2)]),
    OpSpec("Tensor.norm.keepdim", lambda lib, x: x.norm(dim=-1, keepdim=True), [F(3, 4)]),
    OpSpec("torch.logsumexp", lambda lib, x: lib.logsumexp(x, dim=1), [F(3, 4)]),
    OpSpec("Tensor.logsumexp.keepdim", lambda lib, x: x.logsumexp(-1, keepdim=True), [F(2, 3, 4)]),
    OpSpec("torch.logsumexp.tuple", lambda lib, x: lib.logsumexp(x, dim=(0, 1)), [F(2, 3, 4)]),
    OpSpec("torch.logsumexp.large", lambda lib, x: lib.logsumexp(x, 1), [F(3, 4, low=80, high=120)],
           note="must subtract the max: exp(100) overflows float32"),
    OpSpec("torch.logsumexp.very_negative", lambda lib, x: lib.logsumexp(x, 0), [F(3, 4, low=-120, high=-80)]),
    OpSpec("torch.cumsum", lambda lib, x: lib.cumsum(x, dim=1), [F(3, 5)]),
    OpSpec("Tensor.cumsum", lambda lib, x: x.cumsum(0), [F(3, 5)]),
    OpSpec("Tensor.cumsum.negdim", lambda lib, x: x.cumsum(dim=-1), [F(2, 3, 4)]),
    forward_only("Tensor.cumsum.int", lambda lib, x: x.cumsum(0), [Ints(5, dtype="int32")]),
    # ------------------------------------------------------------------ linear algebra
    # Inputs in [-1, 1]: a float32 dot product of K terms is within ~K ulp of the exact one.
    OpSpec("torch.mm", lambda lib, a, b: lib.mm(a, b), [F(3, 4, low=-1, high=1), F(4, 5, low=-1, high=1)]),
    OpSpec("Tensor.mm", lambda lib, a, b: a.mm(b), [F(3, 4, low=-1, high=1), F(4, 2, low=-1, high=1)]),
    OpSpec("torch.mv", lambda lib, a, v: lib.mv(a, v), [F(3, 4, low=-1, high=1), F(4, low=-1, high=1)]),
    OpSpec("Tensor.mv", lambda lib, a, v: a.mv(v), [F(3, 4, low=-1, high=1), F(4, low=-1, high=1)]),
    OpSpec("torch.matmul.1d@1d", lambda lib, a, b: lib.matmul(a, b), [F(4, low=-1, high=1), F(4, low=-1, high=1)]),
    OpSpec("matmul.1d@2d", lambda lib, a, b: a @ b, [F(4, low=-1, high=1), F(4, 3, low=-1, high=1)]),
    OpSpec("matmul.2d@1d", lambda lib, a, b: a @ b, [F(3, 4, low=-1, high=1), F(4, low=-1, high=1)]),
    OpSpec("matmul.2d@2d", lambda lib, a, b: a @ b, [F(3, 4, low=-1, high=1), F(4, 5, low=-1, high=1)]),
    OpSpec("matmul.batched", lambda lib, a, b: a @ b, [F(2, 3, 4, low=-1, high=1), F(2, 4, 5, low=-1, high=1)]),
    OpSpec("matmul.broadcast_batch", lambda lib, a, b: lib.matmul(a, b),
           [F(2, 1, 3, 4, low=-1, high=1), F(5, 4, 2, low=-1, high=1)]),
    OpSpec("matmul.3d@2d", lambda lib, a, b: a @ b, [F(2, 3, 4, low=-1, high=1), F(4, 5, low=-1, high=1)]),
    OpSpec("matmul.3d@1d", lambda lib, a, b: a @ b, [F(2, 3, 4, low=-1, high=1), F(4, low=-1, high=1)]),
    OpSpec("matmul.1d@3d", lambda lib, a, b: a @ b, [F(4, low=-1, high=1), F(2, 4, 3, low=-1, high=1)]),
    OpSpec("Tensor.matmul", lambda lib, a, b: a.matmul(b), [F(3, 4, low=-1, high=1), F(4, 5, low=-1, high=1)]),
    OpSpec("torch.bmm", lambda lib, a, b: lib.bmm(a, b), [F(2, 3, 4, low=-1, high=1), F(2, 4, 5, low=-1, high=1)]),
    OpSpec("Tensor.bmm", lambda lib, a, b: a.bmm(b), [F(2, 3, 4, low=-1, high=1), F(2, 4, 2, low=-1, high=1)]),
    OpSpec("torch.dot", lambda lib, a, b: lib.dot(a, b), [F(5, low=-1, high=1), F(5, low=-1, high=1)]),
    OpSpec("Tensor.dot", lambda lib, a, b: a.dot(b), [F(5, low=-1, high=1), F(5, low=-1, high=1)]),
    OpSpec("torch.outer", lambda lib, a, b: lib.outer(a, b), [F(3), F(4)]),
    OpSpec("Tensor.outer", lambda lib, a, b: a.outer(b), [F(3), F(4)]),
    OpSpec("torch.t", lambda lib, a: lib.t(a), [F(3, 4)]),
    OpSpec("Tensor.t", lambda lib, a: a.t(), [F(3, 4)]),
    OpSpec("Tensor.t.1d", lambda lib, a: a.t(), [F(4)]),
    OpSpec("Tensor.T", lambda lib, a: a.T, [F(3, 4)]),
    # ------------------------------------------------------------------ shape
    OpSpec("Tensor.reshape", lambda lib, x: x.reshape(4, 6), [F(2, 3, 4)]),
    OpSpec("Tensor.reshape.tuple", lambda lib, x: x.reshape((6, 4)), [F(2, 3, 4)]),
    OpSpec("Tensor.reshape.-1", lambda lib, x: x.reshape(-1), [F(2, 3, 4)]),
    OpSpec("torch.reshape", lambda lib, x: lib.reshape(x, (2, -1)), [F(2, 3, 4)]),
    OpSpec("Tensor.reshape.to_0d", lambda lib, x: x.reshape(()), [F(1, 1)]),
    OpSpec("Tensor.view", lambda lib, x: x.view(6, 4), [F(2, 3, 4)]),
    OpSpec("Tensor.view.-1", lambda lib, x: x.view(-1), [F(2, 3, 4)]),
    OpSpec("Tensor.view.tuple", lambda lib, x: x.view((3, 8)), [F(2, 3, 4)]),
    OpSpec("Tensor.view.middle_-1", lambda lib, x: x.view(2, -1, 2), [F(2, 3, 4)]),
    OpSpec("Tensor.flatten", lambda lib, x: x.flatten(), [F(2, 3, 4)]),
    OpSpec("torch.flatten", lambda lib, x: lib.flatten(x), [F(2, 3, 4)]),
    OpSpec("Tensor.flatten.start", lambda lib, x: x.flatten(1), [F(2, 3, 4, 2)]),
    OpSpec("torch.flatten.start_end", lambda lib, x: lib.flatten(x, start_dim=0, end_dim=1), [F(2, 3, 4)]),
    OpSpec("Tensor.flatten.negative", lambda lib, x: x.flatten(-2, -1), [F(2, 3, 4)]),
    OpSpec("Tensor.flatten.0d", lambda lib, x: x.flatten(), [F()]),
    OpSpec("Tensor.squeeze", lambda lib, x: x.squeeze(), [F(3, 1, 4, 1)]),
    OpSpec("Tensor.squeeze.dim", lambda lib, x: x.squeeze(1), [F(3, 1, 4, 1)]),
    OpSpec("torch.squeeze.negdim", lambda lib, x: lib.squeeze(x, -1), [F(3, 1, 4, 1)]),
    OpSpec("Tensor.squeeze.not_one", lambda lib, x: x.squeeze(0), [F(3, 1, 4, 1)],
           note="squeezing a dim whose size is not 1 is a no-op"),
    OpSpec("Tensor.unsqueeze", lambda lib, x: x.unsqueeze(0), [F(3, 4)]),
    OpSpec("torch.unsqueeze.negdim", lambda lib, x: lib.unsqueeze(x, -1), [F(3, 4)]),
    OpSpec("Tensor.unsqueeze.middle", lambda lib, x: x.unsqueeze(1), [F(3, 4)]),
    OpSpec("Tensor.unsqueeze.neg2", lambda lib, x: x.unsqueeze(-2), [F(3, 4)]),
    OpSpec("Tensor.permute", lambda lib, x: x.permute(2, 0, 1), [F(2, 3, 4)]),
    OpSpec("Tensor.permute.tuple", lambda lib, x: x.permute((1, 2, 0)), [F(2, 3, 4)]),
    OpSpec("torch.permute", lambda lib, x: lib.permute(x, (2, 1, 0)), [F(2, 3, 4)]),
    OpSpec("Tensor.permute.negative", lambda lib, x: x.permute(-1, 0, 1), [F(2, 3, 4)]),
    OpSpec("Tensor.transpose", lambda lib, x: x.transpose(0, 1), [F(2, 3, 4)]),
    OpSpec("torch.transpose", lambda lib, x: lib.transpose(x, 0, 2), [F(2, 3, 4)]),
    OpSpec("Tensor.transpose.negative", lambda lib, x: x.transpose(-1, -2), [F(2, 3, 4)]),
    OpSpec("Tensor.contiguous.view", lambda lib, x: x.t().contiguous().view(-1), [F(3, 4)]),
    OpSpec("Tensor.expand", lambda lib, x: x.expand(3, 4), [F(3, 1)]),
    OpSpec("Tensor.expand.new_dims", lambda lib, x: x.expand(2, 3, 4), [F(3, 1)]),
    OpSpec("Tensor.expand.-1", lambda lib, x: x.expand(-1, 4), [F(3, 1)]),
    OpSpec("Tensor.expand.tuple", lambda lib, x: x.expand((2, 3, 4)), [F(1, 4)]),
    OpSpec("Tensor.expand_as", lambda lib, x, y: x.expand_as(y), [F(3, 1), F(2, 3, 4, grad=False)]),
    OpSpec("Tensor.repeat", lambda lib, x: x.repeat(2, 3), [F(2, 3)]),
    OpSpec("Tensor.repeat.new_dim", lambda lib, x: x.repeat(2, 1, 2), [F(2, 3)]),
    OpSpec("Tensor.repeat.tuple", lambda lib, x: x.repeat((1, 2)), [F(2, 3)]),
    OpSpec("torch.cat", lambda lib, a, b: lib.cat([a, b]), [F(2, 3), F(4, 3)]),
    OpSpec("torch.cat.dim1", lambda lib, a, b: lib.cat((a, b), dim=1), [F(2, 3), F(2, 5)]),
    OpSpec("torch.cat.three_negdim", lambda lib, a, b, c: lib.cat([a, b, c], -1), [F(2, 3), F(2, 1), F(2, 2)]),
    OpSpec("torch.stack", lambda lib, a, b: lib.stack([a, b]), [F(2, 3), F(2, 3)]),
    OpSpec("torch.stack.dim1", lambda lib, a, b: lib.stack((a, b), dim=1), [F(2, 3), F(2, 3)]),
    OpSpec("torch.stack.negdim", lambda lib, a, b, c: lib.stack([a, b, c], -1), [F(2, 3), F(2, 3), F(2, 3)]),
    OpSpec("torch.split.int", lambda lib, x: lib.split(x, 2), [F(5, 3)], note="uneven: sizes 2, 2, 1"),
    OpSpec("Tensor.split.int_dim", lambda lib, x: x.split(2, dim=1), [F(3, 5)]),
    OpSpec("torch.split.list", lambda lib, x: lib.split(x, [1, 4]), [F(5, 3)]),
    OpSpec("Tensor.split.list_dim", lambda lib, x: x.split([2, 2, 1], dim=-1), [F(3, 5)]),
    OpSpec("torch.chunk", lambda lib, x: lib.chunk(x, 3), [F(6, 2)]),
    OpSpec("Tensor.chunk.uneven", lambda lib, x: x.chunk(3, dim=1), [F(2, 5)], note="sizes 2, 2, 1"),
    OpSpec("Tensor.chunk.fewer", lambda lib, x: x.chunk(4), [F(5, 2)],
           note="torch returns 3 chunks of 2, 2, 1 (not numpy.array_split's 4)"),
    OpSpec("torch.unbind", lambda lib, x: lib.unbind(x), [F(3, 4)]),
    OpSpec("Tensor.unbind.dim", lambda lib, x: x.unbind(1), [F(3, 4)]),
    OpSpec("Tensor.unbind.negdim", lambda lib, x: x.unbind(dim=-1), [F(2, 3, 2)]),
    OpSpec("torch.narrow", lambda lib, x: lib.narrow(x, 0, 1, 2), [F(4, 5)]),
    OpSpec("Tensor.narrow", lambda lib, x: x.narrow(1, 2, 3), [F(4, 5)]),
    OpSpec("Tensor.narrow.negdim", lambda lib, x: x.narrow(-1, 0, 1), [F(4, 5)]),
    # ------------------------------------------------------------------ indexing (with gradients)
    OpSpec("x[1]", lambda lib, x: x[1], [F(4, 5)]),
    OpSpec("x[-1]", lambda lib, x: x[-1], [F(4, 5)]),
    OpSpec("x[1,2]", lambda lib, x: x[1, 2], [F(4, 5)]),
    OpSpec("x[1:3]", lambda lib, x: x[1:3], [F(4, 5)]),
    OpSpec("x[::2]", lambda lib, x: x[::2], [F(5, 4)]),
    OpSpec("x[1::2,::3]", lambda lib, x: x[1::2, ::3], [F(5, 7)]),
    OpSpec("x[:,-2:]", lambda lib, x: x[:, -2:], [F(4, 5)]),
    OpSpec("x[-3:-1,1]", lambda lib, x: x[-3:-1, 1], [F(4, 5)]),
    OpSpec("x[...,1]", lambda lib, x: x[..., 1], [F(2, 3, 4)]),
    OpSpec("x[1,...]", lambda lib, x: x[1, ...], [F(2, 3, 4)]),
    OpSpec("x[None]", lambda lib, x: x[None], [F(3, 4)]),
    OpSpec("x[:,None]", lambda lib, x: x[:, None], [F(3, 4)]),
    OpSpec("x[...,None]", lambda lib, x: x[..., None], [F(3, 4)]),
    OpSpec("x[[0,2]]", lambda lib, x: x[[0, 2]], [F(4, 5)]),
    OpSpec("x[idx]", lambda lib, x, i: x[i], [F(4, 5), Const([0, 2, 2, 3, 0], dtype="int64")],
           note="duplicate indices: their gradients must accumulate"),
    OpSpec("x[idx2d]", lambda lib, x, i: x[i], [F(4, 5), I(2, 3, high=4)]),
    OpSpec("x[-idx]", lambda lib, x, i: x[i], [F(4, 5), I(3, low=-4, high=0)]),
    OpSpec("x[i,j]", lambda lib, x, i, j: x[i, j], [F(4, 5), I(2, 1, high=4), I(3, high=5)],
           note="two index tensors broadcast against each other"),
    OpSpec("x[mask]", lambda lib, x, m: x[m], [F(3, 4), Mask(3, 4)]),
    OpSpec("x[rowmask]", lambda lib, x, m: x[m], [F(4, 3), Const([True, False, True, True], dtype="bool")]),
    OpSpec("x[x>0]", lambda lib, x: x[x > 0], [F(3, 4, avoid=KINK0)]),
    OpSpec("x[idx,1:3]", lambda lib, x, i: x[i, 1:3], [F(4, 5), I(3, high=4)]),
    OpSpec("x[1:,idx]", lambda lib, x, i: x[1:, i], [F(4, 5), I(3, high=5)]),
    OpSpec("x[...,idx]", lambda lib, x, i: x[..., i], [F(2, 3, 4), I(5, high=4)]),
    OpSpec("x[0,idx]", lambda lib, x, i: x[0, i], [F(3, 4, 5), I(2, high=4)]),
    OpSpec("x[:,idx,1]", lambda lib, x, i: x[:, i, 1], [F(3, 4, 5), I(2, high=4)]),
    OpSpec("x[idx,:,idx]", lambda lib, x, i, j: x[i, :, j], [F(3, 4, 5), I(2, high=3), I(2, high=5)],
           note="advanced indices separated by a slice: their dims go first"),
    OpSpec("torch.gather", lambda lib, x, i: lib.gather(x, 1, i), [F(4, 5), I(4, 3, high=5)]),
    OpSpec("Tensor.gather.dim0", lambda lib, x, i: x.gather(0, i), [F(4, 5), I(6, 5, high=4)],
           note="repeated indices: gradients accumulate"),
    OpSpec("torch.scatter", lambda lib, x, i, s: lib.scatter(x, 1, i, s), [F(3, 5), Perm(3, 2, dim=1, size=5), F(3, 2)],
           note="indices are distinct along dim (duplicates are order-dependent in torch)"),
    OpSpec("Tensor.scatter.dim0", lambda lib, x, i, s: x.scatter(0, i, s), [F(4, 3), Perm(2, 3, dim=0, size=4), F(2, 3)]),
    OpSpec("Tensor.scatter.value", lambda lib, x, i: x.scatter(1, i, 2.5), [F(3, 5), Perm(3, 2, dim=1, size=5)]),
    OpSpec("torch.index_select", lambda lib, x, i: lib.index_select(x, 0, i), [F(4, 5), Const([3, 0, 3], dtype="int64")]),
    OpSpec("Tensor.index_select.dim1", lambda lib, x, i: x.index_select(1, i), [F(4, 5), I(6, high=5)]),
    OpSpec("Tensor.masked_fill", lambda lib, x, m: x.masked_fill(m, 0.0), [F(3, 4), Mask(3, 4)]),
    OpSpec("torch.masked_fill", lambda lib, x, m: lib.masked_fill(x, m, -1e9), [F(3, 4), Mask(3, 4)]),
    OpSpec("Tensor.masked_fill.broadcast", lambda lib, x, m: x.masked_fill(m, 1.5), [F(2, 3, 4), Mask(4)]),
    OpSpec("Tensor.masked_fill.cond", lambda lib, x: x.masked_fill(x < 0, 0.0), [F(3, 4, avoid=KINK0)]),
    # ------------------------------------------------------------------ composites
    # Small graphs: a tensor used twice (gradients accumulate), chains, views of views.
    OpSpec("softmax_by_hand", lambda lib, x: x.exp() / x.exp().sum(1, keepdim=True), [F(3, 4)]),
    OpSpec("log_softmax_by_hand", lambda lib, x: x - x.logsumexp(1, keepdim=True), [F(3, 4)]),
    OpSpec("mse", lambda lib, x, y: ((x - y) ** 2).mean(), [F(3, 4), F(3, 4)]),
    OpSpec("linear_relu", lambda lib, x, w, b: (x @ w.t() + b).relu(), [F(5, 3), F(4, 3), F(4)],
           note="a pre-activation within 1e-6 of 0 would be a kink; the fixed seed has none"),
    OpSpec("x*x.exp()", lambda lib, x: x * x.exp(), [F(3, 4)]),
    OpSpec("gram", lambda lib, x: x.t() @ x, [F(4, 3, low=-1, high=1)]),
    OpSpec("normalize", lambda lib, x: (x - x.mean(0)) / x.std(0), [F(5, 3)]),
    OpSpec("view_chain", lambda lib, x: x.view(2, 6).t()[1:, ::2].reshape(-1) * 2, [F(3, 4)]),
    OpSpec("index_then_sum", lambda lib, x: x[0] + x[1:].sum(0) + x[:, 1:2], [F(3, 4)]),
    # ------------------------------------------------------------------ conversions
    forward_only("Tensor.item", lambda lib, x: x.sum().item(), [F(3, 4)]),
    forward_only("Tensor.item.int", lambda lib, x: x.sum().item(), [Ints(3)]),
    forward_only("Tensor.tolist", lambda lib, x: x.tolist(), [Ints(2, 3)]),
    OpSpec("Tensor.float", lambda lib, x: x.double().float(), [F(3, 4)], gradcheck=False,
           note="a float32 result is too coarse for finite differences"),
    forward_only("Tensor.long", lambda lib, x: x.long(), [F(3, 4, low=-3, high=3, avoid=near_integer())],
                 note="float -> int truncates toward zero"),
    forward_only("Tensor.int.bool", lambda lib, m: m.int(), [Mask(3, 4)]),
]


# ---------------------------------------------------------------------------------------
# Every other form the op registry (ember/ops/registry.py) binds: torch.<op>, Tensor.<op>,
# Tensor.<op>_ and the operators. test_registry_coverage.py fails when a registered form has
# no row here or above.
# ---------------------------------------------------------------------------------------

def forms(name, inputs, *args, torch=True, method=True, inplace=False, kind="other", **kw):
    """Rows for torch.<name>(x, *tensors, *args), Tensor.<name> and (inplace=True) Tensor.<name>_,
    the in-place one on a clone of x (so gradients reach x through the in-place write).
    ``kwargs=`` is passed to every call; the other keywords go to OpSpec."""
    kwargs = kw.pop("kwargs", {})
    rows = []
    if torch:
        rows.append(OpSpec(f"torch.{name}", lambda lib, *t: getattr(lib, name)(*t, *args, **kwargs), inputs,
                           kind=kind, **kw))
    if method:
        rows.append(OpSpec(f"Tensor.{name}", lambda lib, x, *t: getattr(x, name)(*t, *args, **kwargs), inputs,
                           **kw))
    if inplace:
        rows.append(OpSpec(f"Tensor.{name}_", lambda lib, x, *t: getattr(x.clone(), name + "_")(*t, *args, **kwargs),
                           inputs, **kw))
    return rows


def _augmented(op):
    """x op= y on a clone of x (a leaf that requires grad cannot be written in place)."""
    def fn(lib, x, y):
        z = x.clone()
        z = op(z, y)
        return z
    return fn


def _setitem(key):
    def fn(lib, x, v):
        y = x.clone()
        y[key] = v
        return y
    return fn


def _iadd(a, b): a += b; return a          # noqa: E702
def _isub(a, b): a -= b; return a          # noqa: E702
def _imul(a, b): a *= b; return a          # noqa: E702
def _itruediv(a, b): a /= b; return a      # noqa: E702
def _ifloordiv(a, b): a //= b; return a    # noqa: E702
def _imod(a, b): a %= b; return a          # noqa: E702
def _ipow(a, b): a **= b; return a         # noqa: E702
def _iand(a, b): a &= b; return a          # noqa: E702
def _ior(a, b): a |= b; return a           # noqa: E702
def _ixor(a, b): a ^= b; return a          # noqa: E702


NAN, INF = float("nan"), float("inf")
TIES = Const([[1.0, 3.0, 3.0, -1.0], [2.0, 2.0, 2.0, 0.5], [-1.0, 0.0, 4.0, 4.0]])  # repeated extremes

OPS += [
    # -- the operators: each dunder the registry binds ----------------------------------------------
    elementwise("x+y.covers", lambda lib, x, y: x + y, [F(*A), F(*B)], covers=("Tensor.__add__",)),
    elementwise("2.5+x.covers", lambda lib, x: 2.5 + x, [F(*A)], covers=("Tensor.__radd__",)),
    elementwise("x-y.covers", lambda lib, x, y: x - y, [F(*A), F(*B)], covers=("Tensor.__sub__",)),
    elementwise("1.5-x.covers", lambda lib, x: 1.5 - x, [F(*A)], covers=("Tensor.__rsub__",)),
    elementwise("x*y.covers", lambda lib, x, y: x * y, [F(*A), F(*B)], covers=("Tensor.__mul__",)),
    elementwise("3*x.covers", lambda lib, x: 3 * x, [F(*A)], covers=("Tensor.__rmul__",)),
    elementwise("x/y.covers", lambda lib, x, y: x / y, [F(*A), F(*B, avoid=NONZERO)], covers=("Tensor.__truediv__",)),
    elementwise("2/x.covers", lambda lib, x: 2 / x, [F(*A, avoid=NONZERO)], covers=("Tensor.__rtruediv__",)),
    OpSpec("x//y.covers", lambda lib, x, y: x // y, [F(*A, low=-5, high=5), F(*B, avoid=NONZERO)], grad=False,
           covers=("Tensor.__floordiv__",)),
    OpSpec("7//x", lambda lib, x: 7 // x, [F(*A, avoid=NONZERO)], grad=False, covers=("Tensor.__rfloordiv__",)),
    OpSpec("x%y.covers", lambda lib, x, y: x % y, [F(*A, low=-5, high=5), F(*B, low=0.5, high=2)],
           covers=("Tensor.__mod__",)),
    forward_only("5.5%x", lambda lib, x: 5.5 % x, [F(*A, low=0.5, high=2)], covers=("Tensor.__rmod__",),
                 note="torch has no derivative of a number's remainder by a tensor"),
    OpSpec("x**y.covers", lambda lib, x, y: x ** y, [Pos(*C), F(*D)], covers=("Tensor.__pow__",)),
    OpSpec("2**x.covers", lambda lib, x: 2 ** x, [F(*A)], covers=("Tensor.__rpow__",)),
    OpSpec("x@y", lambda lib, a, b: a @ b, [F(3, 4, low=-1, high=1), F(4, 2, low=-1, high=1)],
           covers=("Tensor.__matmul__",)),
    OpSpec("list@y", lambda lib, b: b.__rmatmul__(lib.tensor([[1.0, 2.0, 0.5]], dtype=b.dtype)),
           [F(3, 2)], covers=("Tensor.__rmatmul__",)),
    OpSpec("-x.covers", lambda lib, x: -x, [F(*A)], covers=("Tensor.__neg__",)),
    OpSpec("abs(x).covers", lambda lib, x: abs(x), [F(*A, avoid=KINK0)], covers=("Tensor.__abs__",)),
    forward_only("~x", lambda lib, x: ~x, [Ints(*A)], covers=("Tensor.__invert__",)),
    forward_only("~mask", lambda lib, m: ~m, [Mask(*A)]),
    forward_only("x&y", lambda lib, x, y: x & y, [Ints(*A), Ints(*B)], covers=("Tensor.__and__",)),
    forward_only("3&x", lambda lib, x: 3 & x, [Ints(*A)], covers=("Tensor.__rand__",)),
    forward_only("x|y", lambda lib, x, y: x | y, [Mask(*A), Mask(*B)], covers=("Tensor.__or__",)),
    forward_only("3|x", lambda lib, x: 3 | x, [Ints(*A)], covers=("Tensor.__ror__",)),
    forward_only("x^y", lambda lib, x, y: x ^ y, [Ints(*A), Ints(*B)], covers=("Tensor.__xor__",)),
    forward_only("3^x", lambda lib, x: 3 ^ x, [Ints(*A)], covers=("Tensor.__rxor__",)),
    forward_only("x==y.covers", lambda lib, x, y: x == y, [F(*A, integers=True), F(*B, integers=True)],
                 covers=("Tensor.__eq__",)),
    forward_only("x!=y.covers", lambda lib, x, y: x != y, [F(*A, integers=True), F(*B, integers=True)],
                 covers=("Tensor.__ne__",)),
    forward_only("x<y.covers", lambda lib, x, y: x < y, [F(*A, integers=True), F(*B, integers=True)],
                 covers=("Tensor.__lt__",)),
    forward_only("x<=y.covers", lambda lib, x, y: x <= y, [F(*A, integers=True), F(*B, integers=True)],
                 covers=("Tensor.__le__",)),
    forward_only("x>y.covers", lambda lib, x, y: x > y, [F(*A, integers=True), F(*B, integers=True)],
                 covers=("Tensor.__gt__",)),
    forward_only("x>=y.covers", lambda lib, x, y: x >= y, [F(*A, integers=True), F(*B, integers=True)],
                 covers=("Tensor.__ge__",)),
    OpSpec("x[1].covers", lambda lib, x: x[1, 1:], [F(4, 5)], covers=("Tensor.__getitem__",)),
    OpSpec("x[1:3,idx]=v", _setitem((slice(1, 3), [0, 2])), [F(4, 5), F(2, 2)], covers=("Tensor.__setitem__",)),
    OpSpec("x[mask]=2*x[mask]", lambda lib, x, m: _setitem(m)(lib, x, x[m] * 2),
           [F(3, 4), Mask(3, 4)], note="the written values depend on x: gradients flow through both paths"),
    # augmented assignment (tracked: x requires grad; the forward test runs the untracked fast path)
    OpSpec("x+=y", _augmented(_iadd), [F(*A), F(*B)], covers=("Tensor.__iadd__",)),
    OpSpec("x+=0d", _augmented(_iadd), [F(*A), F()]),
    OpSpec("x+=2.5", lambda lib, x: _iadd(x.clone(), 2.5), [F(*A)]),
    OpSpec("x-=y", _augmented(_isub), [F(*A), F(*B)], covers=("Tensor.__isub__",)),
    OpSpec("x*=y", _augmented(_imul), [F(*A), F(*B)], covers=("Tensor.__imul__",)),
    OpSpec("x/=y", _augmented(_itruediv), [F(*A), F(*B, avoid=NONZERO)], covers=("Tensor.__itruediv__",)),
    OpSpec("x//=y", _augmented(_ifloordiv), [F(*A, low=-5, high=5), F(*B, avoid=NONZERO)], grad=False,
           covers=("Tensor.__ifloordiv__",)),
    OpSpec("x%=y", _augmented(_imod), [F(*A, low=-5, high=5), F(*B, low=0.5, high=2)], covers=("Tensor.__imod__",)),
    OpSpec("x**=y", _augmented(_ipow), [Pos(*A), F(*B)], covers=("Tensor.__ipow__",)),
    forward_only("int&=int", _augmented(_iand), [Ints(*A), Ints(*B)], covers=("Tensor.__iand__",)),
    forward_only("bool|=bool", _augmented(_ior), [Mask(*A), Mask(*B)], covers=("Tensor.__ior__",)),
    forward_only("int^=int", _augmented(_ixor), [Ints(*A), Ints(*B)], covers=("Tensor.__ixor__",)),
    # -- arithmetic ---------------------------------------------------------------------------------
    *forms("add", [F(*A), F(*B)], inplace=True, torch=False, method=False),
    OpSpec("Tensor.add_.alpha", lambda lib, x, y: x.clone().add_(y, alpha=-2.0), [F(*A), F(*B)]),
    *forms("sub", [F(*A), F(*B)], inplace=True, torch=False, method=False),
    *forms("subtract", [F(*A), F(*B)]),
    *forms("rsub", [F(*A), F(*B)], method=False),
    OpSpec("torch.rsub.scalar_alpha", lambda lib, x: lib.rsub(x, 2.0, alpha=3), [F(*A)]),
    *forms("mul", [F(*A), F(*B)], inplace=True, torch=False, method=False),
    *forms("multiply", [F(*A), F(*B)]),
    *forms("div", [F(*A), F(*B, avoid=NONZERO)], inplace=True, torch=False, method=False),
    *forms("divide", [F(*A), F(*B, avoid=NONZERO)]),
    *forms("true_divide", [F(*A), F(*B, avoid=NONZERO)], torch=False),
    # rounding_mode: the gradient of a rounded quotient is zero in torch (floor) / undefined (trunc: none)
    forward_only("torch.div.floor", lambda lib, x, y: lib.div(x, y, rounding_mode="floor"),
                 [F(*A, low=-5, high=5), F(*B, avoid=NONZERO)]),
    forward_only("torch.div.trunc", lambda lib, x, y: lib.div(x, y, rounding_mode="trunc"),
                 [F(*A, low=-5, high=5), F(*B, avoid=NONZERO)]),
    forward_only("Tensor.div.floor_int", lambda lib, x, y: x.div(y, rounding_mode="floor"),
                 [Ints(*A, low=-9, high=10), Ints(*B, low=1, high=4)]),
    forward_only("Tensor.div.trunc_int", lambda lib, x, y: x.div(y, rounding_mode="trunc"),
                 [Ints(*A, low=-9, high=10), Ints(*B, low=-4, high=-1)]),
    forward_only("Tensor.div_.trunc", lambda lib, x, y: x.clone().div_(y, rounding_mode="trunc"),
                 [F(*A, low=-5, high=5), F(*B, avoid=NONZERO)]),
    *forms("floor_divide", [F(*A, low=-5, high=5), F(*B, avoid=NONZERO)], torch=False, inplace=True, grad=False),
    *forms("remainder", [F(*A, low=-5, high=5), F(*B, low=0.5, high=2)], torch=False, method=False, inplace=True),
    *forms("fmod", [F(*A, low=-5, high=5), F(*B, low=0.5, high=2)], inplace=True, kind="elementwise",
           note="C's sign convention (the dividend's sign)"),
    forward_only("torch.fmod.int", lambda lib, x, y: lib.fmod(x, y), [Ints(*A, low=-9, high=10), Ints(*B, low=1, high=4)]),
    *forms("pow", [Pos(*A), F(*B)], torch=False, method=False, inplace=True),
    *forms("float_power", [Pos(*A), F(*B)], float_dtypes=("float64",)),
    *forms("square", [F(*A)], inplace=True, kind="elementwise"),
    *forms("neg", [F(*A)], torch=False, method=False, inplace=True),
    *forms("negative", [F(*A)], inplace=True),
    *forms("abs", [F(*A, avoid=KINK0)], torch=False, method=False, inplace=True),
    *forms("absolute", [F(*A, avoid=KINK0)], inplace=True),
    *forms("lerp", [F(*A), F(*B)], 0.3, inplace=True, kind="elementwise"),
    OpSpec("torch.lerp.tensor_weight", lambda lib, x, y, w: lib.lerp(x, y, w), [F(*A), F(*B), F(*A, low=0, high=1)]),
    # -- fmax / fmin: NaN is ignored (the other operand wins); ties give the whole gradient to input
    *forms("fmax", [F(*A), F(*B)], kind="elementwise"),
    *forms("fmin", [F(*A), F(*B)], kind="elementwise"),
    OpSpec("torch.fmax.nan", lambda lib, x, y: lib.fmax(x, y),
           [Const([NAN, 1.0, 2.0, 3.0, NAN, -1.0]), Const([2.0, NAN, 2.0, 1.0, NAN, -1.0])],
           gradcheck=False, note="NaN on either side, ties, NaN on both sides"),
    OpSpec("torch.fmin.nan", lambda lib, x, y: lib.fmin(x, y),
           [Const([NAN, 1.0, 2.0, 3.0, NAN, -1.0]), Const([2.0, NAN, 2.0, 1.0, NAN, -1.0])], gradcheck=False),
    forward_only("torch.maximum.nan", lambda lib, x, y: lib.maximum(x, y), [Const([NAN, 1.0]), Const([2.0, NAN])],
                 note="maximum propagates NaN, unlike fmax"),
    # -- elementwise functions ------------------------------------------------------------------------
    *forms("exp", [F(*A, low=-3, high=3)], torch=False, method=False, inplace=True),
    *forms("exp2", [F(*A, low=-3, high=3)], kind="elementwise"),
    *forms("expm1", [F(*A, low=-3, high=3)], inplace=True, kind="elementwise"),
    *forms("log", [Pos(*A, low=0.1, high=4)], torch=False, method=False, inplace=True),
    *forms("log2", [Pos(*A, low=0.1, high=4)], inplace=True, kind="elementwise"),
    *forms("log10", [Pos(*A, low=0.1, high=4)], inplace=True, kind="elementwise"),
    *forms("log1p", [F(*A, low=-0.9, high=3)], torch=False, inplace=True),
    *forms("sqrt", [Pos(*A, low=0.1, high=4)], torch=False, method=False, inplace=True),
    *forms("rsqrt", [Pos(*A, low=0.2, high=4)], torch=False, method=False, inplace=True),
    *forms("reciprocal", [F(*A, avoid=NONZERO)], inplace=True, kind="elementwise"),
    *forms("sin", [F(*A, low=-4, high=4)], torch=False, method=False, inplace=True),
    *forms("cos", [F(*A, low=-4, high=4)], torch=False, method=False, inplace=True),
    *forms("tan", [F(*A, low=-1.2, high=1.2)], inplace=True, kind="elementwise"),
    *forms("tanh", [F(*A, low=-3, high=3)], torch=False, method=False, inplace=True),
    *forms("sigmoid", [F(*A, low=-5, high=5)], torch=False, method=False, inplace=True),
    *forms("atan", [F(*A, low=-3, high=3)], inplace=True, kind="elementwise"),
    *forms("arctan", [F(*A, low=-3, high=3)]),
    *forms("asin", [F(*A, low=-0.9, high=0.9)], inplace=True, kind="elementwise"),
    *forms("arcsin", [F(*A, low=-0.9, high=0.9)]),
    *forms("acos", [F(*A, low=-0.9, high=0.9)], inplace=True, kind="elementwise"),
    *forms("arccos", [F(*A, low=-0.9, high=0.9)]),
    *forms("sinh", [F(*A, low=-3, high=3)], kind="elementwise"),
    *forms("cosh", [F(*A, low=-3, high=3)], kind="elementwise"),
    *forms("frac", [F(*A, low=-4, high=4, avoid=near_integer())], inplace=True, kind="elementwise"),
    *forms("relu", [F(*A, avoid=KINK0)], torch=False, method=False, inplace=True),
    *forms("floor", [F(*A, low=-4, high=4, avoid=near_integer())], torch=False, method=False, inplace=True),
    *forms("ceil", [F(*A, low=-4, high=4, avoid=near_integer())], torch=False, method=False, inplace=True),
    *forms("trunc", [F(*A, low=-4, high=4, avoid=near_integer())], inplace=True, kind="elementwise"),
    *forms("fix", [F(*A, low=-4, high=4, avoid=near_integer())]),
    *forms("round", [F(*A, low=-4, high=4, avoid=near_half_integer())], torch=False, method=False, inplace=True),
    *forms("sign", [F(*A, avoid=KINK0)], torch=False, method=False, inplace=True),
    # torch's gradient of sgn alone is a ZeroTensor that cannot be read: check it inside a product
    *forms("sgn", [F(*A, avoid=KINK0)], grad=False),
    OpSpec("torch.sgn.times_x", lambda lib, x: lib.sgn(x) * x, [F(*A, avoid=KINK0)],
           note="d/dx (sgn(x) x) = sgn(x) + x * 0: a nonzero gradient of sgn would show"),
    OpSpec("Tensor.sgn.times_x", lambda lib, x: x.sgn() * x, [F(*A, avoid=KINK0)]),
    *forms("clamp", [F(*A, avoid=near(-0.5, 0.5))], -0.5, 0.5, torch=False, method=False, inplace=True),
    *forms("clip", [F(*A, avoid=near(-0.5, 0.5))], -0.5, 0.5, torch=False, method=False, inplace=True),
    *forms("clamp_min", [F(*A, avoid=near(-0.5))], -0.5, inplace=True),
    *forms("clamp_max", [F(*A, avoid=near(0.5))], 0.5, inplace=True),
    *forms("nan_to_num", [Const([NAN, INF, -INF, 1.5, -0.0])], inplace=True, gradcheck=False),
    OpSpec("torch.nan_to_num.values", lambda lib, x: lib.nan_to_num(x, nan=2.0, posinf=9.0, neginf=-9.0),
           [Const([NAN, INF, -INF, 1.5])], gradcheck=False),
    # -- comparisons and logic -------------------------------------------------------------------------
    *[row for op in ("eq", "ne", "lt", "le", "gt", "ge")
      for row in forms(op, [F(*A, integers=True), F(*B, integers=True)], torch=False, method=False,
                       inplace=True, grad=False)],
    *[row for op in ("not_equal", "less", "less_equal", "greater", "greater_equal")
      for row in forms(op, [F(*A, integers=True), F(*B, integers=True)], grad=False)],
    forward_only("torch.eq.nan", lambda lib, x, y: lib.eq(x, y), [Const([NAN, 1.0]), Const([NAN, 1.0])]),
    *[row for op in ("logical_and", "logical_or", "logical_xor")
      for row in forms(op, [Mask(*A), Ints(*B)], torch=False, method=False, inplace=True, grad=False)],
    *forms("logical_not", [Ints(*A)], torch=False, method=False, inplace=True, grad=False),
    *[row for op in ("bitwise_and", "bitwise_or", "bitwise_xor")
      for row in forms(op, [Ints(*A), Ints(*B)], inplace=True, grad=False)],
    forward_only("torch.bitwise_or.bool", lambda lib, x, y: lib.bitwise_or(x, y), [Mask(*A), Mask(*B)]),
    *forms("bitwise_not", [Ints(*A)], inplace=True, grad=False),
    forward_only("torch.bitwise_not.bool", lambda lib, x: lib.bitwise_not(x), [Mask(*A)]),
    *[row for op in ("isnan", "isinf", "isfinite")
      for row in forms(op, [Const([NAN, INF, -INF, 0.0, -1.5])], grad=False)],
    *forms("isclose", [Const([1.0, 1.0 + 1e-9, NAN, 2.0]), Const([1.0, 1.0, NAN, 2.1])], grad=False),
    OpSpec("torch.isclose.equal_nan", lambda lib, x, y: lib.isclose(x, y, equal_nan=True),
           [Const([1.0, NAN]), Const([1.0, NAN])], grad=False),
    *forms("allclose", [Const([1.0, 1.0 + 1e-9, 2.0]), Const([1.0, 1.0, 2.0])], grad=False),
    forward_only("torch.allclose.false", lambda lib, x, y: lib.allclose(x, y), [Const([1.0, 2.0]), Const([1.0, 2.1])]),
    *forms("equal", [Const([1.0, 2.0]), Const([1.0, 2.0])], grad=False),
    forward_only("torch.equal.shapes", lambda lib, x, y: lib.equal(x, y), [Const([1.0, 2.0]), Const([[1.0, 2.0]])]),
    # -- shape -----------------------------------------------------------------------------------------
    OpSpec("Tensor.view_as", lambda lib, x, y: x.view_as(y), [F(2, 6), F(3, 4, grad=False)]),
    OpSpec("Tensor.reshape_as", lambda lib, x, y: x.reshape_as(y), [F(2, 6), F(4, 3, grad=False)]),
    *forms("unflatten", [F(2, 12)], 1, (3, -1)),
    *forms("swapaxes", [F(2, 3, 4)], 0, 2),
    *forms("swapdims", [F(2, 3, 4)], -1, 1),
    OpSpec("Tensor.t_", lambda lib, x: x.clone().t_(), [F(3, 4)]),
    *forms("adjoint", [F(2, 3, 4)]),
    *forms("movedim", [F(2, 3, 4)], 0, -1),
    OpSpec("torch.movedim.tuple", lambda lib, x: lib.movedim(x, (0, 1), (2, 0)), [F(2, 3, 4)]),
    *forms("moveaxis", [F(2, 3, 4)], 2, 0),
    *forms("broadcast_to", [F(3, 1)], (2, 3, 4)),
    OpSpec("torch.broadcast_tensors", lambda lib, x, y: lib.broadcast_tensors(x, y), [F(3, 1), F(2, 1, 4)]),
    forward_only("torch.broadcast_shapes", lambda lib: tuple(lib.broadcast_shapes((3, 1), (2, 1, 4), ())), []),
    OpSpec("Tensor.squeeze_", lambda lib, x: x.clone().squeeze_(1), [F(3, 1, 4)]),
    OpSpec("Tensor.squeeze_.all", lambda lib, x: x.clone().squeeze_(), [F(1, 3, 1)]),
    OpSpec("Tensor.unsqueeze_", lambda lib, x: x.clone().unsqueeze_(-1), [F(3, 4)]),
    *forms("tile", [F(2, 3)], (2, 1, 2)),
    *forms("repeat_interleave", [F(2, 3)], 2, kwargs={"dim": 1}),
    OpSpec("torch.repeat_interleave.tensor", lambda lib, x: lib.repeat_interleave(x, lib.tensor([1, 0, 3]), dim=0),
           [F(3, 2)]),
    *forms("flip", [F(2, 3, 4)], (0, 2)),
    *forms("fliplr", [F(2, 3, 4)]),
    *forms("flipud", [F(2, 3, 4)]),
    *forms("roll", [F(3, 4)], 1, 0),
    OpSpec("Tensor.roll.flat", lambda lib, x: x.roll(-5), [F(3, 4)]),
    OpSpec("torch.roll.dims", lambda lib, x: lib.roll(x, (1, -2), (0, 1)), [F(3, 4)]),
    OpSpec("torch.concat", lambda lib, a, b: lib.concat([a, b], dim=1), [F(2, 3), F(2, 1)]),
    OpSpec("torch.concatenate", lambda lib, a, b: lib.concatenate((a, b)), [F(2, 3), F(1, 3)]),
    OpSpec("torch.cat.empty", lambda lib, a, b: lib.cat([a, b]), [F(0, 3), F(2, 3)]),
    OpSpec("torch.hstack", lambda lib, a, b: lib.hstack([a, b]), [F(2, 3), F(2, 1)]),
    OpSpec("torch.hstack.1d", lambda lib, a, b: lib.hstack([a, b]), [F(2), F(3)]),
    OpSpec("torch.vstack", lambda lib, a, b: lib.vstack([a, b]), [F(3), F(2, 3)]),
    OpSpec("torch.dstack", lambda lib, a, b: lib.dstack([a, b]), [F(2, 3), F(2, 3)]),
    OpSpec("torch.column_stack", lambda lib, a, b: lib.column_stack([a, b]), [F(3), F(3, 2)]),
    OpSpec("torch.atleast_1d", lambda lib, a: lib.atleast_1d(a), [F()]),
    OpSpec("torch.atleast_2d", lambda lib, a: lib.atleast_2d(a), [F(3)]),
    *forms("tensor_split", [F(7, 2)], 3),
    OpSpec("Tensor.tensor_split.indices", lambda lib, x: x.tensor_split([1, 4], dim=0), [F(7, 2)]),
    *forms("select", [F(3, 4)], 1, -1),
    *forms("diagonal", [F(3, 4)], 1),
    OpSpec("Tensor.diagonal.dims", lambda lib, x: x.diagonal(0, 2, 0), [F(3, 2, 4)]),
    *forms("diag", [F(3)], 1),
    OpSpec("Tensor.diag.2d", lambda lib, x: x.diag(-1), [F(3, 4)]),
    *forms("tril", [F(3, 4)], inplace=True),
    OpSpec("torch.tril.diagonal", lambda lib, x: lib.tril(x, -1), [F(2, 3, 4)]),
    *forms("triu", [F(3, 4)], 1, inplace=True),
    # -- reductions, scans, sorting ----------------------------------------------------------------------
    *forms("nansum", [Const([[NAN, 1.0, 2.0], [3.0, NAN, NAN]])], kwargs={"dim": 1}, gradcheck=False),
    OpSpec("torch.nansum.all", lambda lib, x: lib.nansum(x), [F(3, 4)]),
    OpSpec("torch.var_mean", lambda lib, x: lib.var_mean(x, dim=1), [F(3, 4)]),
    OpSpec("torch.std_mean", lambda lib, x: lib.std_mean(x, dim=0, correction=0), [F(3, 4)]),
    *forms("amax", [F(3, 4)], 1),
    *forms("amin", [F(3, 4)], (0, 1)),
    OpSpec("torch.amax.tied_maxima", lambda lib, x: lib.amax(x, 1), [TIES], gradcheck=False,
           note="tied maxima share the gradient equally"),
    OpSpec("torch.amin.tied_minima", lambda lib, x: lib.amin(x, 0), [TIES], gradcheck=False),
    *forms("aminmax", [F(3, 4)], kwargs={"dim": 1}),
    forward_only("Tensor.aminmax.all", lambda lib, x: x.aminmax(), [F(3, 4)]),
    *forms("count_nonzero", [Const([[0.0, 1.0, 2.0], [0.0, 0.0, -1.0]])], grad=False),
    OpSpec("torch.count_nonzero.dim", lambda lib, x: lib.count_nonzero(x, dim=0),
           [Const([[0.0, 1.0, 2.0], [0.0, 0.0, -1.0]])], grad=False),
    *forms("cumprod", [F(3, 4, avoid=NONZERO)], 1),
    OpSpec("torch.cumprod.zero", lambda lib, x: lib.cumprod(x, 0), [Const([2.0, 0.0, 3.0, -1.0])], gradcheck=False,
           note="a zero in the running product"),
    *forms("sort", [F(3, 4)], 1),
    OpSpec("Tensor.sort.descending", lambda lib, x: x.sort(0, descending=True), [F(3, 4)]),
    forward_only("torch.sort.stable_ties", lambda lib, x: lib.sort(x, stable=True), [Const([2.0, 1.0, 2.0, 1.0, 0.0])]),
    *forms("argsort", [F(3, 4)], kwargs={"dim": 0}, grad=False),
    forward_only("torch.argsort.stable_ties", lambda lib, x: lib.argsort(x, stable=True), [Const([2.0, 1.0, 2.0, 1.0])]),
    *forms("topk", [F(3, 5)], 2),
    OpSpec("Tensor.topk.smallest", lambda lib, x: x.topk(3, dim=0, largest=False), [F(4, 3)]),
    *forms("median", [F(3, 5)], kwargs={"dim": 1}),
    OpSpec("Tensor.median.all_even", lambda lib, x: x.median(), [F(2, 3)], note="even count: the lower middle"),
    *forms("kthvalue", [F(3, 5)], 2),
    OpSpec("Tensor.kthvalue.keepdim", lambda lib, x: x.kthvalue(1, 0, True), [F(3, 5)]),
    *forms("unique", [Const([3.0, 1.0, 3.0, 2.0, 1.0])], grad=False),
    forward_only("torch.unique.inverse_counts",
                 lambda lib, x: lib.unique(x, return_inverse=True, return_counts=True), [Ints(2, 5, low=0, high=3)]),
    # -- linear algebra -------------------------------------------------------------------------------
    OpSpec("torch.vdot", lambda lib, a, b: lib.vdot(a, b), [F(5), F(5)]),
    *forms("inner", [F(2, 4), F(3, 4)]),
    *forms("ger", [F(3), F(2)]),
    *forms("addmm", [F(3, 2), F(3, 4, low=-1, high=1), F(4, 2, low=-1, high=1)]),
    OpSpec("torch.addmm.beta_alpha", lambda lib, c, a, b: lib.addmm(c, a, b, beta=0.5, alpha=-2.0),
           [F(2), F(3, 4, low=-1, high=1), F(4, 2, low=-1, high=1)]),
    *forms("baddbmm", [F(2, 3, 2), F(2, 3, 4, low=-1, high=1), F(2, 4, 2, low=-1, high=1)]),
    # matrix functions on well-conditioned (and, for cholesky, symmetric positive definite) matrices
    *forms("det", [Const([[2.0, 0.5, 0.1], [0.3, 1.5, -0.4], [0.2, -0.1, 1.8]])]),
    *forms("logdet", [Const([[2.0, 0.5, 0.1], [0.3, 1.5, -0.4], [0.2, -0.1, 1.8]])]),
    *forms("inverse", [Const([[2.0, 0.5, 0.1], [0.3, 1.5, -0.4], [0.2, -0.1, 1.8]])]),
    *forms("pinverse", [Const([[2.0, 0.5, 0.1], [0.3, 1.5, -0.4]])]),
    # symmetrised first: cholesky reads one triangle, and finite differences perturb each element alone
    OpSpec("torch.cholesky", lambda lib, a: lib.cholesky((a + a.T) / 2),
           [Const([[4.0, 1.0, 0.5], [1.0, 3.0, 0.2], [0.5, 0.2, 2.0]])]),
    OpSpec("Tensor.cholesky", lambda lib, a: ((a + a.T) / 2).cholesky(),
           [Const([[4.0, 1.0, 0.5], [1.0, 3.0, 0.2], [0.5, 0.2, 2.0]])]),
    OpSpec("torch.slogdet", lambda lib, a: lib.slogdet(a)[1], [Const([[2.0, 0.5], [0.3, -1.5]])]),
    OpSpec("Tensor.slogdet", lambda lib, a: a.slogdet()[1], [Const([[2.0, 0.5], [0.3, -1.5]])]),
    OpSpec("torch.svd", lambda lib, a: lib.svd(a)[1], [Const([[2.0, 0.5, 0.1], [0.3, 1.5, -0.4]])]),
    OpSpec("Tensor.svd", lambda lib, a: a.svd()[1], [Const([[2.0, 0.5, 0.1], [0.3, 1.5, -0.4]])]),
    OpSpec("torch.qr", lambda lib, a: lib.qr(a)[1].abs(), [Const([[2.0, 0.5], [0.3, 1.5], [0.2, -0.4]])]),
    OpSpec("Tensor.qr", lambda lib, a: a.qr()[1].abs(), [Const([[2.0, 0.5], [0.3, 1.5], [0.2, -0.4]])]),
    *forms("trace", [F(3, 4)]),
    *forms("cross", [F(4, 3), F(4, 3)], kwargs={"dim": 1}),
    *forms("dist", [F(3, 4), F(3, 4, low=3, high=5)]),
    OpSpec("torch.dist.p1", lambda lib, a, b: lib.dist(a, b, 1), [F(3, 4), F(3, 4, low=3, high=5)]),
    OpSpec("torch.meshgrid", lambda lib, a, b: lib.stack(lib.meshgrid(a, b, indexing="ij")), [F(3), F(2)]),
    # one-hot rows make the draw certain, so both libraries must pick the same indices
    forward_only("Tensor.multinomial", lambda lib, p: p.multinomial(1),
                 [Const([[0.0, 0.0, 1.0, 0.0], [0.0, 1.0, 0.0, 0.0]])], note="random: checked on certain draws"),
    OpSpec("torch.einsum", lambda lib, a, b: lib.einsum("bij,bjk->bik", a, b), [F(2, 3, 4), F(2, 4, 2)]),
    forward_only("torch.einsum.trace", lambda lib, a: lib.einsum("ii->", a), [F(3, 3)],
                 note="no gradient in ember for a repeated subscript (it raises NotImplementedError)"),
    OpSpec("torch.einsum.implicit_ellipsis", lambda lib, a, b: lib.einsum("...ij,jk", a, b), [F(2, 3, 4), F(4, 2)]),
    OpSpec("torch.einsum.summed_alone", lambda lib, a, b: lib.einsum("ij,jk->i", a, b), [F(3, 4), F(4, 2)],
           note="k is summed in b alone: b's gradient broadcasts along it"),
    OpSpec("torch.einsum.three", lambda lib, a, b, c: lib.einsum("i,ij,j->", a, b, c), [F(3), F(3, 4), F(4)]),
    # -- indexing ---------------------------------------------------------------------------------------
    OpSpec("Tensor.scatter_", lambda lib, x, i, s: x.clone().scatter_(1, i, s),
           [F(3, 5), Perm(3, 2, dim=1, size=5), F(3, 2)]),
    OpSpec("Tensor.scatter_.value", lambda lib, x, i: x.clone().scatter_(1, i, 2.5),
           [F(3, 5), Perm(3, 2, dim=1, size=5)],
           note="without autograd, written straight into x (the one-hot idiom zeros(...).scatter_(1, ids, 1))"),
    OpSpec("torch.scatter_add", lambda lib, x, i, s: lib.scatter_add(x, 1, i, s), [F(3, 5), I(3, 4, high=5), F(3, 4)],
           note="repeated indices add up"),
    OpSpec("Tensor.scatter_add", lambda lib, x, i, s: x.scatter_add(0, i, s), [F(4, 3), I(5, 3, high=4), F(5, 3)]),
    OpSpec("Tensor.scatter_add_.dim1", lambda lib, x, i, s: x.clone().scatter_add_(1, i, s),
           [F(3, 5), I(3, 4, high=5), F(3, 4)]),
    OpSpec("torch.scatter_reduce", lambda lib, x, i, s: lib.scatter_reduce(x, 1, i, s, "sum"),
           [F(3, 5), I(3, 4, high=5), F(3, 4)]),
    OpSpec("Tensor.scatter_reduce", lambda lib, x, i, s: x.scatter_reduce(0, i, s, "prod", include_self=False),
           [F(4, 3, low=0.5, high=1.5), Perm(2, 3, dim=0, size=4), F(2, 3, low=0.5, high=1.5)]),
    OpSpec("Tensor.scatter_reduce_", lambda lib, x, i, s: x.clone().scatter_reduce_(1, i, s, "sum"),
           [F(3, 5), I(3, 4, high=5), F(3, 4)]),
    *forms("take_along_dim", [F(3, 4), I(3, 2, high=4)], kwargs={"dim": 1}),
    OpSpec("torch.take_along_dim.flat", lambda lib, x, i: lib.take_along_dim(x, i), [F(3, 4), I(5, high=12)]),
    OpSpec("torch.index_add", lambda lib, x, i, s: lib.index_add(x, 0, i, s), [F(4, 3), Const([0, 2, 0], dtype="int64"),
                                                                                F(3, 3)], note="index 0 twice"),
    OpSpec("Tensor.index_add", lambda lib, x, i, s: x.index_add(1, i, s, alpha=2.0), [F(3, 4), I(2, high=4), F(3, 2)]),
    OpSpec("Tensor.index_add_", lambda lib, x, i, s: x.clone().index_add_(0, i, s), [F(4, 3), I(5, high=4), F(5, 3)]),
    OpSpec("torch.index_fill", lambda lib, x, i: lib.index_fill(x, 1, i, -1.5), [F(3, 4), Const([0, 2], dtype="int64")]),
    OpSpec("Tensor.index_fill", lambda lib, x, i: x.index_fill(0, i, 2.0), [F(3, 4), Const([1], dtype="int64")]),
    OpSpec("Tensor.index_fill_", lambda lib, x, i: x.clone().index_fill_(1, i, 0.0), [F(3, 4), Const([3, 0], dtype="int64")]),
    OpSpec("torch.index_put", lambda lib, x, i, v: lib.index_put(x, (i,), v), [F(4, 3), Const([0, 2], dtype="int64"), F(2, 3)]),
    OpSpec("Tensor.index_put", lambda lib, x, i, v: x.index_put((i,), v, accumulate=True),
           [F(4, 3), Const([1, 1, 3], dtype="int64"), F(3, 3)], note="accumulate with a repeated index"),
    OpSpec("Tensor.index_put_", lambda lib, x, i, j, v: x.clone().index_put_((i, j), v),
           [F(4, 3), Const([0, 3], dtype="int64"), Const([2, 1], dtype="int64"), F(2)]),
    OpSpec("torch.index_put_", lambda lib, x, i, v: lib.index_put_(x.clone(), (i,), v),
           [F(4, 3), Const([2], dtype="int64"), F(3)]),
    OpSpec("Tensor.masked_fill_", lambda lib, x, m: x.clone().masked_fill_(m, -2.0), [F(3, 4), Mask(4)]),
    *forms("masked_select", [F(3, 4), Mask(4)]),
    OpSpec("torch.masked_select.none", lambda lib, x, m: lib.masked_select(x, m & False), [F(3, 4), Mask(3, 4)],
           note="empty result"),
    OpSpec("torch.masked_scatter", lambda lib, x, m, s: lib.masked_scatter(x, m, s), [F(3, 4), Mask(3, 4), F(12)]),
    OpSpec("Tensor.masked_scatter", lambda lib, x, m, s: x.masked_scatter(m, s), [F(3, 4), Mask(4), F(3, 5)]),
    OpSpec("Tensor.masked_scatter_", lambda lib, x, m, s: x.clone().masked_scatter_(m, s), [F(3, 4), Mask(3, 4), F(14)]),
    *forms("nonzero", [Const([[0.0, 1.0, 0.0], [2.0, 0.0, 3.0]])], grad=False),
    forward_only("torch.nonzero.as_tuple", lambda lib, x: lib.nonzero(x, as_tuple=True), [Const([[0.0, 1.0], [2.0, 0.0]])]),
    forward_only("torch.nonzero.empty", lambda lib, x: lib.nonzero(x), [Const([[0.0, 0.0]])]),
    *forms("argwhere", [Const([[0.0, 1.0, 0.0], [2.0, 0.0, 3.0]])], grad=False),
    *forms("take", [F(3, 4), I(2, 3, low=-12, high=12)]),
    # -- complex numbers: built from real leaves and read back as real numbers, so the gradient rows check
    # PyTorch's complex convention end to end (the real leaves get the real part of the complex gradient)
    OpSpec("torch.complex", lambda lib, x, y: lib.view_as_real(lib.complex(x, y)), [F(3, 4), F(4)],
           covers=("torch.view_as_real",), note="broadcast parts"),
    forward_only("torch.complex.raw", lambda lib, x, y: lib.complex(x, y), [F(3, 4), F(3, 4)]),
    OpSpec("torch.view_as_complex", lambda lib, x, y: lib.view_as_real(lib.view_as_complex(x) * lib.view_as_complex(y)),
           [F(3, 2), F(3, 2)], note="complex product: the gradient takes the conjugate of the other factor"),
    OpSpec("torch.polar", lambda lib, r, t: lib.view_as_real(lib.polar(r, t)), [Pos(3, 4), F(3, 4)]),
    OpSpec("torch.real", lambda lib, x, y: lib.real(lib.complex(x, y) * lib.complex(y, x)), [F(3, 4), F(3, 4)]),
    OpSpec("Tensor.real", lambda lib, x, y: (lib.complex(x, y) / lib.complex(y, x)).real,
           [F(3, 4, avoid=NONZERO), F(3, 4, avoid=NONZERO)], note="complex quotient"),
    forward_only("Tensor.real.of_real", lambda lib, x: x.real, [F(3, 4)]),
    OpSpec("torch.imag", lambda lib, x, y: lib.imag(lib.complex(x, y) * lib.complex(y, x)), [F(3, 4), F(3, 4)]),
    OpSpec("Tensor.imag", lambda lib, x, y, z: (lib.complex(x, y) / z).imag,
           [F(3, 4), F(3, 4), F(4, avoid=NONZERO)], note="complex / real: the real divisor's gradient is real"),
    OpSpec("torch.conj", lambda lib, x, y: lib.view_as_real(lib.conj(lib.complex(x, y)) * lib.complex(y, x)),
           [F(3, 4), F(3, 4)]),
    OpSpec("Tensor.conj", lambda lib, x, y: lib.view_as_real(lib.complex(x, y).conj() @ lib.complex(y, x).T),
           [F(3, 4), F(3, 4)], note="complex matmul"),
    OpSpec("Tensor.conj.of_real", lambda lib, x: x.conj() * 2, [F(3, 4)]),
    OpSpec("torch.angle", lambda lib, x, y: lib.angle(lib.complex(x, y)), [F(3, 4, avoid=NONZERO), F(3, 4)]),
    OpSpec("Tensor.angle", lambda lib, x: x.angle(), [F(3, 4, avoid=KINK0)], note="real input: 0 or pi, flat"),
    forward_only("torch.angle.int", lambda lib, x: lib.angle(x), [Ints(2, 3)]),
    *forms("resolve_conj", [F(3, 4)], note="ember's conj() is materialised: nothing to resolve"),
    OpSpec("torch.resolve_neg", lambda lib, x, y: lib.resolve_neg(lib.complex(x, y).conj().imag) * 2,
           [F(3, 4), F(3, 4)]),
    OpSpec("Tensor.resolve_neg", lambda lib, x, y: lib.complex(x, y).conj().imag.resolve_neg(), [F(3, 4), F(3, 4)]),
    forward_only("torch.is_complex", lambda lib, x: (lib.is_complex(x), lib.is_complex(lib.complex(x, x))), [F(2)]),
    forward_only("Tensor.is_complex", lambda lib, x: (x.is_complex(), lib.complex(x, x).is_complex()), [F(2)]),
    OpSpec("Tensor.abs.complex", lambda lib, x, y: lib.complex(x, y).abs(), [F(3, 4, avoid=NONZERO), F(3, 4)]),
    OpSpec("x*1j+x", lambda lib, x: lib.view_as_real(x * 1j + x), [F(3, 4)], note="a real tensor lifted by a complex number"),
    OpSpec("complex.sum.mean", lambda lib, x, y: lib.view_as_real(lib.complex(x, y).sum(0) + lib.complex(y, x).mean(1)),
           [F(3, 3), F(3, 3)]),
    OpSpec("complex.to", lambda lib, x, y: lib.view_as_real(x.to(lib.complex128 if x.dtype == lib.float64 else
                                                                  lib.complex64) * lib.complex(x, y)), [F(3, 4), F(3, 4)],
           note="a real tensor cast to complex gets the real part of the gradient"),
    # -- activations in the top namespace --------------------------------------------------------------
    OpSpec("torch.softmax", lambda lib, x: lib.softmax(x, 1), [F(3, 4)]),
    OpSpec("torch.softmax.dtype", lambda lib, x: lib.softmax(x, -1, dtype=lib.float64), [F(3, 4)]),
    OpSpec("torch.log_softmax", lambda lib, x: lib.log_softmax(x, dim=0), [F(3, 4)]),
]


# ---------------------------------------------------------------------------------------
# Reductions with a free ``dim`` / ``keepdim``, for hypothesis (test_ops_hypothesis)
# ---------------------------------------------------------------------------------------

@dataclass
class Reduction:
    name: str
    fn: Callable            # fn(lib, x, dim, keepdim); dim is None, an int or a tuple
    arg: Arg = field(default_factory=lambda: F())
    tuple_dims: bool = True  # accepts a tuple of dims
    none_dim: bool = True    # accepts dim=None (full reduction)
    grad: bool = True
    rtol: float = 1e-5
    atol: float = 1e-6


def _full_or_dim(method):
    def fn(lib, x, dim, keepdim):
        return method(x) if dim is None else method(x, dim, keepdim)
    return fn


REDUCTIONS: list[Reduction] = [
    Reduction("sum", _full_or_dim(lambda x, *a: x.sum(*a))),
    Reduction("mean", _full_or_dim(lambda x, *a: x.mean(*a))),
    Reduction("var", lambda lib, x, dim, keepdim: lib.var(x, dim=dim, keepdim=keepdim)),
    Reduction("var.correction0", lambda lib, x, dim, keepdim: x.var(dim=dim, keepdim=keepdim, correction=0)),
    Reduction("std", lambda lib, x, dim, keepdim: x.std(dim=dim, keepdim=keepdim)),
    Reduction("prod", _full_or_dim(lambda x, *a: x.prod(*a)), F(low=0.5, high=1.5), tuple_dims=False),
    Reduction("max.dim", _full_or_dim(lambda x, *a: x.max(*a)), tuple_dims=False),
    Reduction("min.dim", _full_or_dim(lambda x, *a: x.min(*a)), tuple_dims=False),
    Reduction("argmax", lambda lib, x, dim, keepdim: x.argmax(dim=dim, keepdim=keepdim),
              tuple_dims=False, grad=False),
    Reduction("argmin", lambda lib, x, dim, keepdim: lib.argmin(x, dim=dim, keepdim=keepdim),
              tuple_dims=False, grad=False),
    Reduction("all", _full_or_dim(lambda m, *a: m.all(*a)), Mask(), tuple_dims=False, grad=False),
    Reduction("any", _full_or_dim(lambda m, *a: m.any(*a)), Mask(), tuple_dims=False, grad=False),
    Reduction("norm", lambda lib, x, dim, keepdim: x.norm(dim=dim, keepdim=keepdim), F(avoid=KINK0)),
    Reduction("norm.p1", lambda lib, x, dim, keepdim: lib.norm(x, p=1, dim=dim, keepdim=keepdim), F(avoid=KINK0)),
    Reduction("logsumexp", lambda lib, x, dim, keepdim: lib.logsumexp(x, dim, keepdim=keepdim), none_dim=False),
    Reduction("cumsum", lambda lib, x, dim, keepdim: x.cumsum(dim), tuple_dims=False, none_dim=False),
]


def _check_table():
    names = [s.name for s in OPS]
    dupes = {n for n in names if names.count(n) > 1}
    assert not dupes, f"duplicate op names in the table: {sorted(dupes)}"
    rnames = [r.name for r in REDUCTIONS]
    assert len(set(rnames)) == len(rnames)


_check_table()

ELEMENTWISE = [s for s in OPS if s.kind == "elementwise"]
GRAD_OPS = [s for s in OPS if s.grad]
GRADCHECK_OPS = [s for s in OPS if s.gradcheck]
