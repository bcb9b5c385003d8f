"""ember: a small deep-learning framework on NumPy with PyTorch's API.

    import ember as torch

Tensors and autograd live in ember.tensor / ember.autograd, the ops in ember.ops (one module per
family, each op's forward beside its backward), the array backend behind ember.backend.
"""
from ember.backend.memory import keep_freed_memory as _keep_freed_memory
from ember.backend import dtypes as _dtypes
from ember.backend.dtypes import (  # noqa: F401
    dtype, uint8, int8, int16, int32, int64, float16, float32, float64,
    get_default_dtype, set_default_dtype, promote_types,
)
from ember.backend.device import device  # noqa: F401
from ember.tensor import Tensor, Size  # noqa: F401
from ember import ops as _ops
from ember.ops.elementwise import *  # noqa: F401,F403
from ember.ops.shape import *  # noqa: F401,F403
from ember.ops.reduce import *  # noqa: F401,F403
from ember.ops.linalg import *  # noqa: F401,F403
from ember.ops.index import *  # noqa: F401,F403
from ember.ops.elementwise import abs, pow, round, clamp, where  # noqa: F401  (shadow builtins on purpose)
from ember.ops.activation import softmax, log_softmax  # noqa: F401  (torch.softmax, torch.log_softmax)
from ember.ops.reduce import sum, max, min, all, any  # noqa: F401
from ember.creation import (  # noqa: F401
    tensor, as_tensor, asarray, from_numpy, zeros, ones, empty, full, zeros_like, ones_like, empty_like, full_like,
    arange, range_ as range, linspace, logspace, eye, rand, randn, rand_like, randn_like, randint, randint_like,
    randperm, normal, bernoulli, multinomial,
)
from ember.random import Generator, manual_seed, seed, initial_seed, get_rng_state, set_rng_state  # noqa: F401
from ember.random import default_generator  # noqa: F401
from ember.autograd.grad_mode import (  # noqa: F401
    no_grad, enable_grad, set_grad_enabled, inference_mode, is_grad_enabled, is_inference_mode_enabled,
)
from ember import autograd, cuda  # noqa: F401
from ember._tensor_str import set_printoptions, get_printoptions, printoptions  # noqa: F401

__version__ = "0.1.0"

_keep_freed_memory()     # training loops reuse big arrays; see ember/backend/memory.py

bool = _dtypes.bool_  # noqa: A001  (torch.bool)
float = _dtypes.float32  # noqa: A001
double = _dtypes.float64
half = _dtypes.float16
long = _dtypes.int64
int = _dtypes.int32  # noqa: A001
short = _dtypes.int16

from ember.tensor import _legacy_type  # noqa: E402
FloatTensor = _legacy_type("FloatTensor", float32)
DoubleTensor = _legacy_type("DoubleTensor", float64)
HalfTensor = _legacy_type("HalfTensor", float16)
LongTensor = _legacy_type("LongTensor", int64)
IntTensor = _legacy_type("IntTensor", int32)
ShortTensor = _legacy_type("ShortTensor", int16)
CharTensor = _legacy_type("CharTensor", int8)
ByteTensor = _legacy_type("ByteTensor", uint8)
BoolTensor = _legacy_type("BoolTensor", _dtypes.bool_)


def is_tensor(obj):
    return isinstance(obj, Tensor)


def is_floating_point(input):
    return input.is_floating_point()


def numel(input):
    return input.numel()


def clone(input, *, memory_format=None):
    return input.clone()


def detach(input):
    return input.detach()


def result_type(tensor1, tensor2):
    return _dtypes.result_type(tensor1, tensor2)


def can_cast(from_, to):
    return from_._kind <= to._kind


def set_num_threads(n):
    """The number of threads ember's ops use (its worker pool; NumPy's BLAS is kept single-threaded and
    big matrix multiplies are split between these threads instead -- see ember/backend/threads.py)."""
    from ember.backend import threads
    threads.set_threads(n)


def get_num_threads():
    from ember.backend import threads
    return threads.get_threads()


def use_deterministic_algorithms(mode, *, warn_only=False):
    pass  # every ember op is deterministic already


# torch.nn, torch.optim, torch.save ... are there after `import torch`. Here they load on first use,
# so that a program using only tensors does not pay for importing the layers, optimizers and I/O.
_LAZY_MODULES = {"nn", "optim", "utils", "distributions", "vision", "distributed"}
_LAZY_ATTRS = {"save": "ember.serialization", "load": "ember.serialization", "summary": "ember._summary"}


def __getattr__(name):
    import importlib
    if name in _LAZY_MODULES:
        value = importlib.import_module("ember." + name)
    elif name in _LAZY_ATTRS:
        value = getattr(importlib.import_module(_LAZY_ATTRS[name]), name)
    else:
        raise AttributeError(f"module 'ember' has no attribute '{name}'")
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | _LAZY_MODULES | set(_LAZY_ATTRS))
