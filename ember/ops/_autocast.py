"""What ops do inside an enabled torch.autocast("cpu") region, as PyTorch's CPU autocast policy says:

* matrix products and convolutions (`lower_precision`) cast their float32 inputs to the region's dtype
  (bfloat16 by default) and compute in it;
* losses (`full_precision`) cast bfloat16/float16 inputs to float32;
* every other op computes in its inputs' dtype.

The casts are ordinary differentiable ops, so gradients flow back to the float32 parameters in float32.
The region's dtype is thread-local, as in PyTorch; ember.amp.autocast sets it. Outside a region the
decorated functions cost one attribute read.
"""
import functools
import threading

from ember.backend import dtypes as _dt


class _State(threading.local):
    cpu_dtype = None     # the dtype of the enabled CPU autocast region this thread is in, or None


state = _State()


def _cast_all(args, kwargs, want, source):
    from ember.tensor import Tensor
    from ember.ops.elementwise import cast

    def one(x):
        return cast(x, want) if isinstance(x, Tensor) and x.dtype in source else x
    return [one(a) for a in args], {k: one(v) for k, v in kwargs.items()}


def lower_precision(fn):
    @functools.wraps(fn)
    def autocast_lower(*args, **kwargs):
        d = state.cpu_dtype
        if d is None:
            return fn(*args, **kwargs)
        args, kwargs = _cast_all(args, kwargs, d, (_dt.float32,))     # float64 is left alone, as in PyTorch
        return fn(*args, **kwargs)
    return autocast_lower


def full_precision(fn):
    @functools.wraps(fn)
    def autocast_full(*args, **kwargs):
        if state.cpu_dtype is None:
            return fn(*args, **kwargs)
        args, kwargs = _cast_all(args, kwargs, _dt.float32, (_dt.float16, _dt.bfloat16))
        return fn(*args, **kwargs)
    return autocast_full
