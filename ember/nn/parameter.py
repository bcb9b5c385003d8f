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


class UninitializedParameter(Parameter):
    """The weight of a Lazy layer before its first call decides its shape."""

    def __repr__(self):
        return "<UninitializedParameter>"

    def materialize(self, shape, dtype=None):
        from ember.creation import empty
        t = empty(*shape, dtype=dtype)
        self._data = t._data
        self.__class__ = Parameter
