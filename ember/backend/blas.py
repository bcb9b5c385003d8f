"""axpy, y += alpha * x, with one rounding per element, as PyTorch's `add_(x, alpha=alpha)` computes it.

NumPy has no fused multiply-add, so `y += alpha * x` written in NumPy rounds twice (the product, then the
sum) and needs a temporary the size of x: two passes over memory, three with the temporary's. PyTorch's
CPU add kernel computes `fmadd(x, alpha, y)` in one pass. The optimizers' updates are such adds
(`param.add_(grad, alpha=-lr)`, `grad.add(param, alpha=weight_decay)`), over every parameter on every step.

BLAS's level-1 `?axpy` is that same fused, one-pass kernel, and NumPy's own OpenBLAS ships it. Two named
routes (ROUTES); `force_route(name)` makes every call take one (for tests):

* "blas": OpenBLAS's saxpy/daxpy through ctypes, found in the library NumPy already loaded. Its
  vectorized body matches PyTorch bit for bit; the last few elements of an odd length may differ in the
  last bit where one library's scalar tail fuses and the other's does not.
* "reference": the two NumPy passes above (the product rounded first), for any dtype, and wherever no
  OpenBLAS is loaded (NumPy built against MKL or Accelerate).

Which elements reach the kernel's vector loop and which its scalar tail (the last n % 16 or so, fused or
not depending on how the library was built) depends on where an array is cut: callers that split an
array into pieces cut at multiples of ALIGN elements, and BLAS runs axpy single-threaded (its own split
would cut anywhere), so results do not depend on the thread count.
"""
import ctypes

import numpy as np

from ember.backend.routes import Routes
from ember.backend.threads import _openblas_libraries, single_threaded_blas

__all__ = ["axpy", "ALIGN", "ROUTES", "force_route", "blas_axpy_available"]

ROUTES = {
    "blas": "OpenBLAS's ?axpy (float32/float64, contiguous): one pass, the product and sum rounded once",
    "reference": "np.multiply into a temporary, then np.add: two passes, the product rounded first",
}
_routes = Routes("axpy", ROUTES)
force_route = _routes.force     # tests; "blas" where it cannot run raises ValueError
ALIGN = 64
# dtype -> the library's axpy (with the C integer type of its length argument), or None; filled on the
# first call (finding the library reads /proc/self/maps and loads it with ctypes)
_kernels = {}


def _find_kernels():
    """saxpy and daxpy from the OpenBLAS NumPy loaded. NumPy's wheels bundle an ILP64 build with prefixed
    symbols ("scipy_cblas_saxpy64_", 64-bit lengths); a system OpenBLAS exports plain "cblas_saxpy"."""
    found = {}
    for lib in _openblas_libraries():
        for letter, dtype, real in (("s", np.float32, ctypes.c_float), ("d", np.float64, ctypes.c_double)):
            for name, integer in ((f"scipy_cblas_{letter}axpy64_", ctypes.c_int64),
                                  (f"cblas_{letter}axpy64_", ctypes.c_int64),
                                  (f"scipy_cblas_{letter}axpy", ctypes.c_int),
                                  (f"cblas_{letter}axpy", ctypes.c_int)):
                fn = getattr(lib, name, None)
                if fn is not None and np.dtype(dtype) not in found:
                    fn.argtypes = [integer, real, ctypes.c_void_p, integer, ctypes.c_void_p, integer]
                    fn.restype = None
                    found[np.dtype(dtype)] = (fn, 2 ** (8 * ctypes.sizeof(integer) - 1) - 1)
    for dtype in (np.dtype(np.float32), np.dtype(np.float64)):
        _kernels[dtype] = found.get(dtype)


def _kernel(dtype):
    """(the library's axpy for dtype, the largest length it takes), or None."""
    if not _kernels:
        _find_kernels()
    return _kernels.get(dtype)


def _blas_kernel(x, y):
    """The library's axpy for these arrays, or None when the "blas" route cannot take them."""
    kernel = _kernel(y.dtype)
    if (kernel is None or x.dtype != y.dtype or x.shape != y.shape or y.size > kernel[1]
            or not (x.flags.c_contiguous and y.flags.c_contiguous and y.flags.writeable)):
        return None
    return kernel[0]


def blas_axpy_available(dtype=np.float32):
    return _kernel(np.dtype(dtype)) is not None


def axpy(alpha, x, y):
    """y += alpha * x in place (arrays of one shape and dtype); returns y."""
    forced = _routes.forced
    if forced != "reference":
        kernel = _blas_kernel(x, y)
        if kernel is not None:
            if y.size:
                single_threaded_blas()
                kernel(y.size, alpha, x.ctypes.data, 1, y.ctypes.data, 1)
            return y
        if forced == "blas":
            raise ValueError(f"axpy route 'blas' does not apply to {x.dtype} {list(x.shape)} and {y.dtype} "
                             f"{list(y.shape)} arrays (contiguous float32/float64 with OpenBLAS loaded)")
    np.add(y, np.multiply(x, alpha, out=np.empty_like(y)), out=y)
    return y
