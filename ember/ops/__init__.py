"""ember's ops, one module per family; each op's forward and backward sit side by side.

This module also gives Tensor its methods: `x.exp()` is `ember.exp(x)`, and `x.exp_()` writes the
result back into x's storage.
"""
import numpy as np

from ember.ops import elementwise, shape, reduce, linalg, index  # noqa: F401
from ember.tensor import Tensor

# Tensor methods that are the function of the same name with the tensor as first argument
_METHODS = {
    elementwise: """add sub subtract mul multiply div divide true_divide floor_divide remainder fmod pow
        float_power square maximum minimum fmax fmin neg negative abs absolute exp exp2 expm1 log log2 log10
        log1p sqrt rsqrt reciprocal sin cos tan tanh sigmoid atan arctan asin arcsin acos arccos sinh cosh
        frac relu floor ceil trunc fix round sign sgn clamp clip clamp_min clamp_max lerp eq ne not_equal lt
        less le less_equal gt greater ge greater_equal logical_and logical_or logical_xor logical_not
        bitwise_and bitwise_or bitwise_xor bitwise_not isnan isinf isfinite isclose allclose equal
        nan_to_num""",
    shape: """reshape view view_as reshape_as flatten unflatten permute transpose swapaxes swapdims t
        adjoint movedim moveaxis expand expand_as broadcast_to squeeze unsqueeze repeat tile
        repeat_interleave flip fliplr flipud roll split chunk tensor_split narrow select unbind diagonal
        diag tril triu""",
    reduce: """sum mean nansum var std prod max min amax amin aminmax argmax argmin all any count_nonzero
        norm logsumexp cumsum cumprod sort argsort topk median kthvalue unique""",
    linalg: "matmul mm mv dot inner bmm outer ger addmm",
    index: """gather scatter scatter_add scatter_reduce take_along_dim index_select index_add index_fill
        masked_fill masked_select masked_scatter nonzero argwhere take index_put""",
}

# in-place variants: x.add_(y) computes add(x, y) and writes it into x
_INPLACE = """add sub mul div pow floor_divide remainder fmod neg abs exp expm1 log log2 log10 log1p sqrt
    rsqrt reciprocal sin cos tan tanh sigmoid atan asin acos frac relu floor ceil trunc round sign clamp clip
    clamp_min clamp_max lerp logical_and logical_or logical_xor logical_not bitwise_and bitwise_or
    bitwise_xor bitwise_not nan_to_num square eq ne lt le gt ge masked_fill index_fill index_add scatter
    scatter_add scatter_reduce masked_scatter index_put tril triu"""


def _bind_methods():
    for module, names in _METHODS.items():
        for name in names.split():
            if not hasattr(Tensor, name):
                setattr(Tensor, name, getattr(module, name))
    for name in _INPLACE.split():
        fn = _lookup(name)
        setattr(Tensor, name + "_", _make_inplace(fn, name + "_"))
    Tensor.rsub = elementwise.rsub
    # operators go straight to the op functions: one Python call less on every arithmetic expression
    Tensor.__add__ = Tensor.__radd__ = elementwise.add
    Tensor.__mul__ = Tensor.__rmul__ = elementwise.mul
    Tensor.__sub__ = elementwise.sub
    Tensor.__truediv__ = elementwise.div
    Tensor.__pow__ = elementwise.pow
    Tensor.where = lambda self, condition, other: elementwise.where(condition, self, other)
    Tensor.absolute_ = Tensor.abs_
    Tensor.negative_ = Tensor.neg_


def _lookup(name):
    for module in _METHODS:
        if hasattr(module, name):
            return getattr(module, name)
    raise AttributeError(name)


def _make_inplace(fn, name):
    def method(self, *args, **kwargs):
        return self._inplace(fn, *args, **kwargs)
    method.__name__ = name
    method.__doc__ = f"In-place version of {fn.__name__}: writes the result into this tensor."
    return method


def _unsqueeze_(self, dim):
    self._data = self._data.reshape(unsqueeze(self, dim).shape)
    return self


def _squeeze_(self, dim=None):
    self._data = self._data.reshape(squeeze(self, dim).shape)
    return self


def _t_(self):
    self._data = self._data.T
    return self


from ember.ops.shape import unsqueeze, squeeze  # noqa: E402

_bind_methods()
Tensor.unsqueeze_ = _unsqueeze_
Tensor.squeeze_ = _squeeze_
Tensor.t_ = _t_
Tensor.resize_ = lambda self, *size: _resize_(self, *size)


def _resize_(self, *size):
    from ember.creation import shape_arg
    shape = shape_arg(size)
    n = 1
    for s in shape:
        n *= s
    flat = self._data.reshape(-1)
    data = flat[:n] if flat.size >= n else np.concatenate([flat, np.zeros(n - flat.size, flat.dtype)])
    self._data = data.reshape(shape).copy()
    return self


def _multinomial(self, num_samples, replacement=False, *, generator=None):
    from ember.creation import multinomial
    return multinomial(self, num_samples, replacement, generator=generator)


Tensor.multinomial = _multinomial   # x.multinomial(n): the sampling step of the language models' generators
