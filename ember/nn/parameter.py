"""Parameter: a leaf tensor that a Module registers as learnable."""
from ember.tensor import Tensor, _init_fields


class Parameter(Tensor):
    def __init__(self, data=None, requires_grad=True):
        if data is None:
            from ember.creation import empty
            data = empty(0)
        # shares storage with `data`, as torch.nn.Parameter does
        _init_fields(self, data._data)
        self.requires_grad = requires_grad

    def __new__(cls, data=None, requires_grad=True):
        return Tensor.__new__(cls)

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()

    def __reduce_ex__(self, protocol):
        return (_rebuild_parameter, (self._data, self._requires_grad))

    def __deepcopy__(self, memo):
        if id(self) in memo:
            return memo[id(self)]
        result = Parameter(Tensor._make(self._data.copy()), self._requires_grad)
        memo[id(self)] = result
        return result


def _rebuild_parameter(data, requires_grad):
    return Parameter(Tensor._make(data), requires_grad)


class UninitializedTensorMixin:
    """A parameter or buffer of a Lazy module whose shape the first input decides.

    It holds an empty array of the dtype it will have; `materialize(shape)` gives it its storage and
    turns it, in place, into its `cls_to_become` (so that optimizers and containers holding the object
    see the initialised tensor)."""

    def materialize(self, shape, device=None, dtype=None):
        from ember.creation import empty
        if dtype is None:
            dtype = self.dtype
        self._data = empty(*shape, dtype=dtype)._data
        self.__class__ = self.cls_to_become

    @property
    def shape(self):
        raise RuntimeError("Can't access the shape of an uninitialized parameter or buffer. This error usually "
                           "happens in `load_state_dict` when trying to load an uninitialized parameter into an "
                           "initialized one. Call `forward` to initialize the parameters before accessing their "
                           "attributes.")

    def share_memory_(self):
        raise RuntimeError("Can't share memory on an uninitialized parameter or buffer. Call `forward` to "
                           "initialize the parameters before calling `module.share_memory()`.")

    def __repr__(self):
        return f"<{self.__class__.__name__}>"

    def __reduce_ex__(self, proto):
        return (self.__class__, (self.requires_grad,))


def is_lazy(param):
    """Whether param is an UninitializedParameter or UninitializedBuffer."""
    return isinstance(param, UninitializedTensorMixin)


class UninitializedParameter(UninitializedTensorMixin, Parameter):
    """A parameter that is not initialized: a Lazy layer's weight before its first call decides its shape."""
    cls_to_become = Parameter

    def __new__(cls, requires_grad=True, device=None, dtype=None):
        return Tensor.__new__(cls)

    def __init__(self, requires_grad=True, device=None, dtype=None):
        from ember.creation import empty
        _init_fields(self, empty(0, dtype=dtype)._data)
        self.requires_grad = requires_grad

    def __deepcopy__(self, memo):
        if id(self) in memo:
            return memo[id(self)]
        result = type(self)(self.requires_grad, None, self.dtype)
        memo[id(self)] = result
        return result


class UninitializedBuffer(UninitializedTensorMixin, Tensor):
    """A buffer that is not initialized: a Lazy layer's running statistics before its first call."""
    cls_to_become = Tensor

    def __new__(cls, requires_grad=False, device=None, dtype=None):
        return Tensor.__new__(cls)

    def __init__(self, requires_grad=False, device=None, dtype=None):
        from ember.creation import empty
        _init_fields(self, empty(0, dtype=dtype)._data)
        self.requires_grad = requires_grad

    def __deepcopy__(self, memo):
        if id(self) in memo:
            return memo[id(self)]
        result = type(self)(self.requires_grad, None, self.dtype)
        memo[id(self)] = result
        return result
