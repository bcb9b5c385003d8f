"""LazyModuleMixin: layers whose input size the first call decides (nn.LazyLinear, nn.LazyConv2d, ...).

A lazy layer is built with UninitializedParameters (and UninitializedBuffers).  A forward pre-hook calls
`initialize_parameters(input)` on the first call: it reads the input's size, materialises the
parameters in place (the same objects, so an optimizer built before the call keeps working) and resets
them with the layer's usual initialisation.  The hooks then remove themselves and the module becomes
its `cls_to_become` (LazyConv2d becomes Conv2d), so its repr and type are those of the plain layer.
Loading a state_dict into a lazy layer materialises the parameters with the checkpoint's shapes.
"""
import itertools

from ember.autograd.grad_mode import no_grad
from ember.nn.parameter import is_lazy


class LazyModuleMixin:
    """A mixin for modules that lazily initialize parameters, also known as "lazy modules"."""

    cls_to_become = None

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._load_hook = self.register_load_state_dict_pre_hook(self._lazy_load_hook)
        self._initialize_hook = self.register_forward_pre_hook(self._infer_parameters, with_kwargs=True)

    def _save_to_state_dict(self, destination, prefix, keep_vars):
        # an uninitialized parameter goes into the state_dict as itself (it has no data to detach)
        for name, param in self._parameters.items():
            if param is not None:
                destination[prefix + name] = param if is_lazy(param) or keep_vars else param.detach()
        for name, buf in self._buffers.items():
            if buf is not None and name not in self._non_persistent_buffers_set:
                destination[prefix + name] = buf if is_lazy(buf) or keep_vars else buf.detach()

    def _lazy_load_hook(self, state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
                        error_msgs):
        """Give the uninitialized parameters the shapes of the initialized ones being loaded."""
        for name, param in itertools.chain(self._parameters.items(), self._buffers.items()):
            key = prefix + name
            if key in state_dict and param is not None:
                input_param = state_dict[key]
                if is_lazy(param) and not is_lazy(input_param):
                    with no_grad():
                        param.materialize(tuple(input_param.shape))

    def initialize_parameters(self, *args, **kwargs):
        """Initialize parameters according to the input batch properties."""
        raise NotImplementedError(f"initialize_parameters is not implemented for {self.__class__.__name__}")

    def has_uninitialized_params(self):
        """Check if a module has parameters that are not initialized."""
        return any(is_lazy(p) for p in itertools.chain(self._parameters.values(), self._buffers.values()))

    def _infer_parameters(self, module, args, kwargs=None):
        """The forward pre-hook: initialize from the first input, then become the plain layer."""
        module.initialize_parameters(*args, **(kwargs or {}))
        if module.has_uninitialized_params():
            raise RuntimeError(f"module {self._get_name()} has not been fully initialized")
        module._initialize_hook.remove()
        module._load_hook.remove()
        delattr(module, "_initialize_hook")
        delattr(module, "_load_hook")
        if module.cls_to_become is not None:
            module.__class__ = module.cls_to_become

    def _replicate_for_data_parallel(self):
        raise RuntimeError("Modules with uninitialized parameters can't be used with `DataParallel`. Run a dummy "
                           "forward pass to correctly initialize the modules")
