"""Activation functions and (log-)softmax, each a fused op with its derivative beside it."""
import math

import numpy as np

from ember.autograd.function import Function
from ember.tensor import Tensor
from ember.ops.shape import wrap_dim
from ember.ops.elementwise import where, _float_input


def _softmax_dim(ndim, dim, name):
    if dim is None:
        # PyTorch's legacy implicit choice, with its warning
        import warnings
        warnings.warn(f"Implicit dimension choice for {name} has been deprecated. Change the call to include "
                      f"dim=X as an argument.", stacklevel=3)
        dim = 0 if ndim in (0, 1, 3) else 1
    return wrap_dim(dim, ndim)


class Softmax(Function):
    save_output = True

    def forward(self, a, dim):
        self.dim = dim
        with np.errstate(over="ignore", invalid="ignore"):  # ±3e38 inputs: inf-inf is PyTorch's nan, silently
            e = np.exp(a - np.max(a, axis=dim, keepdims=True)) if a.size else a.copy()
            e /= np.sum(e, axis=dim, keepdims=True)
        return e

    def backward(self, grad):
        y = self.output
        return y * (grad - (grad * y).sum(self.dim, keepdim=True))


class LogSoftmax(Function):
    save_output = True

    def forward(self, a, dim):
        self.dim = dim
        if not a.size:
            return a.copy()
        with np.errstate(over="ignore", invalid="ignore"):
            shifted = a - np.max(a, axis=dim, keepdims=True)
            shifted -= np.log(np.sum(np.exp(shifted), axis=dim, keepdims=True))
        return shifted

    def backward(self, grad):
        y = self.output
        return grad - y.exp() * grad.sum(self.dim, keepdim=True)


def softmax(input, dim=None, _stacklevel=3, dtype=None):
    if dtype is not None:
        input = input.to(dtype)
    input = _float_input(input)
    return Softmax.apply(input, dim=_softmax_dim(input.ndim, dim, "softmax"))


def log_softmax(input, dim=None, _stacklevel=3, dtype=None):
    if dtype is not None:
        input = input.to(dtype)
    input = _float_input(input)
    return LogSoftmax.apply(input, dim=_softmax_dim(input.ndim, dim, "log_softmax"))


def softmin(input, dim=None, _stacklevel=3, dtype=None):
    return softmax(-input, dim, dtype=dtype)


class LeakyRelu(Function):
    save = (0,)

    def forward(self, a, slope):
        self.slope = slope
        return np.where(a > 0, a, a * a.dtype.type(slope))

    def backward(self, grad):
        (a,) = self.saved_tensors
        return where(a > 0, grad, grad * self.slope)


def leaky_relu(input, negative_slope=0.01, inplace=False):
    if inplace:
        return input._inplace(leaky_relu, negative_slope)
    return LeakyRelu.apply(input, slope=negative_slope)


class Elu(Function):
    save = (0,)
    save_output = True

    def forward(self, a, alpha):
        self.alpha = alpha
        return np.where(a > 0, a, alpha * np.expm1(np.minimum(a, 0))).astype(a.dtype, copy=False)

    def backward(self, grad):
        (a,) = self.saved_tensors
        return where(a > 0, grad, grad * (self.output + self.alpha))


def elu(input, alpha=1.0, inplace=False):
    if inplace:
        return input._inplace(elu, alpha)
    return Elu.apply(input, alpha=alpha)


def _erf(x):
    """Error function on arrays. NumPy has none: float64 uses math.erf element by element (exact),
    other dtypes a rational approximation with |error| < 1.2e-7 (Numerical Recipes' erfc)."""
    if x.dtype == np.float64:
        return np.vectorize(math.erf, otypes=[np.float64])(x)
    z = np.abs(x).astype(np.float64)
    t = 1.0 / (1.0 + 0.5 * z)
    poly = -z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (
        -0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))))))
    erfc = t * np.exp(poly)
    return (np.sign(x) * (1.0 - erfc)).astype(x.dtype)


class Gelu(Function):
    save = (0,)

    def forward(self, a, approximate):
        self.approximate = approximate
        if approximate == "tanh":
            inner = math.sqrt(2 / math.pi) * (a + 0.044715 * a ** 3)
            return (0.5 * a * (1 + np.tanh(inner))).astype(a.dtype, copy=False)
        return (a * 0.5 * (1.0 + _erf(a / math.sqrt(2.0)))).astype(a.dtype, copy=False)

    def backward(self, grad):
        (a,) = self.saved_tensors
        x = a._data
        if self.approximate == "tanh":
            k = math.sqrt(2 / math.pi)
            inner = k * (x + 0.044715 * x ** 3)
            th = np.tanh(inner)
            d = 0.5 * (1 + th) + 0.5 * x * (1 - th * th) * k * (1 + 3 * 0.044715 * x * x)
        else:
            cdf = 0.5 * (1.0 + _erf(x / math.sqrt(2.0)))
            pdf = np.exp(-0.5 * x * x) / math.sqrt(2 * math.pi)
            d = cdf + x * pdf
        return grad * Tensor._make(d.astype(x.dtype, copy=False))


def gelu(input, approximate="none"):
    if approximate not in ("none", "tanh"):
        raise RuntimeError(f"approximate argument must be either none or tanh.")
    return Gelu.apply(input, approximate=approximate)


class Silu(Function):
    save = (0,)

    def forward(self, a):
        with np.errstate(over="ignore"):
            return a / (1 + np.exp(-a))

    def backward(self, grad):
        (a,) = self.saved_tensors
        s = a.sigmoid()
        return grad * s * (1 + a * (1 - s))


def silu(input, inplace=False):
    if inplace:
        return input._inplace(silu)
    return Silu.apply(input)


class Softplus(Function):
    save = (0,)

    def forward(self, a, beta, threshold):
        self.beta, self.threshold = beta, threshold
        bx = a * beta
        return np.where(bx > threshold, a, np.log1p(np.exp(np.minimum(bx, threshold))) / beta).astype(a.dtype)

    def backward(self, grad):
        (a,) = self.saved_tensors
        bx = a * self.beta
        return where(bx > self.threshold, grad, grad * bx.sigmoid())


def softplus(input, beta=1.0, threshold=20.0):
    return Softplus.apply(input, beta=beta, threshold=threshold)


class Hardtanh(Function):
    save = (0,)

    def forward(self, a, lo, hi):
        self.lo, self.hi = lo, hi
        return np.clip(a, lo, hi)

    def backward(self, grad):
        (a,) = self.saved_tensors
        return grad * ((a > self.lo) & (a < self.hi))


def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):
    if inplace:
        return input._inplace(hardtanh, min_val, max_val)
    return Hardtanh.apply(input, lo=min_val, hi=max_val)


def relu6(input, inplace=False):
    return hardtanh(input, 0.0, 6.0, inplace)


def hardsigmoid(input, inplace=False):
    return relu6(input + 3) / 6


def hardswish(input, inplace=False):
    return input * relu6(input + 3) / 6


def mish(input, inplace=False):
    return input * softplus(input).tanh()


def logsigmoid(input):
    return -softplus(-input)


def tanhshrink(input):
    return input - input.tanh()


def softsign(input):
    return input / (1 + input.abs())


def prelu(input, weight):
    w = weight
    if input.ndim >= 2 and weight.numel() > 1:
        w = weight.reshape([1, -1] + [1] * (input.ndim - 2))
    return where(input > 0, input, input * w)


def glu(input, dim=-1):
    a, b = input.chunk(2, dim)
    return a * b.sigmoid()


def normalize(input, p=2.0, dim=1, eps=1e-12):
    denom = input.norm(p, dim, keepdim=True).clamp_min(eps).expand_as(input)
    return input / denom
