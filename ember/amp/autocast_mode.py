"""torch.amp.autocast: a region in which some ops may run in a lower-precision float type.

The region's state (enabled, dtype, per device type) is kept, nested and read back exactly as PyTorch
keeps it, with PyTorch's warnings when a region cannot be enabled (CUDA regions on a machine without
CUDA, unsupported dtypes). ember itself does not lower the precision of any op inside an enabled CPU
region: results stay in the inputs' dtype (see the README's differences from PyTorch).
"""
import functools
import threading
import warnings

from ember.backend import dtypes as _dt
from ember.backend.device import device as _device
from ember.ops import _autocast as _policy

# PyTorch's defaults: float16 on accelerators, bfloat16 on the CPU
_DEFAULT_DTYPE = {"cpu": "bfloat16"}
_AVAILABLE = ("cpu", "cuda", "mps", "xpu", "hpu", "mtia", "maia", "xla")


class _State(threading.local):
    # autocast state is thread-local in PyTorch too
    def __init__(self):
        self.enabled = {}
        self.dtype = {}
        self.cache_enabled = True
        self.lowering = True      # False inside a bfloat16 region when ml_dtypes is missing


_state = _State()


def _check_device_type(device_type):
    _device(device_type)  # PyTorch's RuntimeError for an unknown device string
    if device_type not in _AVAILABLE:
        raise RuntimeError(f"User specified an unsupported autocast device_type '{device_type}'")


def _reduced(name):
    return getattr(_dt, name)


def is_autocast_available(device_type):
    return device_type in _AVAILABLE


def is_autocast_enabled(device_type=None):
    """With no argument: whether a CUDA region is enabled (PyTorch's legacy meaning)."""
    return _state.enabled.get("cuda" if device_type is None else device_type, False)


def _sync_cpu_policy():
    """Tell the ops (ember/ops/_autocast.py) which dtype an enabled CPU region computes in."""
    on = _state.enabled.get("cpu", False) and _state.lowering
    _policy.state.cpu_dtype = get_autocast_dtype("cpu") if on else None


def set_autocast_enabled(device_type, enabled=None):
    if enabled is None:  # set_autocast_enabled(enabled): the legacy CUDA form
        device_type, enabled = "cuda", device_type
    _state.enabled[device_type] = bool(enabled)
    _sync_cpu_policy()


def get_autocast_dtype(device_type):
    _check_device_type(device_type)
    d = _state.dtype.get(device_type)
    if d is None:
        return _reduced(_DEFAULT_DTYPE.get(device_type, "float16"))
    return d


def set_autocast_dtype(device_type, dtype):
    _state.dtype[device_type] = dtype
    _sync_cpu_policy()


def is_autocast_cache_enabled():
    return _state.cache_enabled


class autocast:
    """torch.amp.autocast(device_type, dtype=None, enabled=True, cache_enabled=None): a context manager
    and a decorator."""

    def __init__(self, device_type, dtype=None, enabled=True, cache_enabled=None):
        if not isinstance(device_type, str):
            raise ValueError(f"Expected `device_type` of type `str`, got: `{type(device_type)}`")
        self.fast_dtype = get_autocast_dtype(device_type) if dtype is None else dtype
        self.device = device_type
        self._cache_enabled = is_autocast_cache_enabled() if cache_enabled is None else cache_enabled
        if enabled:
            if device_type == "cuda":
                # the message PyTorch gives on a machine without CUDA
                warnings.warn("CUDA is not available or torch_xla is imported. Disabling autocast.", stacklevel=2)
                enabled = False
            elif self.fast_dtype not in (_reduced("bfloat16"), _dt.float16):
                name = device_type.upper()
                warnings.warn(f"In {name} autocast, but the target dtype is not supported. Disabling autocast.\n"
                              f"{name} Autocast only supports dtypes of torch.bfloat16, torch.float16 currently.",
                              stacklevel=2)
                enabled = False
        self._enabled = enabled
        self._lowering = True
        if enabled and device_type == "cpu" and self.fast_dtype is _reduced("bfloat16"):
            try:
                self.fast_dtype.np
            except TypeError as e:
                warnings.warn(f"{e}; ops inside this autocast region compute in float32", stacklevel=2)
                self._lowering = False

    def __enter__(self):
        self.prev = is_autocast_enabled(self.device)
        self.prev_lowering = _state.lowering
        _state.lowering = self._lowering
        self.prev_fastdtype = get_autocast_dtype(self.device)
        self.prev_cache_enabled = _state.cache_enabled
        _state.cache_enabled = self._cache_enabled
        set_autocast_enabled(self.device, self._enabled)
        set_autocast_dtype(self.device, self.fast_dtype)
        return self

    def __exit__(self, exc_type, exc_val, exc_tb):
        _state.lowering = self.prev_lowering
        set_autocast_enabled(self.device, self.prev)
        set_autocast_dtype(self.device, self.prev_fastdtype)
        _state.cache_enabled = self.prev_cache_enabled
        return False

    def __call__(self, func):
        @functools.wraps(func)
        def decorate_autocast(*args, **kwargs):
            with self:
                return func(*args, **kwargs)
        return decorate_autocast


def custom_fwd(fwd=None, *, device_type, cast_inputs=None):
    """torch.amp.custom_fwd for a custom autograd Function's forward: runs it as is (ember computes in
    the inputs' dtype in every region)."""
    if fwd is None:
        return functools.partial(custom_fwd, device_type=device_type, cast_inputs=cast_inputs)
    return fwd


def custom_bwd(bwd=None, *, device_type):
    if bwd is None:
        return functools.partial(custom_bwd, device_type=device_type)
    return bwd
