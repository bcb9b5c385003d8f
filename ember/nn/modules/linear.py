"""Identity, Linear and LazyLinear."""
import math

from ember.nn.modules.module import Module
from ember.nn.parameter import Parameter, UninitializedParameter
from ember.nn import init, functional as F
from ember.creation import empty


class Identity(Module):
    def __init__(self, *args, **kwargs):
        super().__init__()

    def forward(self, input):
        return input


class Linear(Module):
    def __init__(self, in_features, out_features, bias=True, device=None, dtype=None):
        super().__init__()
        self.in_features = in_features
        self.out_features = out_features
        self.weight = Parameter(empty(out_features, in_features, dtype=dtype, device=device))
        if bias:
            self.bias = Parameter(empty(out_features, dtype=dtype, device=device))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        # PyTorch's default: kaiming_uniform_(a=sqrt(5)) gives U(-1/sqrt(fan_in), 1/sqrt(fan_in))
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in = self.weight.shape[1]
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input):
        shape = getattr(input, "_data", input).shape    # a plain tuple: cheaper to test than a Size
        if not shape or shape[-1] != self.in_features:
            lead = input.shape[:-1].numel() if input.ndim > 1 else 1
            raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({lead}x{input.shape[-1] if input.ndim else 0}"
                               f" and {self.in_features}x{self.out_features}): {self._get_name()} expected input with "
                               f"last dimension {self.in_features}, got input of shape {list(input.shape)}")
        return F.linear(input, self.weight, self.bias)

    def extra_repr(self):
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


class LazyLinear(Linear):
    """A Linear whose in_features is read from the first input; it then becomes a plain Linear."""
    cls_to_become = Linear

    def __init__(self, out_features, bias=True, device=None, dtype=None):
        Module.__init__(self)
        self.in_features = 0
        self.out_features = out_features
        self._dtype = dtype
        self.weight = UninitializedParameter()
        if bias:
            self.bias = UninitializedParameter()
        else:
            self.register_parameter("bias", None)

    def reset_parameters(self):
        if not isinstance(self.weight, UninitializedParameter):
            super().reset_parameters()

    def forward(self, input):
        if isinstance(self.weight, UninitializedParameter):
            self.in_features = input.shape[-1]
            self.weight.materialize((self.out_features, self.in_features), dtype=self._dtype)
            if self.bias is not None:
                self.bias.materialize((self.out_features,), dtype=self._dtype)
            Linear.reset_parameters(self)
            del self._dtype
            self.__class__ = self.cls_to_become
        return Linear.forward(self, input)


class NonDynamicallyQuantizableLinear(Linear):
    """MultiheadAttention's out-projection: a plain Linear under the class name PyTorch gives it (its
    repr and type checks show that name)."""
