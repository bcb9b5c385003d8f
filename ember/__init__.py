"""ember: a small deep-learning framework on NumPy with PyTorch's API.

    import ember as torch

Tensors and autograd live in ember.tensor / ember.autograd, the ops in ember.ops (one module per
family, each op's forward beside its backward), the array backend behind ember.backend.
"""
from ember.backend.process import apply_at_import as _apply_process_settings
from builtins import bool as _builtin_bool
from ember.backend import dtypes as _dtypes
from ember.backend.dtypes import (  # noqa: F401
    dtype, uint8, int8, int16, int32, int64, float16, float32, float64,
    get_default_dtype, set_default_dtype, promote_types,
)
from ember.backend.device import device  # noqa: F401
from ember.tensor import Tensor, Size  # noqa: F401
from ember.ops import registry as _registry
globals().update(_registry.exported())  # the ops: add, exp, cat, sum ... (one table, ember/ops/registry.py)
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
from ember._tensor_str import set_printoptions  # noqa: F401

__version__ = "0.1.0"

_apply_process_settings()   # every process-wide setting ember makes: ember/backend/process.py

bfloat16 = _dtypes.bfloat16     # computing in it needs the optional ml_dtypes package
bool = _dtypes.bool_  # noqa: A001  (torch.bool)
float = _dtypes.float32  # noqa: A001
double = _dtypes.float64
half = _dtypes.float16
long = _dtypes.int64
int = _dtypes.int32  # noqa: A001
short = _dtypes.int16
complex64 = cfloat = _dtypes.complex64
complex128 = cdouble = _dtypes.complex128

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


import math as _math  # noqa: E402
pi = _math.pi
e = _math.e
inf = _math.inf
nan = _math.nan


def set_default_tensor_type(t):
    """Deprecated in PyTorch (with this warning): the default floating dtype from a tensor type."""
    import warnings
    warnings.warn("torch.set_default_tensor_type() is deprecated as of PyTorch 2.1, please use "
                  "torch.set_default_dtype() and torch.set_default_device() as alternatives.", stacklevel=2)
    if isinstance(t, str):
        from ember.tensor import _dtype_from_type_string
        d = _dtype_from_type_string(t)
    else:
        d = getattr(t, "dtype", None)
        if d is None:
            raise TypeError(f"invalid type object: {t!r}")
    if not d.is_floating_point:
        raise TypeError("only floating-point types are supported as the default type")
    set_default_dtype(d)








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
    """The number of threads ember's ops use (its worker pool; by default NumPy's BLAS is kept single-threaded
    and big matrix multiplies are split between these threads instead -- see ember/backend/threads.py)."""
    from ember.backend import threads
    if isinstance(n, _builtin_bool) or not hasattr(n, "__index__"):
        raise RuntimeError(f"set_num_threads expects an int, but got {type(n).__name__}")
    n = n.__index__()
    if n <= 0:
        raise RuntimeError("set_num_threads expects a positive integer")
    threads.set_threads(n)


def get_num_threads():
    from ember.backend import threads
    return threads.get_threads()


def use_deterministic_algorithms(mode, *, warn_only=False):
    """Results independent of the thread count too (they never depend on timing or on what ran before):
    big matrix multiplies are cut at fixed places and routes chosen as on one thread; see
    ember/backend/threads.py, and bench/README.md for what it costs."""
    import builtins
    if not isinstance(mode, builtins.bool):       # `bool` here is ember.bool, the dtype
        raise TypeError(f"_set_deterministic_algorithms(): argument 'mode' (position 1) must be bool, not "
                        f"{type(mode).__name__}")
    if not isinstance(warn_only, builtins.bool):
        raise TypeError(f"_set_deterministic_algorithms(): argument 'warn_only' must be bool, not "
                        f"{type(warn_only).__name__}")
    from ember.backend import threads
    threads.set_deterministic(mode, warn_only)


def are_deterministic_algorithms_enabled():
    from ember.backend import threads
    return threads.is_deterministic()


def is_deterministic_algorithms_warn_only_enabled():
    from ember.backend import threads
    return threads.is_deterministic_warn_only()


# The public namespace: what is written above, plus the ops of the registry. Nothing else is public
# (tests/test_namespace.py checks each name against torch's).
__all__ = [
    "dtype", "uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64",
    "bool", "float", "double", "half", "long", "int", "short",
    "get_default_dtype", "set_default_dtype", "promote_types", "result_type", "can_cast",
    "device", "Tensor", "Size",
    "FloatTensor", "DoubleTensor", "HalfTensor", "LongTensor", "IntTensor", "ShortTensor", "CharTensor",
    "ByteTensor", "BoolTensor",
    "tensor", "as_tensor", "asarray", "from_numpy", "zeros", "ones", "empty", "full", "zeros_like", "ones_like",
    "empty_like", "full_like", "arange", "range", "linspace", "logspace", "eye", "rand", "randn", "rand_like",
    "randn_like", "randint", "randint_like", "randperm", "normal", "bernoulli", "multinomial",
    "Generator", "manual_seed", "seed", "initial_seed", "get_rng_state", "set_rng_state", "default_generator",
    "no_grad", "enable_grad", "set_grad_enabled", "inference_mode", "is_grad_enabled",
    "is_inference_mode_enabled", "autograd", "cuda",
    "is_tensor", "is_floating_point", "numel", "clone", "detach",
    "set_num_threads", "get_num_threads", "use_deterministic_algorithms", "are_deterministic_algorithms_enabled",
    "is_deterministic_algorithms_warn_only_enabled", "set_printoptions",
    "save", "load", "pi", "e", "inf", "nan", "set_default_tensor_type", "linalg", "testing", "distributed",
    "complex64", "complex128", "cfloat", "cdouble",
] + list(_registry.exported())


# torch.nn, torch.optim, torch.save ... are there after `import torch`. Here they load on first use,
# so that a program using only tensors does not pay for importing the layers, optimizers and I/O.
_LAZY_MODULES = {"nn", "optim", "utils", "distributions", "vision", "distributed", "linalg", "testing"}
_LAZY_MODULES |= {"accelerator", "amp", "backends", "cpu", "multiprocessing", "onnx", "profiler"}
_LAZY_ATTRS = {"save": "ember.serialization", "load": "ember.serialization", "summary": "ember._summary"}
_LAZY_ATTRS.update({"autocast": "ember.amp", "is_autocast_enabled": "ember.amp", "get_autocast_dtype": "ember.amp",
                    "set_autocast_enabled": "ember.amp", "set_autocast_dtype": "ember.amp",
                    "get_float32_matmul_precision": "ember.backends.cuda",
                    "set_float32_matmul_precision": "ember.backends.cuda"})


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
