"""ember's dtypes and PyTorch's type-promotion rules.

A dtype is a small object naming a NumPy dtype; it prints as PyTorch does
(`torch.float32`) because learners compare our output with tutorial text.
"""
import numpy as np


class dtype:
    __slots__ = ("name", "np", "is_floating_point", "is_signed", "itemsize", "_kind", "_rank", "word", "c_name")

    def __init__(self, name, np_dtype, kind, rank, word, c_name):
        self.name = name
        self.word = word  # PyTorch's word for it: FloatTensor, FloatStorage, "Got: Float"
        self.c_name = c_name  # the C type PyTorch's kernels name in messages ("float != double")
        self.np = np.dtype(np_dtype)
        self.is_floating_point = kind == 2
        self.is_signed = name not in ("uint8", "bool")
        self.itemsize = self.np.itemsize
        self._kind = kind  # 0 bool, 1 integer, 2 floating, 3 complex: promotion categories
        self._rank = rank  # order inside the promotion lattice (a complex dtype ranks as its real part)

    def __repr__(self):
        return "torch." + self.name

    def __reduce__(self):
        return (_dtype_by_name, (self.name,))

    @property
    def is_complex(self):
        return self._kind == 3

    def to_real(self):
        """complex64 -> float32, complex128 -> float64; any other dtype is its own real type."""
        return _REAL_OF.get(self, self)

    def to_complex(self):
        """float32 -> complex64, float64 -> complex128 (PyTorch's dtype.to_complex())."""
        if self._kind == 3:
            return self
        if self not in _COMPLEX_OF:
            raise TypeError(f"ember has no complex counterpart of {self} (torch.complex32 is not supported)")
        return _COMPLEX_OF[self]


# The one table of dtype names: ember's, NumPy's, PyTorch's words, and the C names of its messages.
bool_ = dtype("bool", np.bool_, 0, 0, "Bool", "bool")
uint8 = dtype("uint8", np.uint8, 1, 1, "Byte", "unsigned char")
int8 = dtype("int8", np.int8, 1, 2, "Char", "signed char")
int16 = dtype("int16", np.int16, 1, 3, "Short", "short int")
int32 = dtype("int32", np.int32, 1, 4, "Int", "int")
int64 = dtype("int64", np.int64, 1, 5, "Long", "long int")
float16 = dtype("float16", np.float16, 2, 6, "Half", "c10::Half")
float32 = dtype("float32", np.float32, 2, 7, "Float", "float")
float64 = dtype("float64", np.float64, 2, 8, "Double", "double")
# -- complex dtypes: a pair of floats (real, imag); they rank as their real part in promotion ----------
complex64 = dtype("complex64", np.complex64, 3, 7, "ComplexFloat", "c10::complex<float>")
complex128 = dtype("complex128", np.complex128, 3, 8, "ComplexDouble", "c10::complex<double>")
_REAL_OF = {complex64: float32, complex128: float64}
_COMPLEX_OF = {float32: complex64, float64: complex128}


class _ExtensionDtype(dtype):
    """A dtype whose NumPy type comes from an optional package (bfloat16: ml_dtypes), looked up on first
    use so that `import ember` needs NumPy only. Without the package the name exists and prints, and
    computing in it raises an error that says what to install."""
    __slots__ = ("_np", "_package")

    def __init__(self, name, package, kind, rank, word, c_name):
        self.name, self._package, self._np = name, package, None
        self.word, self.c_name = word, c_name
        self.is_floating_point = kind == 2
        self.is_signed = True
        self.itemsize = 2
        self._kind, self._rank = kind, rank

    @property
    def np(self):
        if self._np is None:
            try:
                module = __import__(self._package)
            except ImportError:
                raise TypeError(f"computing in torch.{self.name} needs the '{self._package}' package "
                                f"(pip install {self._package}, or ember's 'ml_dtypes' extra)") from None
            self._np = np.dtype(getattr(module, self.name))
            _BY_NP[self._np] = self
        return self._np


bfloat16 = _ExtensionDtype("bfloat16", "ml_dtypes", 2, 6, "BFloat16", "c10::BFloat16")   # rank 6 like float16: together they make float32

ALL = (bool_, uint8, int8, int16, int32, int64, float16, float32, float64, complex64, complex128)
_BY_NP = {d.np: d for d in ALL}
_BY_NAME = {d.name: d for d in ALL}
_BY_NAME["bfloat16"] = bfloat16

# PyTorch's aliases, exported as ember.float, ember.long, ...
ALIASES = {
    "float": float32, "double": float64, "half": float16,
    "long": int64, "int": int32, "short": int16, "bool": bool_, "cfloat": complex64, "cdouble": complex128,
}

_default_float = [float32]


def type_word(d):
    """The word PyTorch's messages use for a dtype: Float, Long, ..."""
    return d.word


def legacy_type_name(d):
    """torch.FloatTensor, torch.LongTensor, ...: Tensor.type() and PyTorch's messages."""
    return f"torch.{d.word}Tensor"


def _dtype_by_name(name):
    return _BY_NAME[name]


def get_default_dtype():
    return _default_float[0]


def get_default_complex_dtype():
    """What a Python complex number becomes: complex64 under float32, complex128 under float64."""
    return _COMPLEX_OF.get(_default_float[0], complex64)


def set_default_dtype(d):
    if d not in (float32, float64, float16):
        raise TypeError(f"only floating-point types are supported as the default type, got {d}")
    _default_float[0] = d


def from_numpy_dtype(np_dtype):
    try:
        return _BY_NP[np_dtype]
    except KeyError:
        if np.dtype(np_dtype).name == "bfloat16" and bfloat16.np == np_dtype:   # ml_dtypes' array
            return bfloat16
        raise TypeError(
            f"can't convert np.ndarray of type numpy.{np.dtype(np_dtype).name}. The only supported types are: "
            "float64, float32, float16, complex64, complex128, int64, int32, int16, int8, uint8, and bool.") from None


def to_dtype(d):
    """Accept an ember dtype, a NumPy dtype or a Python type (float, int, bool) as `dtype=`."""
    if isinstance(d, dtype):
        return d
    if d is float:
        return float64
    if d is int:
        return int64
    if d is bool:
        return bool_
    if d is complex:
        return complex128
    return from_numpy_dtype(np.dtype(d))


def _promote_pair(a, b):
    """Result of combining two dtypes of equal standing (both tensors of the same 'dimension class')."""
    if a is b:
        return a
    if a._kind == 3 or b._kind == 3:
        # complex with anything: complex, with the wider real part (complex64 with float64 -> complex128)
        return _promote_pair(a.to_real(), b.to_real()).to_complex()
    if a._kind != b._kind:
        return a if a._kind > b._kind else b
    if a._kind == 2 and a._rank == b._rank:
        return float32      # float16 with bfloat16: neither holds the other
    if a._kind == 1 and (a is uint8 or b is uint8):
        # uint8 with a signed int: the smallest signed type that holds both
        other = b if a is uint8 else a
        return int16 if other is int8 else other
    return a if a._rank > b._rank else b


def promote_types(a, b):
    return _promote_pair(a, b)


def result_type(*operands):
    """PyTorch's result_type: tensors with dims outrank 0-d tensors, which outrank Python scalars,
    but only inside the same category (bool < integer < floating < complex). A higher category from a
    lower-ranked operand lifts the result to that category (int tensor * 2.5 -> float32, float64 tensor
    * 1j -> complex128)."""
    dim_t = zero_t = scalar = None
    for op in operands:
        d = getattr(op, "dtype", None)
        if isinstance(d, dtype):
            if op.ndim:
                dim_t = d if dim_t is None else _promote_pair(dim_t, d)
            else:
                zero_t = d if zero_t is None else _promote_pair(zero_t, d)
        else:
            sd = scalar_dtype(op)
            scalar = sd if scalar is None else _promote_pair(scalar, sd)
    if scalar is not None and scalar._kind:
        scalar = _WRAPPED_NUMBER[scalar._kind]()  # a number stands for its category's default dtype
    return _combine_categories(dim_t, _combine_categories(zero_t, scalar))


_WRAPPED_NUMBER = {1: lambda: int64, 2: get_default_dtype, 3: get_default_complex_dtype}


def _combine_categories(higher, lower):
    """The dtype of a higher-priority group of operands combined with a lower one (PyTorch's rule)."""
    if higher is None:
        return lower
    if lower is None or higher._kind == 3:
        return higher
    if lower._kind == 3:
        # a lower complex keeps a floating result's precision (float64 tensor * 1j -> complex128)
        return higher.to_complex() if higher._kind == 2 else lower
    if higher._kind == 2:
        return higher
    if higher is bool_ or lower._kind == 2:
        return _promote_pair(higher, lower)
    return higher


def scalar_dtype(x):
    """The dtype a Python scalar stands for in promotion (float → default float, int → int64)."""
    if isinstance(x, bool):
        return bool_
    if isinstance(x, int):
        return int64
    if isinstance(x, float):
        return get_default_dtype()
    if isinstance(x, complex):
        return get_default_complex_dtype()
    if isinstance(x, np.generic):
        return from_numpy_dtype(x.dtype)
    raise TypeError(f"unsupported operand type: {type(x).__name__}")
