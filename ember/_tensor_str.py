"""Tensor printing that matches PyTorch's output character for character.

``repr(t)`` must read exactly like PyTorch's, so that tutorial output and
doctests carry over unchanged.  The rules below follow PyTorch 2.13's
``torch/_tensor_str.py``; this module re-derives them on NumPy arrays.

The pieces, in the order a repr is built:

* ``PRINT_OPTS`` and ``set_printoptions`` / ``get_printoptions`` /
  ``printoptions``: the user-tunable knobs (precision, threshold, edgeitems,
  linewidth, sci_mode).
* ``_Formatter``: looks at every value that will be shown, once, and decides
  a single style for the whole tensor (integer-like ``1.``, fixed ``1.2500``
  or scientific ``1.2500e+03``) and a common column width, so that columns
  line up.
* ``_tensor_body``: nests ``[...]`` brackets dimension by dimension, wraps
  long rows at ``linewidth`` and, above ``threshold`` elements, elides the
  middle of each dimension with ``...``.
* ``tensor_repr``: wraps the body in ``tensor(...)`` and appends suffixes
  such as ``dtype=torch.float64`` or ``grad_fn=<MulBackward0>``.
"""

import contextlib
import math
import sys

import numpy as np

__all__ = ["tensor_repr", "set_printoptions", "get_printoptions", "printoptions"]


# ---------------------------------------------------------------------------
# Print options
# ---------------------------------------------------------------------------


class _PrintOptions:
    """PyTorch's print options, in the order get_printoptions() lists them (a plain class: the
    dataclasses module would add a millisecond to `import ember`)."""

    def __init__(self):
        self.precision = 4  # digits after the decimal point
        self.threshold = 1000  # more elements than this => summarize with "..."
        self.edgeitems = 3  # items kept at each end of a summarized dimension
        self.linewidth = 80  # characters per line before a 1-d row wraps
        self.sci_mode = None  # None: choose automatically per tensor


PRINT_OPTS = _PrintOptions()

# Named presets. A profile sets these four fields; explicit arguments given in
# the same call win over it. sci_mode is not part of any profile.
_PROFILES = {
    "default": dict(precision=4, threshold=1000, edgeitems=3, linewidth=80),
    "short": dict(precision=2, threshold=1000, edgeitems=2, linewidth=80),
    "full": dict(precision=4, threshold=math.inf, edgeitems=3, linewidth=80),
}


def set_printoptions(
    precision=None,
    threshold=None,
    edgeitems=None,
    linewidth=None,
    profile=None,
    sci_mode=None,
):
    """Set options for printing tensors (same arguments as PyTorch's).

    Options left as None keep their current value, except ``sci_mode``:
    like PyTorch, every call sets it, so omitting it returns to automatic.
    An unknown profile name is ignored, as in PyTorch.
    """
    if profile in _PROFILES:
        for name, value in _PROFILES[profile].items():
            setattr(PRINT_OPTS, name, value)
    if precision is not None:
        PRINT_OPTS.precision = precision
    if threshold is not None:
        PRINT_OPTS.threshold = threshold
    if edgeitems is not None:
        PRINT_OPTS.edgeitems = edgeitems
    if linewidth is not None:
        PRINT_OPTS.linewidth = linewidth
    PRINT_OPTS.sci_mode = sci_mode


def get_printoptions():
    """The current print options, as a dict accepted by ``set_printoptions``."""
    return dict(vars(PRINT_OPTS))


@contextlib.contextmanager
def printoptions(**kwargs):
    """Temporarily change the print options inside a ``with`` block."""
    saved = get_printoptions()
    set_printoptions(**kwargs)
    try:
        yield
    finally:
        set_printoptions(**saved)


# ---------------------------------------------------------------------------
# Formatting individual values
# ---------------------------------------------------------------------------


class _Formatter:
    """Chooses one display style and width for all values of a real tensor.

    ``values`` is a NumPy array of the values that will actually be printed
    (only the edges, when summarizing), so hidden values do not influence
    the style.
    """

    def __init__(self, values, floating):
        self.floating = floating
        self.int_mode = True  # floats that are all whole numbers print as "3."
        self.sci_mode = False
        self.width = 1
        flat = values.ravel()

        if not floating:
            # Integers and bools print as Python would print them.
            for v in flat.tolist():
                self.width = max(self.width, len(str(v)))
            return

        # The style is decided by the finite, nonzero values only: zeros, nan
        # and inf print the same in every style. (Their width is not counted
        # either, so e.g. "nan" may be wider than its column.)
        shown = flat[np.isfinite(flat) & (flat != 0)]
        if shown.size == 0:
            return  # nothing informative: keep int_mode, even if sci_mode is forced

        # Magnitudes in float64 so the comparisons are exact even for float16.
        magnitudes = np.abs(shown).astype(np.float64)
        smallest, largest = magnitudes.min(), magnitudes.max()
        self.int_mode = bool(np.all(shown == np.ceil(shown)))

        if PRINT_OPTS.sci_mode is None:
            # Scientific notation when fixed-point would hide digits: a wide
            # dynamic range, very large values or very small values.
            with np.errstate(over="ignore"):
                ratio = largest / smallest
            self.sci_mode = bool(ratio > 1000.0 or largest > 1.0e8 or smallest < 1.0e-4)
        else:
            self.sci_mode = PRINT_OPTS.sci_mode

        p = PRINT_OPTS.precision
        for v in shown.tolist():
            if self.sci_mode:
                n = len(f"{v:.{p}e}")
            elif self.int_mode:
                n = len(f"{v:.0f}") + 1  # +1 for the trailing "."
            else:
                n = len(f"{v:.{p}f}")
            self.width = max(self.width, n)

    def format(self, value):
        """Format one Python scalar, right-aligned to the common width."""
        if not self.floating:
            text = str(value)
        elif self.sci_mode:
            text = f"{value:.{PRINT_OPTS.precision}e}"
        elif self.int_mode:
            text = f"{value:.0f}"
            if math.isfinite(value):
                text += "."  # "3." marks a float; "nan"/"inf" need no marker
        else:
            text = f"{value:.{PRINT_OPTS.precision}f}"
        return text.rjust(self.width)


class _ComplexFormatter:
    """Formats complex values as ``real+imagj`` with one formatter per part."""

    def __init__(self, values):
        self.real = _Formatter(values.real, floating=True)
        self.imag = _Formatter(values.imag, floating=True)
        # The imaginary part carries one extra character: the "j".
        self.width = self.real.width + self.imag.width + 1

    def format(self, value):
        real = self.real.format(value.real)
        imag = (self.imag.format(value.imag) + "j").lstrip()
        # A negative imaginary part (including -0.) brings its own sign.
        if imag[0] in "+-":
            return real + imag
        return real + "+" + imag


# ---------------------------------------------------------------------------
# Laying out a whole tensor
# ---------------------------------------------------------------------------


def _edges(data):
    """The values shown when summarizing: ``edgeitems`` at each end of each
    dimension longer than ``2 * edgeitems``. Used to choose the formatter."""
    e = PRINT_OPTS.edgeitems
    for axis, size in enumerate(data.shape):
        if size > 2 * e:
            keep = list(range(e)) + list(range(size - e, size))
            data = np.take(data, keep, axis=axis)
    return data


def _vector_str(row, indent, summarize, formatter):
    """A 1-d row: comma separated, wrapped so lines fit in ``linewidth``."""
    e = PRINT_OPTS.edgeitems
    fmt = formatter.format
    if summarize and not e:
        items = ["..."]
    elif summarize and len(row) > 2 * e:
        items = (
            [fmt(v) for v in row[:e].tolist()]
            + [" ..."]
            + [fmt(v) for v in row[-e:].tolist()]
        )
    else:
        items = [fmt(v) for v in row.tolist()]

    # Every item (including " ...") counts as width + len(", ").
    per_line = max(1, math.floor((PRINT_OPTS.linewidth - indent) / (formatter.width + 2)))
    lines = [", ".join(items[i : i + per_line]) for i in range(0, len(items), per_line)]
    return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"


def _nested_str(data, indent, summarize, formatter):
    """Recursively bracket ``data``; ``indent`` is the column of its "["."""
    if data.ndim == 0:
        return formatter.format(data.item())
    if data.ndim == 1:
        return _vector_str(data, indent, summarize, formatter)

    e = PRINT_OPTS.edgeitems
    n = data.shape[0]
    if summarize and n > 2 * e:
        parts = (
            [_nested_str(data[i], indent + 1, summarize, formatter) for i in range(e)]
            + ["..."]
            + [_nested_str(data[i], indent + 1, summarize, formatter) for i in range(n - e, n)]
        )
    else:
        parts = [_nested_str(data[i], indent + 1, summarize, formatter) for i in range(n)]

    # Sub-blocks of a d-dim tensor are separated by d-2 blank lines, so a 3-d
    # tensor shows its matrices one blank line apart.
    separator = "," + "\n" * (data.ndim - 1) + " " * (indent + 1)
    return "[" + separator.join(parts) + "]"


def _tensor_body(data, indent):
    """The bracketed contents of a tensor (without ``tensor(`` and suffixes)."""
    if data.size == 0:
        return "[]"
    if data.dtype.name == "bfloat16":
        data = data.astype(np.float32)      # ml_dtypes' bfloat16 (NumPy kind 'V'): print its exact values
    summarize = data.size > PRINT_OPTS.threshold
    shown = _edges(data) if summarize else data
    if data.dtype.kind == "c":
        formatter = _ComplexFormatter(shown)
    else:
        formatter = _Formatter(shown, floating=data.dtype.kind == "f")
    return _nested_str(data, indent, summarize, formatter)


# ---------------------------------------------------------------------------
# The full repr
# ---------------------------------------------------------------------------


def _default_float_dtype_name():
    """Name of the default floating dtype (``torch.float32`` unless the
    framework provides ``get_default_dtype`` and it was changed)."""
    get_default = getattr(sys.modules.get("ember"), "get_default_dtype", None)
    return str(get_default()) if get_default is not None else "torch.float32"


def _grad_fn_name(grad_fn):
    name = grad_fn.name() if hasattr(grad_fn, "name") else type(grad_fn).__name__
    return name.rsplit("::", 1)[-1]  # drop any C++-style namespace


def _add_suffixes(text, suffixes, indent):
    """Append ``, suffix`` items and the closing ")", moving a suffix to its
    own line (aligned under the contents) when it would overflow linewidth."""
    pieces = [text]
    # PyTorch measures the last line as 2 characters longer than it is (room
    # for ", "); kept as is so lines break at exactly the same places.
    line_len = len(text) - text.rfind("\n") + 1
    for suffix in suffixes:
        if line_len + len(suffix) + 2 > PRINT_OPTS.linewidth:
            pieces.append(",\n" + " " * indent + suffix)
            line_len = indent + len(suffix)
        else:
            pieces.append(", " + suffix)
            line_len += len(suffix) + 2
    pieces.append(")")
    return "".join(pieces)


def tensor_repr(t):
    """PyTorch-style ``repr`` of an ember tensor, e.g. ``tensor([1., 2.])``."""
    prefix = "tensor("
    indent = len(prefix)
    data = np.asarray(t._data)
    dtype_name = str(t.dtype)
    default_float = _default_float_dtype_name()
    default_complex = "torch.complex128" if default_float == "torch.float64" else "torch.complex64"
    suffixes = []

    device = str(t.device)
    if device != "cpu":
        suffixes.append(f"device='{device}'")

    if data.size == 0:
        body = "[]"
        # "[]" alone means shape (0,); any other empty shape is spelled out.
        if data.ndim != 1:
            suffixes.append(f"size={tuple(data.shape)}")
        # No values to hint at the kind, so only the default float is implicit.
        if dtype_name != default_float:
            suffixes.append(f"dtype={dtype_name}")
    else:
        body = _tensor_body(data, indent)
        if not PRINT_OPTS.edgeitems:
            suffixes.append(f"size={tuple(data.shape)}")  # body is just "[...]"
        # The values show whether it is float, int or bool; only a
        # non-default width within that kind needs saying.
        if dtype_name not in (default_float, default_complex, "torch.int64", "torch.bool"):
            suffixes.append(f"dtype={dtype_name}")

    grad_fn = getattr(t, "grad_fn", None)
    if grad_fn is not None:
        suffixes.append(f"grad_fn=<{_grad_fn_name(grad_fn)}>")
    elif t.requires_grad:
        suffixes.append("requires_grad=True")

    return _add_suffixes(prefix + body, suffixes, indent)
