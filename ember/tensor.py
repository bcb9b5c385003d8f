"""Tensor: a backend array plus the fields autograd needs. Every operator delegates to ember.ops."""
import operator as _operator
from collections import OrderedDict

import numpy as np

from ember.backend import dtypes as _dt
from ember.backend.device import cpu as _cpu, as_device as _as_device
from ember.autograd.grad_mode import _GradState


class Tensor:
    __slots__ = ("_data", "_requires_grad", "grad", "grad_fn", "_version", "_base", "_hooks", "__weakref__",
                 "__dict__")
    _is_node = False  # a leaf stands in the graph for its own gradient accumulator

    # -- construction --------------------------------------------------------------------
    def __new__(cls, *args, **kwargs):
        return object.__new__(cls)

    def __init__(self, *args, dtype=None, device=None):
        # torch.Tensor(2, 3) is an uninitialised float tensor; torch.Tensor([1, 2]) copies data as float
        if len(args) == 1 and not isinstance(args[0], (int, np.integer)):
            data = _creation.to_array(args[0], _dt.get_default_dtype())
        else:
            data = np.empty(_creation.shape_arg(args), _dt.get_default_dtype().np)
        _init_fields(self, data)

    @staticmethod
    def _make(data):
        """Wrap a backend array without copying (the ops' way to build results)."""
        if type(data) is not np.ndarray:
            data = np.asarray(data)
        return _init_fields(_new(Tensor), data)

    # -- properties ----------------------------------------------------------------------
    @property
    def shape(self):
        return Size(self._data.shape)

    def size(self, dim=None):
        if dim is None:
            return Size(self._data.shape)
        return self._data.shape[_ops.shape.wrap_dim(dim, self._data.ndim)]

    @property
    def dtype(self):
        return _dt._BY_NP[self._data.dtype]

    @property
    def device(self):
        return _cpu

    @property
    def is_cuda(self):
        return False

    # PyTorch's device and layout flags: every ember tensor is a dense CPU tensor
    is_cpu = property(lambda self: True)
    is_xpu = is_mps = is_meta = is_ipu = is_maia = is_mtia = is_xla = is_vulkan = property(lambda self: False)
    is_mkldnn = is_quantized = is_sparse = is_sparse_csr = is_nested = property(lambda self: False)

    @property
    def ndim(self):
        return self._data.ndim

    def dim(self):
        return self._data.ndim

    ndimension = dim

    def numel(self):
        return self._data.size

    nelement = numel

    def element_size(self):
        return self._data.itemsize

    @property
    def itemsize(self):
        return self._data.itemsize

    @property
    def nbytes(self):
        return self._data.nbytes

    def is_floating_point(self):
        return self._data.dtype.kind == "f"

    def is_contiguous(self, memory_format=None):
        return self._data.flags.c_contiguous

    def stride(self, dim=None):
        strides = tuple(s // self._data.itemsize for s in self._data.strides)
        return strides if dim is None else strides[_ops.shape.wrap_dim(dim, self._data.ndim)]

    def data_ptr(self):
        return self._data.__array_interface__["data"][0]

    def get_device(self):
        return -1

    @property
    def is_leaf(self):
        return self.grad_fn is None

    @property
    def requires_grad(self):
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, flag):
        flag = bool(flag)
        if self.grad_fn is not None and not flag:
            raise RuntimeError("you can only change requires_grad flags of leaf variables. If you want to use a "
                               "computed variable in a subgraph that doesn't require differentiation use "
                               "var_no_grad = var.detach().")
        if flag and self._data.dtype.kind not in "fc":
            raise RuntimeError(f"only Tensors of floating point dtype can require gradients "
                               f"(got {self.dtype})")
        self._requires_grad = flag

    def requires_grad_(self, requires_grad=True):
        self.requires_grad = requires_grad
        return self

    @property
    def data(self):
        """The same storage without history: `x.data -= lr * x.grad` edits x behind autograd's back."""
        return _init_fields(_new(Tensor), self._data)  # with its own version counter, as in PyTorch

    @data.setter
    def data(self, other):
        self._data = other._data if isinstance(other, Tensor) else np.asarray(other)

    @property
    def T(self):
        return _ops.shape.permute(self, tuple(range(self._data.ndim - 1, -1, -1)))

    @property
    def mT(self):
        return _ops.shape.transpose(self, -2, -1)

    # -- conversions ---------------------------------------------------------------------
    def numpy(self, force=False):
        if self._requires_grad and not force:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() "
                               "instead.")
        return self._data

    def __array__(self, dtype=None, copy=None):
        return self._data if dtype is None else self._data.astype(dtype)

    def item(self):
        if self._data.size != 1:
            raise RuntimeError(f"a Tensor with {self._data.size} elements cannot be converted to Scalar")
        return self._data.reshape(()).item()

    def tolist(self):
        return self._data.tolist()

    def __float__(self):
        return float(_real_scalar(self, "double"))

    def __int__(self):
        return int(_real_scalar(self, "int64_t"))

    def __index__(self):
        if self._data.dtype.kind not in "iub" or self._data.size != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self.item())

    def __bool__(self):
        if self._data.size != 1:
            raise RuntimeError(f"Boolean value of Tensor with more than one value is ambiguous")
        return bool(self._data.reshape(()).item())

    def __complex__(self):
        return complex(self.item())

    def __len__(self):
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    def __iter__(self):
        if self._data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return iter(_ops.shape.unbind(self, 0))

    __hash__ = object.__hash__  # identity, as torch.Tensor (kept although __eq__ is elementwise)

    def __contains__(self, element):
        return bool((self == element).any())

    def __format__(self, spec):
        if self._data.ndim == 0:
            return self.item().__format__(spec)
        return object.__format__(self, spec)

    def __reduce_ex__(self, protocol):
        return (_rebuild_tensor, (self._data, self._requires_grad))

    def __deepcopy__(self, memo):
        if not self.is_leaf:
            raise RuntimeError("Only Tensors created explicitly by the user (graph leaves) support the deepcopy "
                               "protocol at the moment.")
        new = type(self).__new__(type(self))
        _init_fields(new, self._data.copy())
        new._requires_grad = self._requires_grad
        if self.grad is not None:
            new.grad = Tensor._make(self.grad._data.copy())
        new.__dict__.update({k: v for k, v in self.__dict__.items()})
        memo[id(self)] = new
        return new

    def to(self, *args, **kwargs):
        """to(dtype), to(device), to(device, dtype), to(other_tensor); copies only when something changes."""
        dtype = kwargs.get("dtype")
        device = kwargs.get("device")
        copy = kwargs.get("copy", False)
        for a in args:
            if isinstance(a, _dt.dtype):
                dtype = a
            elif isinstance(a, Tensor):
                dtype = a.dtype
            elif a is not None:
                device = a
        if device is not None:
            _as_device(device)  # raises for devices ember does not have
        if dtype is None or dtype is self.dtype:
            return _ops.elementwise.clone(self) if copy else self
        return _ops.elementwise.cast(self, dtype)

    def type(self, dtype=None):
        if dtype is None:
            return _type_string(self.dtype)
        if isinstance(dtype, str):
            dtype = _dtype_from_type_string(dtype)
        elif isinstance(dtype, _LegacyTensorType):
            dtype = dtype.dtype
        return self.to(dtype)

    def float(self):
        return self.to(_dt.float32)

    def double(self):
        return self.to(_dt.float64)

    def half(self):
        return self.to(_dt.float16)

    def bfloat16(self):
        return self.to(_dt.bfloat16)

    def cfloat(self):
        return self.to(_dt.complex64)

    def cdouble(self):
        return self.to(_dt.complex128)

    # -- sharing with other processes (ember.multiprocessing) --------------------------------
    def share_memory_(self):
        """Move the data into memory other processes map (a no-op when it is there already)."""
        from ember.backend import shared_memory
        if shared_memory.block_of(self._data) is None:
            self._data = shared_memory.shared_copy(self._data)
        return self

    def is_shared(self):
        from ember.backend import shared_memory
        return shared_memory.block_of(self._data) is not None

    def long(self):
        return self.to(_dt.int64)

    def int(self):
        return self.to(_dt.int32)

    def short(self):
        return self.to(_dt.int16)

    def char(self):
        return self.to(_dt.int8)

    def byte(self):
        return self.to(_dt.uint8)

    def bool(self):
        return self.to(_dt.bool_)

    def cpu(self):
        return self

    def cuda(self, device=None):
        _as_device("cuda" if device is None else device)

    def type_as(self, other):
        return self.to(other.dtype)

    def clone(self, memory_format=None):
        return _ops.elementwise.clone(self)

    def contiguous(self, memory_format=None):
        return self if self._data.flags.c_contiguous else _ops.elementwise.clone(self)

    def detach(self):
        t = Tensor._make(self._data)
        t._version = self._version  # a detached tensor is a view: in-place changes are seen by autograd
        return t

    def detach_(self):
        if self._base is not None and self._base._requires_grad:
            raise RuntimeError("Can't detach views in-place. Use detach() instead.")
        self.grad_fn = None
        self._requires_grad = False
        return self

    def new_tensor(self, data, dtype=None, device=None, requires_grad=False):
        return _creation.tensor(data, dtype=dtype or self.dtype, requires_grad=requires_grad)

    def new_zeros(self, *size, dtype=None, device=None, requires_grad=False):
        return _creation.zeros(*size, dtype=dtype or self.dtype, requires_grad=requires_grad)

    def new_ones(self, *size, dtype=None, device=None, requires_grad=False):
        return _creation.ones(*size, dtype=dtype or self.dtype, requires_grad=requires_grad)

    def new_full(self, size, fill_value, dtype=None, device=None, requires_grad=False):
        return _creation.full(size, fill_value, dtype=dtype or self.dtype, requires_grad=requires_grad)

    def new_empty(self, *size, dtype=None, device=None, requires_grad=False):
        return _creation.empty(*size, dtype=dtype or self.dtype, requires_grad=requires_grad)

    # -- autograd ------------------------------------------------------------------------
    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
        fn = self.grad_fn
        if fn is not None and gradient is None and inputs is None and self._data.size == 1:
            # the common `loss.backward()`: skip the general argument handling
            _backward_from(fn, _ones_like_scalar(self._data), retain_graph or create_graph, create_graph)
            return
        from ember import autograd
        autograd.backward(self, gradient, retain_graph, create_graph, inputs=inputs)

    def register_hook(self, hook):
        if not self._requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        owner = self.grad_fn if self.grad_fn is not None else self
        from ember.utils.hooks import RemovableHandle
        if owner._hooks is None:
            owner._hooks = OrderedDict()
        handle = RemovableHandle(owner._hooks)
        owner._hooks[handle.id] = hook
        if owner is not self:
            owner._special = True  # the engine looks at a node's hooks only when this is set
        return handle

    def register_post_accumulate_grad_hook(self, hook):
        """hook(tensor) runs once this leaf's .grad holds the whole gradient of the pass (see
        ember.autograd.function._backward_eager)."""
        if not self._requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self.grad_fn is not None:
            raise RuntimeError("post accumulate grad hooks cannot be registered on non-leaf tensors")
        return _function._add_post_accumulate_hook(self, hook)

    def retain_grad(self):
        """Keep this non-leaf's gradient in .grad. It is taken after the tensor's other hooks have run,
        whatever their order of registration, as in PyTorch."""
        if self.grad_fn is None or getattr(self, "_retains", False):
            return
        import weakref
        self.grad_fn._retain = weakref.ref(self)
        self.grad_fn._special = True
        self.__dict__["_retains"] = True

    @property
    def retains_grad(self):
        return self.__dict__.get("_retains", False)

    # -- printing ------------------------------------------------------------------------
    def __repr__(self):
        from ember._tensor_str import tensor_repr
        return tensor_repr(self)

    def __str__(self):
        return self.__repr__()

    # -- in-place machinery --------------------------------------------------------------
    def _check_inplace(self):
        """PyTorch's rules for in-place ops on tensors autograd is tracking."""
        if not _GradState.enabled:
            return False
        if self._requires_grad:
            if self.grad_fn is None:
                if self._base is not None:
                    raise RuntimeError("a view of a leaf Variable that requires grad is being used in an in-place "
                                       "operation.")
                raise RuntimeError("a leaf Variable that requires grad is being used in an in-place operation.")
            if self._base is not None:
                raise RuntimeError("ember does not support in-place operations on views of tensors that require "
                                   "grad; use an out-of-place op (e.g. torch.where or torch.cat) instead.")
            return True
        return False

    def _inplace(self, op, *args, **kwargs):
        """Apply `op` (an out-of-place function) and write its result into this tensor's storage."""
        tracked = self._check_inplace()
        if not tracked and _GradState.enabled and any(isinstance(a, Tensor) and a._requires_grad for a in args):
            if self._base is not None:
                raise RuntimeError("ember does not support in-place operations that make a view require grad; "
                                   "use an out-of-place op instead.")
            tracked = True
        if tracked:
            alias = Tensor._make(self._data)
            alias._version = self._version
            alias._requires_grad = self._requires_grad
            alias.grad_fn = self.grad_fn
            result = op(alias, *args, **kwargs)
            saved = result.grad_fn.__dict__.get("_saved", ()) if result.grad_fn is not None else ()
            if any(t is alias for t in saved):
                # backward needs the old values, which the write below destroys: keep them apart
                alias._data = self._data.copy()
                alias._version = [self._version[0]]
            _ops.elementwise.check_inplace_dtype(result.dtype, self.dtype)
            np.copyto(self._data, result._data, casting="unsafe")
            self._version[0] += 1
            self.grad_fn = result.grad_fn
            self._requires_grad = result._requires_grad
            return self
        with _no_grad():
            result = op(self, *args, **kwargs)
        _ops.elementwise.check_inplace_dtype(result.dtype, self.dtype)
        _write(self, result._data)
        return self

    def zero_(self):
        if self._requires_grad:
            self._check_inplace()
        self._data[...] = 0
        self._version[0] += 1
        return self

    def fill_(self, value):
        if isinstance(value, Tensor) and value._requires_grad:
            return self._inplace(lambda t, v: _ops.elementwise.where(True, v, t), value)
        self._check_inplace()
        self._data[...] = value._data if isinstance(value, Tensor) else value
        self._version[0] += 1
        return self

    def copy_(self, src, non_blocking=False):
        if not isinstance(src, Tensor):
            src = _creation.tensor(src)
        if (self._requires_grad or src._requires_grad) and _GradState.enabled:
            return self._inplace(lambda t, s: _ops.elementwise.cast(s, t.dtype).expand(t.shape) * 1
                                 if s.dtype is not t.dtype else s.expand(t.shape) * 1, src)
        try:
            np.copyto(self._data, src._data, casting="unsafe")
        except ValueError:
            raise RuntimeError(f"The size of tensor a ({self.shape}) must match the size of tensor b ({src.shape})")
        self._version[0] += 1
        return self

    def uniform_(self, a=0.0, b=1.0, generator=None):
        self._check_inplace()
        self._data[...] = _random.uniform_array(self._data.shape, a, b, self._data.dtype, generator)
        self._version[0] += 1
        return self

    def normal_(self, mean=0.0, std=1.0, generator=None):
        self._check_inplace()
        self._data[...] = _random.normal_array(self._data.shape, mean, std, self._data.dtype, generator)
        self._version[0] += 1
        return self

    def bernoulli_(self, p=0.5, generator=None):
        self._check_inplace()
        self._data[...] = _random.uniform_array(self._data.shape, 0.0, 1.0, np.float64, generator) < p
        self._version[0] += 1
        return self

    def random_(self, low=None, high=None, generator=None):
        if low is None:  # no bounds: [0, 2**mantissa] for floats, the dtype's range for integers
            kind = self._data.dtype
            low, high = 0, (2 ** (np.finfo(kind).nmant + 1) + 1 if kind.kind == "f" else
                            2 if kind.kind == "b" else int(np.iinfo(kind).max) + 1)
        elif high is None:
            low, high = 0, low
        self._check_inplace()
        self._data[...] = _random.default_generator_or(generator).integers(low, high, self._data.shape)
        self._version[0] += 1
        return self

    def exponential_(self, lambd=1.0, generator=None):
        self._check_inplace()
        self._data[...] = _random.default_generator_or(generator).exponential(1.0 / lambd, self._data.shape)
        self._version[0] += 1
        return self

    def __pos__(self):
        return self

    # operators (x + y, x[i], x == y ...) are bound from the op registry, ember/ops/registry.py

    def resize_(self, *size):
        shape = _creation.shape_arg(size)
        n = 1
        for s in shape:
            n *= s
        flat = self._data.reshape(-1)
        data = flat[:n] if flat.size >= n else np.concatenate([flat, np.zeros(n - flat.size, flat.dtype)])
        self._data = data.reshape(shape).copy()
        return self

    def _inplace_binary(self, fn, other):
        ufunc = _INPLACE_UFUNCS.get(fn)
        if ufunc is not None and not self._requires_grad:
            # fastest case (`x.data -= lr * x.grad`): same dtype or a float scalar on a float tensor
            oc = other.__class__
            if (oc is Tensor and other._data.dtype is self._data.dtype and not other._requires_grad) or (
                    oc is float and self._data.dtype.kind == "f"):
                d = self._data
                o = other._data if oc is Tensor else other
                try:
                    if d.size == 1 and (oc is float or o.ndim <= d.ndim):
                        # one element: a ufunc with out= costs twice an operator and a store
                        d[...] = _INPLACE_OPERATORS[fn](d, o)
                    else:
                        ufunc(d, o, out=d)
                except ValueError:
                    _ops.elementwise.raise_broadcast_error(self.shape, np.shape(other), inplace=True)
                self._version[0] += 1
                return self
        if not _GradState.enabled or not (self._requires_grad or (isinstance(other, Tensor) and other._requires_grad)):
            # the common no-grad case (`x.data -= lr * x.grad`, `Z += X`): straight into the storage
            o = other._data if isinstance(other, Tensor) else other
            result_dtype = _dt.result_type(self, other)
            _ops.elementwise.check_inplace_dtype(result_dtype, self.dtype)
            ufunc = _INPLACE_UFUNCS.get(fn)
            if ufunc is not None and result_dtype is self.dtype:
                try:
                    ufunc(self._data, o, out=self._data)
                except ValueError:
                    _ops.elementwise.raise_broadcast_error(self.shape, np.shape(o), inplace=True)
                self._version[0] += 1
                return self
        return self._inplace(fn, other)


class Size(tuple):
    """torch.Size: a tuple that prints as `torch.Size([2, 3])`."""

    def __repr__(self):
        return f"torch.Size({list(self)})"

    __str__ = __repr__

    def numel(self):
        n = 1
        for s in self:
            n *= s
        return n

    def __getitem__(self, key):
        r = tuple.__getitem__(self, key)
        return Size(r) if isinstance(key, slice) else r

    def __add__(self, other):
        return Size(tuple(self) + tuple(other))


def _init_fields(t, data):
    """The one place a Tensor's fields are set: every tensor (an op's result, Tensor(...), a Parameter,
    a loaded one) is `_init_fields(object.__new__(cls), array)`. Returns t."""
    t._data = data
    t._requires_grad = False
    t.grad = None
    t.grad_fn = None
    t._version = [0]
    t._base = None
    t._hooks = None
    return t


_new = object.__new__


def _write(t, array):
    try:
        np.copyto(t._data, array, casting="unsafe")
    except ValueError:
        if not t._data.flags.writeable:
            raise RuntimeError("unsupported operation: more than one element of the written-to tensor refers to a "
                               "single memory location. Please clone() the tensor before performing the operation.")
        raise RuntimeError(f"output with shape {list(t.shape)} doesn't match the broadcast shape "
                           f"{list(np.shape(array))}")
    t._version[0] += 1


def _real_scalar(t, c_type):
    """The one element as a real number: a complex one must have no imaginary part (PyTorch's check)."""
    value = t.item()
    if isinstance(value, complex):
        if value.imag:
            raise RuntimeError(f"value cannot be converted to type {c_type} without overflow")
        return value.real
    return value


def _rebuild_tensor(data, requires_grad):
    t = Tensor._make(data)
    t._requires_grad = requires_grad
    return t




class _LegacyTensorType(type):
    """torch.FloatTensor and friends: call one to make a tensor of its dtype; isinstance checks the dtype."""

    def __call__(cls, *args):
        if len(args) == 1 and not isinstance(args[0], (int, np.integer)):
            return _creation.tensor(args[0], dtype=cls.dtype)
        return _creation.empty(*args, dtype=cls.dtype)

    def __instancecheck__(cls, obj):
        return isinstance(obj, Tensor) and obj.dtype is cls.dtype


def _legacy_type(name, dtype):
    return _LegacyTensorType(name, (), {"dtype": dtype, "__module__": "ember", "__doc__": f"{dtype} tensors"})


def _type_string(d):
    return _dt.legacy_type_name(d)


def _dtype_from_type_string(s):
    for d in _dt.ALL:
        if _dt.legacy_type_name(d) == s:
            return d
    raise ValueError(f"invalid type: '{s}'")


Tensor.__module__ = "ember"  # prints as <class 'ember.Tensor'>, the way torch.Tensor does
Size.__module__ = "ember"
from ember.autograd import function as _function  # noqa: E402
_function.Tensor = Tensor
_backward_from = _function._backward_from
_ONES = {}


def _ones_like_scalar(a):
    """The implicit gradient 1 of a one-element output, as a new Tensor. Its array is a fresh copy
    (copying a cached one is the cheapest way to make it): hooks, retain_grad and a leaf's .grad
    (`y = x + 1` passes it through unchanged) may keep it and write to it."""
    key = (a.shape, a.dtype)
    ones = _ONES.get(key)
    if ones is None:
        ones = _ONES[key] = np.ones(a.shape, a.dtype)
    return _init_fields(_new(Tensor), ones.copy())
from ember import ops as _ops  # noqa: E402  (the ops import Tensor from here)
from ember import creation as _creation  # noqa: E402
from ember import random as _random  # noqa: E402
from ember.autograd.grad_mode import no_grad as _no_grad  # noqa: E402

_INPLACE_UFUNCS = {
    _ops.elementwise.add: np.add, _ops.elementwise.sub: np.subtract, _ops.elementwise.mul: np.multiply,
    _ops.elementwise.div: np.true_divide,
}
_INPLACE_OPERATORS = {
    _ops.elementwise.add: _operator.add, _ops.elementwise.sub: _operator.sub, _ops.elementwise.mul: _operator.mul,
    _ops.elementwise.div: _operator.truediv,
}
