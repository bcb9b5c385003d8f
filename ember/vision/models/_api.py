"""torchvision's weights API: `Weights`, `WeightsEnum`, the model registry (`get_model`, `list_models`, ...).

Pretrained weights are torchvision's own checkpoint files, looked up where PyTorch caches them
(`torch.hub.get_dir()/checkpoints`: `$TORCH_HOME/hub/checkpoints`, by default
`~/.cache/torch/hub/checkpoints`). ember never downloads them: a missing file fails at once with a message
that gives the URL and the path to save it under, so an offline program does not hang on a download.
"""
import fnmatch
import functools
import os
import sys
import warnings
from dataclasses import dataclass, fields
from enum import Enum
from typing import Any, Callable

__all__ = ["WeightsEnum", "Weights", "get_model", "get_model_builder", "get_model_weights", "get_weight",
           "list_models"]


@dataclass
class Weights:
    """A checkpoint's URL, the preprocessing it expects (`transforms()`) and its metadata."""
    url: str
    transforms: Callable
    meta: dict

    def __eq__(self, other):
        # functools.partial has no value equality; compare what the partials would build instead
        if not isinstance(other, Weights):
            return NotImplemented
        for f in fields(self):
            a, b = getattr(self, f.name), getattr(other, f.name)
            if f.name == "transforms" and isinstance(a, functools.partial) and isinstance(b, functools.partial):
                if (a.func, a.args, a.keywords) != (b.func, b.args, b.keywords):
                    return False
            elif a != b:
                return False
        return True


class WeightsEnum(Enum):
    """Base of the per-model enums (ResNet18_Weights, ...): members are `Weights`, `DEFAULT` an alias."""

    @classmethod
    def verify(cls, obj):
        if obj is not None:
            if type(obj) is str:
                obj = cls[obj.replace(cls.__name__ + ".", "")]
            elif not isinstance(obj, cls):
                raise TypeError(f"Invalid Weight class provided; expected {cls.__name__} but received "
                                f"{obj.__class__.__name__}.")
        return obj

    def get_state_dict(self, *args, **kwargs):
        return _load_state_dict_from_hub_cache(self, *args, **kwargs)

    def __repr__(self):
        return f"{self.__class__.__name__}.{self._name_}"

    @property
    def url(self):
        return self.value.url

    @property
    def transforms(self):
        return self.value.transforms

    @property
    def meta(self):
        return self.value.meta


def _hub_dir():
    """torch.hub.get_dir(): $TORCH_HOME/hub, TORCH_HOME defaulting to $XDG_CACHE_HOME/torch or ~/.cache/torch."""
    torch_home = os.path.expanduser(os.getenv(
        "TORCH_HOME", os.path.join(os.getenv("XDG_CACHE_HOME", "~/.cache"), "torch")))
    return os.path.join(torch_home, "hub")


def _load_state_dict_from_hub_cache(weights, progress=True, check_hash=False, model_dir=None, file_name=None,
                                    map_location=None, **_):
    # torch.hub checks a file's hash only right after downloading it, never a file already in the cache
    from ember.serialization import load
    folder = model_dir if model_dir is not None else os.path.join(_hub_dir(), "checkpoints")
    name = file_name or os.path.basename(weights.url)
    path = os.path.join(folder, name)
    if not os.path.isfile(path):
        raise FileNotFoundError(
            f"the weights {weights!r} are not in PyTorch's hub cache and ember does not download them: "
            f"download {weights.url} and save it as {path} (the cache folder is $TORCH_HOME/hub/checkpoints, "
            f"by default ~/.cache/torch/hub/checkpoints)")
    return load(path, map_location=map_location, weights_only=True)


# ------------------------------------------------------------------ legacy `pretrained=` and overrides
def _ovewrite_named_param(kwargs, param, new_value):
    if param in kwargs:
        if kwargs[param] != new_value:
            raise ValueError(f"The parameter '{param}' expected value {new_value} but got {kwargs[param]} instead.")
    else:
        kwargs[param] = new_value


def _handle_legacy_interface(weights_param, pretrained_param, default_weights):
    """torchvision's handle_legacy_interface: `pretrained=True` (or a bool passed as `weights`) still works,
    with its deprecation warnings, and means the enum's IMAGENET1K_V1 member."""

    def decorator(builder):
        @functools.wraps(builder)
        def wrapper(*args, **kwargs):
            if args:  # torchvision's kwonly_to_pos_or_kw: weights given positionally
                warnings.warn(f"Using '{weights_param}' as positional parameter(s) is deprecated since 0.13 and may "
                              f"be removed in the future. Please use keyword parameter(s) instead.")
                names = [weights_param, "progress"]
                if len(args) > len(names):
                    raise TypeError(f"{builder.__name__}() takes from 0 to {len(names)} positional arguments but "
                                    f"{len(args)} were given")
                kwargs.update(zip(names, args))
            sentinel = object()
            weights_arg = kwargs.get(weights_param, sentinel)
            if ((weights_param not in kwargs and pretrained_param not in kwargs)
                    or isinstance(weights_arg, WeightsEnum)
                    or (isinstance(weights_arg, str) and weights_arg != "legacy")
                    or weights_arg is None):
                return builder(**kwargs)
            pretrained_positional = weights_arg is not sentinel
            if pretrained_positional:
                kwargs[pretrained_param] = pretrained_arg = kwargs.pop(weights_param)
            else:
                pretrained_arg = kwargs[pretrained_param]
            default = getattr(default_weights(), "IMAGENET1K_V1") if pretrained_arg else None
            if not pretrained_positional:
                warnings.warn(f"The parameter '{pretrained_param}' is deprecated since 0.13 and may be removed in "
                              f"the future, please use '{weights_param}' instead.")
            msg = (f"Arguments other than a weight enum or `None` for '{weights_param}' are deprecated since 0.13 "
                   f"and may be removed in the future. The current behavior is equivalent to passing "
                   f"`{weights_param}={default}`.")
            if pretrained_arg:
                msg += (f" You can also use `{weights_param}={type(default).__name__}.DEFAULT` to get the most "
                        f"up-to-date weights.")
            warnings.warn(msg)
            del kwargs[pretrained_param]
            kwargs[weights_param] = default
            return builder(**kwargs)

        return wrapper

    return decorator


# ------------------------------------------------------------------ the registry
BUILTIN_MODELS = {}


def register_model(name=None):
    def wrapper(fn):
        key = name if name is not None else fn.__name__
        if key in BUILTIN_MODELS:
            raise ValueError(f"An entry is already registered under the name '{key}'.")
        BUILTIN_MODELS[key] = fn
        return fn

    return wrapper


def list_models(module=None, include=None, exclude=None):
    """Names of the registered models, sorted; `include`/`exclude` are fnmatch patterns (str or list)."""
    models = set(k for k, v in BUILTIN_MODELS.items()
                 if module is None or v.__module__.rsplit(".", 1)[0] == module.__name__)
    if include:
        found = set()
        for pattern in [include] if isinstance(include, str) else include:
            found |= set(fnmatch.filter(models, pattern))
        models = found
    if exclude:
        for pattern in [exclude] if isinstance(exclude, str) else exclude:
            models -= set(fnmatch.filter(models, pattern))
    return sorted(models)


def get_model_builder(name):
    name = name.lower()
    try:
        return BUILTIN_MODELS[name]
    except KeyError:
        raise ValueError(f"Unknown model {name}") from None


def get_model(name, **config):
    return get_model_builder(name)(**config)


def get_model_weights(name):
    model = get_model_builder(name) if isinstance(name, str) else name
    enum = getattr(model, "_weights_enum", None)
    if enum is None:
        raise ValueError("The WeightsEnum class for the specific method couldn't be retrieved. Make sure the typing "
                         "info is correct.")
    return enum


def get_weight(name):
    try:
        enum_name, value_name = name.split(".")
    except ValueError:
        raise ValueError(f"Invalid weight name provided: '{name}'.") from None
    models = sys.modules["ember.vision.models"]
    enum = getattr(models, enum_name, None)
    if not (isinstance(enum, type) and issubclass(enum, WeightsEnum)):
        raise ValueError(f"The weight enum '{enum_name}' for the specific method couldn't be retrieved.")
    return enum[value_name]


def _builder(weights_enum):
    """Register a builder, give it torchvision's legacy `pretrained=` handling and remember its enum."""

    def wrap(fn):
        wrapped = _handle_legacy_interface("weights", "pretrained", lambda: weights_enum)(fn)
        wrapped._weights_enum = weights_enum
        return register_model()(wrapped)

    return wrap


def _imagenet_meta(num_params, **extra):
    from ember.vision.models._meta import _IMAGENET_CATEGORIES
    meta = {"min_size": (1, 1), "categories": _IMAGENET_CATEGORIES, "num_params": num_params}
    meta.update(extra)
    return meta


def _classification(crop_size, resize_size=256):
    from ember.vision.transforms._presets import ImageClassification
    return functools.partial(ImageClassification, crop_size=crop_size, resize_size=resize_size)


def _load_weights(model, weights, progress, remap=None):
    state_dict = weights.get_state_dict(progress=progress, check_hash=True)
    if remap is not None:
        state_dict = remap(state_dict)
    model.load_state_dict(state_dict)
    return model
