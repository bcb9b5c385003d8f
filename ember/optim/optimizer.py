"""Optimizer: the base class of every ember optimizer, with torch.optim.Optimizer's behaviour.

Parameter groups, per-parameter state, state_dict/load_state_dict, zero_grad, step hooks and the
printed form follow PyTorch 2.x exactly.  The optimizers themselves (sgd.py, adam.py, ...) do their
updates in place on the NumPy storage of the parameters (``p._data``), which is what PyTorch's
single-tensor CPU path does on its storage.
"""
import functools
import warnings
import weakref
from collections import OrderedDict, defaultdict
from collections.abc import Iterable
from copy import deepcopy
from itertools import chain

import numpy as np

from ember.tensor import Tensor
from ember.utils.hooks import RemovableHandle
from ember.backend import dtypes as _dt
from ember.backend.blas import ALIGN, axpy
from ember.autograd.grad_mode import _GradState, enable_grad

__all__ = ["Optimizer", "register_optimizer_step_pre_hook", "register_optimizer_step_post_hook"]


# -- small pieces PyTorch keeps in torch.utils / torch.optim.optimizer ----------------------------
class _RequiredParameter:
    """Singleton class representing a required parameter for an Optimizer."""

    def __repr__(self):
        return "<required parameter>"


required = _RequiredParameter()

_global_optimizer_pre_hooks = OrderedDict()
_global_optimizer_post_hooks = OrderedDict()


def register_optimizer_step_pre_hook(hook):
    """Register a pre hook common to all optimizers: ``hook(optimizer, args, kwargs) -> None or (args, kwargs)``."""
    handle = RemovableHandle(_global_optimizer_pre_hooks)
    _global_optimizer_pre_hooks[handle.id] = hook
    return handle


def register_optimizer_step_post_hook(hook):
    """Register a post hook common to all optimizers: ``hook(optimizer, args, kwargs) -> None``."""
    handle = RemovableHandle(_global_optimizer_post_hooks)
    _global_optimizer_post_hooks[handle.id] = hook
    return handle


def typename(obj):
    """torch.typename."""
    if isinstance(obj, Tensor):
        return obj.type()
    module = getattr(obj, "__module__", "") or ""
    if hasattr(obj, "__qualname__"):
        qualname = obj.__qualname__
    elif hasattr(obj, "__name__"):
        qualname = obj.__name__
    else:
        module = obj.__class__.__module__ or ""
        qualname = obj.__class__.__qualname__
    if module in {"", "builtins"}:
        return qualname
    return f"{module}.{qualname}"


def _to_scalar(x):
    """A 1-element hyperparameter tensor becomes 0-d; anything else is kept as is."""
    if isinstance(x, Tensor) and x.dim() != 0:
        return x.squeeze()
    return x


def _to_float(x):
    """A hyperparameter (Python number or 1-element tensor) as a Python number for the update math."""
    return x.item() if isinstance(x, Tensor) else x


def _get_value(x):
    return x.item() if isinstance(x, Tensor) else x


def _get_scalar_dtype(is_fused=None):
    if is_fused:
        return _dt.float32
    return _dt.float64 if _dt.get_default_dtype() is _dt.float64 else _dt.float32


def _new_step(value=0.0):
    """The per-parameter 'step' counter: a 0-d float tensor on the CPU, as in PyTorch."""
    return Tensor._make(np.array(value, dtype=_get_scalar_dtype().np))


def _restore_groups(optimizer, **flags):
    """__setstate__ of an optimizer pickled by an older version: each group gets the flags it lacks, and
    a step kept as a number becomes a step tensor (what PyTorch's optimizers do one by one)."""
    for group in optimizer.param_groups:
        for name, value in flags.items():
            group.setdefault(name, value)
        for p in group["params"]:
            p_state = optimizer.state.get(p, [])
            if len(p_state) != 0 and not isinstance(p_state["step"], Tensor):
                p_state["step"] = _new_step(float(p_state["step"]))


def _capturable_check(params, optimizer_name=None):
    # PyTorch's single-tensor path asserts that capturable params live on a graph-capturable device;
    # ember only has the CPU, so capturable=True fails exactly as it does for CPU tensors in PyTorch.
    if params:
        raise AssertionError("If capturable=True, params and state_steps must be on supported devices: "
                             "['cuda', 'xpu', 'hpu', 'privateuseone', 'xla'].")


def _check_not_differentiable(differentiable):
    if differentiable:
        raise NotImplementedError("ember's optimizers update the parameters in place outside autograd; "
                                  "differentiable=True is not supported")


def _check_fused_foreach(fused, foreach, differentiable):
    if fused:
        if differentiable:
            raise RuntimeError("`fused` does not support `differentiable`")
        if foreach:
            raise RuntimeError("`fused` and `foreach` cannot be `True` together.")


def _use_grad_for_differentiable(func):
    """Runs ``step`` with grad mode set to the optimizer's ``differentiable`` flag (off, in ember)."""

    def _use_grad(*args, **kwargs):
        self = args[0]
        prev = _GradState.enabled
        try:
            _GradState.enabled = bool(self.defaults["differentiable"])
            return func(*args, **kwargs)
        finally:
            _GradState.enabled = prev

    functools.update_wrapper(_use_grad, func)
    return _use_grad


# -- helpers the optimizers share: in-place NumPy arithmetic in PyTorch's operation order ---------
def _lerp_(start, end, weight, scratch=None):
    """start.lerp_(end, weight) with PyTorch's formula (the branch depends on |weight| < 0.5)."""
    t = np.subtract(end, start, out=scratch if scratch is not None else np.empty_like(start))
    w = start.dtype.type(weight)
    if abs(w) < 0.5:
        np.multiply(t, w, out=t)
        np.add(start, t, out=start)
    else:
        np.multiply(t, start.dtype.type(1) - w, out=t)
        np.subtract(end, t, out=start)
    return t


def _decayed_grad(p, g, weight_decay, maximize):
    """grad = (-g if maximize else g) + weight_decay * param, as PyTorch's `grad.add(param, alpha=wd)`
    (one rounding: ember/backend/blas.py), and whether that is a new array the step owns (and may
    overwrite) rather than g itself."""
    if weight_decay != 0:
        d = np.negative(g, out=np.empty_like(g)) if maximize else g.copy()
        return axpy(weight_decay, p, d), True
    if maximize:
        return np.negative(g, out=np.empty_like(g)), True
    return g, False


_VALUE_NAMES = {"lr": "learning rate", "eps": "epsilon value"}


def _check_nonnegative(**values):
    """PyTorch's hyper-parameter checks, in the order given: a Tensor lr must have one element, and each
    value must be >= 0 (NaN fails too): "Invalid learning rate: -1", "Invalid momentum value: -1"."""
    for name, value in values.items():
        if name == "lr" and isinstance(value, Tensor) and value.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 <= value:
            raise ValueError(f"Invalid {_VALUE_NAMES.get(name, name + ' value')}: {value}")


def _check_betas(betas):
    """PyTorch's check of Adam-family betas: each in [0, 1)."""
    for i, beta in enumerate(betas):
        if not 0.0 <= beta < 1.0:
            raise ValueError(f"Invalid beta parameter at index {i}: {beta}")


# elements per update call: the passes over a block run in cache, not memory. On one thread a smaller
# block (its four or so arrays fit a core's L2) wins; with two, fewer calls do (bench/README.md, "Measured
# reasons behind code paths")
_BLOCK = 1 << 17
_BLOCK_ONE_THREAD = 1 << 15
assert _BLOCK % ALIGN == _BLOCK_ONE_THREAD % ALIGN == 0


def _cut(n, t, parts):
    """Where part t of n elements in `parts` parts starts: at a multiple of ALIGN, so that the same elements
    reach BLAS's vector loop (and its scalar tail) whatever the number of parts (ember/backend/blas.py)."""
    return n if t == parts else (n * t // parts) // ALIGN * ALIGN


def _in_slices(arrays, update, blocks=(_BLOCK_ONE_THREAD, _BLOCK)):
    """Run update(i, views) for every parameter i, where views are flat slices of that parameter's arrays
    (param, grad, state, ... as listed in arrays[i]), the elements split between ember's threads.

    An optimizer step is a dozen memory-bound passes over every parameter (Adam on ResNet-18: 11M
    elements); NumPy runs each pass on one core while releasing the GIL, so two threads each taking
    half of every big parameter do the step in about half the time; and each works through its share in
    blocks (`blocks`: elements per block on one thread and when split; None: no blocks), so that the
    passes over a block read it from cache instead of memory. Small steps stay on
    one thread, and a parameter whose arrays are not all contiguous is updated whole by the first
    thread."""
    from ember.backend.threads import get_threads, parallel
    sizes = [a[0].size for a in arrays]
    flat = [all(x.flags.c_contiguous for x in a) for a in arrays]
    one_thread = get_threads() <= 1 or sum(sizes) < (1 << 20)   # small steps: the hand-off costs more
    parts = 1 if one_thread else get_threads()
    block = blocks[0 if one_thread else 1] or max(sizes, default=0)     # None: each share whole

    def share(lo, hi):
        for i, a in enumerate(arrays):
            if not flat[i]:
                if lo == 0:
                    update(i, a)
                continue
            n = sizes[i]
            a_lo, a_hi = _cut(n, lo, parts), _cut(n, hi, parts)
            if a_hi - a_lo == n <= block:   # a small parameter, whole: its arrays as they are
                update(i, a)
                continue
            views = [x.reshape(-1) for x in a]
            for b_lo in range(a_lo, a_hi, block):
                b_hi = min(a_hi, b_lo + block)
                update(i, [v[b_lo:b_hi] for v in views])
    parallel(share, parts)      # (one part runs inline)


class Optimizer:
    r"""Base class for all optimizers.

    Args:
        params (iterable): an iterable of :class:`Tensor` s or :class:`dict` s (or of
            ``(name, Tensor)`` pairs). Specifies what Tensors should be optimized.
        defaults (dict): a dict containing default values of optimization options (used when a
            parameter group doesn't specify them).
    """

    def __init__(self, params, defaults):
        self.defaults = defaults
        self._optimizer_step_pre_hooks = OrderedDict()
        self._optimizer_step_post_hooks = OrderedDict()
        self._optimizer_state_dict_pre_hooks = OrderedDict()
        self._optimizer_state_dict_post_hooks = OrderedDict()
        self._optimizer_load_state_dict_pre_hooks = OrderedDict()
        self._optimizer_load_state_dict_post_hooks = OrderedDict()

        self._patch_step_function()

        if isinstance(params, Tensor):
            raise TypeError("params argument given to the optimizer should be an iterable of Tensors or dicts, "
                            "but got " + typename(params))

        self.state = defaultdict(dict)
        self.param_groups = []

        param_groups = list(params)
        if len(param_groups) == 0:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(param_groups[0], dict):
            param_groups = [{"params": param_groups}]

        for param_group in param_groups:
            self.add_param_group(param_group)

        self._warned_capturable_if_run_uncaptured = True

    def __getstate__(self):
        return {"defaults": self.defaults, "state": self.state, "param_groups": self.param_groups}

    def __setstate__(self, state):
        self.__dict__.update(state)
        for name in ("_optimizer_step_pre_hooks", "_optimizer_step_post_hooks", "_optimizer_state_dict_pre_hooks",
                     "_optimizer_state_dict_post_hooks", "_optimizer_load_state_dict_pre_hooks",
                     "_optimizer_load_state_dict_post_hooks"):
            if name not in self.__dict__:
                setattr(self, name, OrderedDict())
        self._patch_step_function()
        self.defaults.setdefault("differentiable", False)

    def __repr__(self):
        format_string = self.__class__.__name__ + " ("
        for i, group in enumerate(self.param_groups):
            format_string += "\n"
            format_string += f"Parameter Group {i}\n"
            for key in sorted(group.keys()):
                if key != "params":
                    format_string += f"    {key}: {group[key]}\n"
        format_string += ")"
        return format_string

    # -- step hooks ----------------------------------------------------------------------------
    @staticmethod
    def profile_hook_step(func):
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            self, *_ = args
            for pre_hook in chain(_global_optimizer_pre_hooks.values(), self._optimizer_step_pre_hooks.values()):
                result = pre_hook(self, args, kwargs)
                if result is not None:
                    if isinstance(result, tuple) and len(result) == 2:
                        args, kwargs = result
                    else:
                        raise RuntimeError(
                            f"{func} must return None or a tuple of (new_args, new_kwargs), but got {result}.")
            out = func(*args, **kwargs)
            for post_hook in chain(self._optimizer_step_post_hooks.values(), _global_optimizer_post_hooks.values()):
                post_hook(self, args, kwargs)
            return out

        return wrapper

    def _patch_step_function(self):
        self._zero_grad_profile_name = f"Optimizer.zero_grad#{self.__class__.__name__}.zero_grad"
        hooked = getattr(self.__class__.step, "hooked", None)
        if not hooked:
            self.__class__.step = self.profile_hook_step(self.__class__.step)
            self.__class__.step.hooked = True

    def register_step_pre_hook(self, hook):
        handle = RemovableHandle(self._optimizer_step_pre_hooks)
        self._optimizer_step_pre_hooks[handle.id] = hook
        return handle

    def register_step_post_hook(self, hook):
        handle = RemovableHandle(self._optimizer_step_post_hooks)
        self._optimizer_step_post_hooks[handle.id] = hook
        return handle

    def register_state_dict_pre_hook(self, hook, prepend=False):
        handle = RemovableHandle(self._optimizer_state_dict_pre_hooks)
        self._optimizer_state_dict_pre_hooks[handle.id] = hook
        if prepend:
            self._optimizer_state_dict_pre_hooks.move_to_end(handle.id, last=False)
        return handle

    def register_state_dict_post_hook(self, hook, prepend=False):
        handle = RemovableHandle(self._optimizer_state_dict_post_hooks)
        self._optimizer_state_dict_post_hooks[handle.id] = hook
        if prepend:
            self._optimizer_state_dict_post_hooks.move_to_end(handle.id, last=False)
        return handle

    def register_load_state_dict_pre_hook(self, hook, prepend=False):
        handle = RemovableHandle(self._optimizer_load_state_dict_pre_hooks)
        self._optimizer_load_state_dict_pre_hooks[handle.id] = hook
        if prepend:
            self._optimizer_load_state_dict_pre_hooks.move_to_end(handle.id, last=False)
        return handle

    def register_load_state_dict_post_hook(self, hook, prepend=False):
        handle = RemovableHandle(self._optimizer_load_state_dict_post_hooks)
        self._optimizer_load_state_dict_post_hooks[handle.id] = hook
        if prepend:
            self._optimizer_load_state_dict_post_hooks.move_to_end(handle.id, last=False)
        return handle

    # -- state dict ----------------------------------------------------------------------------
    def state_dict(self):
        """The optimizer state as ``{'state': {index: {...}}, 'param_groups': [{..., 'params': [index]}]}``.

        As in PyTorch, the state tensors are the optimizer's own (not copies); the parameters are
        replaced by their position in the order of ``param_groups``.
        """
        for pre_hook in self._optimizer_state_dict_pre_hooks.values():
            pre_hook(self)

        param_mappings = {}
        start_index = 0

        def pack_group(group):
            nonlocal start_index
            packed = {k: v for k, v in group.items() if k != "params"}
            param_mappings.update({id(p): i for i, p in enumerate(group["params"], start_index)
                                   if id(p) not in param_mappings})
            packed["params"] = [param_mappings[id(p)] for p in group["params"]]
            start_index += len(packed["params"])
            return packed

        param_groups = [pack_group(g) for g in self.param_groups]
        packed_state = {(param_mappings[id(k)] if isinstance(k, Tensor) else k): v for k, v in self.state.items()}
        state_dict = {"state": packed_state, "param_groups": param_groups}

        for post_hook in self._optimizer_state_dict_post_hooks.values():
            hook_result = post_hook(self, state_dict)
            if hook_result is not None:
                state_dict = hook_result
        return state_dict

    @staticmethod
    def _process_value_according_to_param_policy(param, value, param_id, param_groups, key=None):
        fused = False
        capturable = False
        for pg in param_groups:
            if param_id in pg["params"]:
                fused = pg.get("fused", False)
                capturable = pg.get("capturable", False)
                break
        if key == "step":
            if capturable or fused:
                return value.to(dtype=_dt.float32)
            return value
        if param.is_floating_point():
            return value.to(dtype=param.dtype)
        return value

    def load_state_dict(self, state_dict):
        """Load the optimizer state (an object returned by :meth:`state_dict`)."""
        state_dict = state_dict.copy()
        for pre_hook in self._optimizer_load_state_dict_pre_hooks.values():
            hook_result = pre_hook(self, state_dict)
            if hook_result is not None:
                state_dict = hook_result

        groups = self.param_groups
        saved_groups = deepcopy(state_dict["param_groups"])

        if len(groups) != len(saved_groups):
            raise ValueError("loaded state dict has a different number of parameter groups")
        param_lens = (len(g["params"]) for g in groups)
        saved_lens = (len(g["params"]) for g in saved_groups)
        if any(p_len != s_len for p_len, s_len in zip(param_lens, saved_lens, strict=True)):
            raise ValueError("loaded state dict contains a parameter group that doesn't match the size of "
                             "optimizer's group")

        id_map = dict(zip(chain.from_iterable(g["params"] for g in saved_groups),
                          chain.from_iterable(g["params"] for g in groups), strict=True))

        def _cast(param, value, param_id=None, param_groups=None, key=None):
            if isinstance(value, np.ndarray):  # ember extension: NumPy arrays are accepted as tensors
                value = Tensor._make(value.copy())
            if isinstance(value, Tensor):
                return Optimizer._process_value_according_to_param_policy(param, value, param_id, param_groups, key)
            elif isinstance(value, dict):
                return {k: _cast(param, v, param_id=param_id, param_groups=param_groups, key=k)
                        for k, v in value.items()}
            elif isinstance(value, Iterable) and not isinstance(value, (str, bytes)):
                return type(value)(_cast(param, v, param_id=param_id, param_groups=param_groups) for v in value)
            else:
                return value

        state = defaultdict(dict)
        for k, v in state_dict["state"].items():
            if k in id_map:
                param = id_map[k]
                state[param] = _cast(param, v, param_id=k, param_groups=state_dict["param_groups"])
            else:
                state[k] = v

        def update_group(group, new_group):
            new_group["params"] = group["params"]
            if "param_names" in group and "param_names" not in new_group:
                new_group["param_names"] = group["param_names"]
            return new_group

        param_groups = [update_group(g, ng) for g, ng in zip(groups, saved_groups, strict=True)]
        self.__setstate__({"state": state, "param_groups": param_groups})

        for post_hook in self._optimizer_load_state_dict_post_hooks.values():
            post_hook(self)

    # -- the training loop's calls -------------------------------------------------------------
    def zero_grad(self, set_to_none=True):
        """Reset the gradients of all optimized tensors (to None by default, else to zeros in place)."""
        if not hasattr(self, "_zero_grad_profile_name"):
            self._patch_step_function()
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is not None:
                    if set_to_none:
                        p.grad = None
                    else:
                        g = p.grad
                        if g.grad_fn is not None:
                            g.detach_()
                        else:
                            g.requires_grad_(False)
                        g.zero_()

    def step(self, closure=None):
        """Perform a single optimization step (``closure`` reevaluates the model and returns the loss)."""
        raise NotImplementedError

    def add_param_group(self, param_group):
        """Add a param group to the :class:`Optimizer` s ``param_groups``."""
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group)}")

        params = param_group["params"]
        if isinstance(params, Tensor):
            param_group["params"] = [params]
        elif isinstance(params, set):
            raise TypeError("optimizer parameters need to be organized in ordered collections, but the ordering "
                            "of tensors in sets will change between runs. Please use a list instead.")
        else:
            param_group["params"] = list(params)

        extracted_param_tensors = []
        extracted_param_names = []
        for param in param_group["params"]:
            if isinstance(param, tuple):
                extracted_param_names.append(param[0])
                extracted_param_tensors.append(param[1])
            else:
                extracted_param_tensors.append(param)

        param_group["params"] = extracted_param_tensors
        if len(extracted_param_names) != 0:
            if len(extracted_param_names) == len(extracted_param_tensors):
                param_group["param_names"] = extracted_param_names
            else:
                raise ValueError("all optimizer params should be with/without names. Some param names are missing")

        for param in param_group["params"]:
            if not isinstance(param, Tensor):
                raise TypeError("optimizer can only optimize Tensors, but one of the params is " + typename(param))
            if not self.defaults.get("differentiable", None) and not (param.is_leaf or param.retains_grad):
                raise ValueError("can't optimize a non-leaf Tensor")

        for name, default in self.defaults.items():
            if default is required and name not in param_group:
                raise ValueError(f"parameter group didn't specify a value of required optimization parameter {name}")
            else:
                param_group.setdefault(name, default)

        params = param_group["params"]
        if len(params) != len(set(params)):
            warnings.warn("optimizer contains a parameter group with duplicate parameters; in future, this will "
                          "cause an error; see github.com/pytorch/pytorch/issues/40967 for more information",
                          stacklevel=3)

        param_set = set()
        for group in self.param_groups:
            param_set.update(set(group["params"]))
            if ("param_names" in param_group) != ("param_names" in group):
                current_group_txt = "with names" if "param_names" in param_group else "without names"
                raise ValueError("all optimizer param groups should be with/without names. "
                                 f"cannot add param group {current_group_txt} to the optimizer")

        if not param_set.isdisjoint(set(param_group["params"])):
            raise ValueError("some parameters appear in more than one parameter group")

        self.param_groups.append(param_group)

    # -- the closure convention shared by every optimizer's step --------------------------------
    @staticmethod
    def _eval_closure(closure):
        if closure is None:
            return None
        with enable_grad():
            return closure()
