"""Complex numbers: the parts of a complex tensor and the ways to build one.

The dtypes are ember.complex64 / complex128 (ember/backend/dtypes.py); NumPy computes in them, so the
arithmetic ops (+ - * / @) work on complex tensors as they are. What needs care is the gradient. PyTorch
treats a complex number z = x + iy as the pair (x, y): the gradient of a real loss L with respect to z is
dL/dx + i dL/dy (twice the conjugate Wirtinger derivative dL/dz*), so that `z - lr * z.grad` descends.
In that convention the gradient passes back through a holomorphic f as grad * conj(f'(z)), and an op
that takes a real input to a complex output (x.to(complex64), complex(x, y), polar) passes back the real
part (PyTorch's handle_r_to_c).

`.real` and `.imag` are views of the complex tensor's storage, as in PyTorch (NumPy's `.real`/`.imag` of a
complex array are views). ember materialises `conj()` (PyTorch sets a lazy conjugate bit instead): the
values are the same, only `is_conj()` and aliasing differ, and ember has neither.
"""
import numpy as np

from ember.autograd.function import Function
from ember.backend import dtypes as _dt
from ember.tensor import Tensor


def _word(t):
    return _dt.type_word(t.dtype)


def _as_view(out, base):
    from ember.ops.shape import _as_view as as_view
    return as_view(out, base)


# -- the parts of a complex tensor ------------------------------------------------------------

class Real(Function):
    @classmethod
    def _node_name(cls):
        return "SelectBackward0"   # PyTorch takes the part as a select of view_as_real

    def forward(self, a):
        return a.real

    def backward(self, grad):
        # only x moves the real part: the gradient is grad + 0i
        return complex(grad, _zeros_like(grad))


class Imag(Function):
    @classmethod
    def _node_name(cls):
        return "SelectBackward0"

    def forward(self, a):
        return a.imag

    def backward(self, grad):
        return complex(_zeros_like(grad), grad)


def _zeros_like(t):
    return Tensor._make(np.zeros_like(t._data))


def real(input):
    """The real part, a view; a real tensor is its own real part."""
    if not input.dtype.is_complex:
        return input
    return _as_view(Real.apply(input), input)


def imag(input):
    if not input.dtype.is_complex:
        raise RuntimeError("imag is not implemented for tensors with non-complex dtypes.")
    return _as_view(Imag.apply(input), input)


_real_property = property(real, doc="The real part of a complex tensor (a view); a real tensor itself.")
_imag_property = property(imag, doc="The imaginary part of a complex tensor (a view).")


class ViewAsReal(Function):
    def forward(self, a):
        # a view for any layout: the real parts with a trailing axis whose step reaches the imaginary part
        re = a.real
        return np.lib.stride_tricks.as_strided(re, a.shape + (2,), a.strides + (re.itemsize,),
                                               writeable=a.flags.writeable)

    def backward(self, grad):
        return view_as_complex(grad.contiguous())


class ViewAsComplex(Function):
    def forward(self, a):
        return a.view(_dt.from_numpy_dtype(a.dtype).to_complex().np)[..., 0]

    def backward(self, grad):
        return view_as_real(grad)


def view_as_real(input):
    """A complex tensor's (..., 2) float view: [..., 0] real parts, [..., 1] imaginary parts."""
    if not input.dtype.is_complex:
        raise RuntimeError("view_as_real is only supported for complex tensors")
    return _as_view(ViewAsReal.apply(input), input)


def view_as_complex(input):
    """A (..., 2) float tensor read as complex numbers (a view of the same storage)."""
    if input.dtype not in (_dt.float32, _dt.float64):
        raise RuntimeError(f"view_as_complex is only supported for half, float and double tensors, but got a "
                           f"tensor of scalar type: {_word(input)}")
    if input.ndim == 0:
        raise RuntimeError("Input tensor must have one or more dimensions")
    if input.shape[-1] != 2:
        raise RuntimeError("Tensor must have a last dimension of size 2")
    strides = input.stride()
    if strides[-1] != 1:
        raise RuntimeError("Tensor must have a last dimension with stride 1")
    if any(s % 2 for s in strides[:-1]):
        raise RuntimeError("Tensor must have a stride divisible by 2 for all but last dimension")
    return _as_view(ViewAsComplex.apply(input), input)


# -- building complex tensors -----------------------------------------------------------------

def _check_parts(real, imag, fname="complex", names=("real", "imag")):
    for position, (name, part) in enumerate(zip(names, (real, imag)), 1):
        if not isinstance(part, Tensor):
            raise TypeError(f"{fname}(): argument '{name}' (position {position}) must be Tensor, not "
                            f"{type(part).__name__}")
    if real.dtype not in (_dt.float32, _dt.float64) or imag.dtype not in (_dt.float32, _dt.float64):
        raise RuntimeError(f"Expected both inputs to be Half, Float or Double tensors but got {_word(real)} and "
                           f"{_word(imag)}")
    if real.dtype is not imag.dtype:
        raise RuntimeError(f"Expected object of scalar type {_word(real)} but got scalar type {_word(imag)} for "
                           f"second argument")


class Complex(Function):
    def forward(self, re, im):
        self.shapes = (re.shape, im.shape)
        out = np.empty(np.broadcast_shapes(re.shape, im.shape), _dt.from_numpy_dtype(re.dtype).to_complex().np)
        out.real, out.imag = re, im
        return out

    def backward(self, grad):
        from ember.ops.elementwise import sum_to
        sr, si = self.shapes
        return sum_to(real(grad), sr), sum_to(imag(grad), si)


def complex(real, imag, *, out=None):  # noqa: A001  (torch.complex)
    """real + i imag, broadcast; both float32 or both float64."""
    _check_parts(real, imag)
    try:
        return Complex.apply(real, imag)
    except ValueError:
        from ember.ops.elementwise import raise_broadcast_error
        raise_broadcast_error(real.shape, imag.shape)


class Polar(Function):
    save_output = True

    def forward(self, r, theta):
        self.shapes = (r.shape, theta.shape)
        out = np.empty(np.broadcast_shapes(r.shape, theta.shape), _dt.from_numpy_dtype(r.dtype).to_complex().np)
        out.real, out.imag = r * np.cos(theta), r * np.sin(theta)
        return out

    def backward(self, grad):
        # PyTorch's polar_backward: d out/d abs = e^{i angle} = sgn(out), d out/d angle = i out
        from ember.ops.elementwise import sum_to
        out = self.output
        g = conj(grad)
        sr, st = self.shapes
        return sum_to(real(g * _sgn(out)), sr), sum_to(real(g * (out * 1j)), st)


def polar(abs, angle, *, out=None):  # noqa: A002  (torch's argument names)
    """abs * (cos(angle) + i sin(angle))."""
    _check_parts(abs, angle, "polar", ("abs", "angle"))
    try:
        return Polar.apply(abs, angle)
    except ValueError:
        from ember.ops.elementwise import raise_broadcast_error
        raise_broadcast_error(abs.shape, angle.shape)


def _sgn(z):
    """z / |z| (0 at 0) with recorded ops, so that its gradient and second derivatives work; at 0 the
    numerator is 0 and the divisor 1, so no NaN enters the graph."""
    from ember.ops.elementwise import where
    zero = z == 0
    return where(zero, 0.0, z) / where(zero, 1.0, z.abs())


# -- conjugate and angle ------------------------------------------------------------------------

class Conj(Function):
    @classmethod
    def _node_name(cls):
        return "ConjBackward0"

    def forward(self, a):
        return np.conj(a)

    def backward(self, grad):
        return conj(grad)


def conj(input):
    """The complex conjugate (materialised); a real tensor is its own conjugate."""
    if not input.dtype.is_complex:
        return input
    return Conj.apply(input)


class Angle(Function):
    save = (0,)

    def forward(self, a):
        if a.dtype.kind == "c":
            return np.angle(a)
        # a real number's angle is pi below 0 and 0 elsewhere (-0.0 included); NaN stays NaN
        return np.where(np.isnan(a), a, np.where(a < 0, np.pi, 0.0)).astype(a.dtype)

    def backward(self, grad):
        (z,) = self.saved_tensors
        if not z.dtype.is_complex:
            return grad * 0     # piecewise constant (0 or pi) for a real input
        # d angle = (x dy - y dx) / |z|^2: the gradient is grad * i z / |z|^2, 0 at z = 0 (PyTorch); recorded
        # (the divisor 1 where z is 0, so no NaN enters the graph) for second derivatives
        from ember.ops.elementwise import where
        x, y = real(z), imag(z)
        return grad * (z * 1j) / where(z == 0, 1.0, x * x + y * y)


def angle(input, *, out=None):
    """The argument of each element: atan2(imag, real); for a real tensor 0 or pi (NaN stays NaN)."""
    if input.dtype._kind < 2:
        from ember.ops.elementwise import cast
        input = cast(input, _dt.get_default_dtype())
    return Angle.apply(input)


def resolve_conj(input):
    """PyTorch materialises a lazily conjugated tensor here; ember's conj() is already materialised."""
    return input


def resolve_neg(input):
    return input


def is_complex(input):
    return input.dtype.is_complex
