"""Recording what a forward pass computes, for ONNX export.

ember.autograd._op_hooks.watching_ops wraps every op's `forward` for the duration of one forward pass,
and each outermost call is recorded as (op class name, the node, its arguments by name, output array).
Values are identified by the arrays themselves (id of the ndarray, kept alive for the trace), which is
what makes the fast paths and in-place ops visible: an in-place op runs an out-of-place op and copies its
result into the tensor's array, so Tensor._inplace is wrapped too, to say that array now holds the op's
result.

Tracing at the op level (rather than walking the module tree) sees what a module's forward does between its
layers -- `x.view(x.size(0), -1)`, `out += identity`, `torch.cat` -- which a module walk cannot.
"""
import contextlib
import inspect

import numpy as np

from ember.autograd._op_hooks import watching_ops


class Record:
    __slots__ = ("op", "fn", "inputs", "params", "output")

    def __init__(self, op, fn, inputs, params, output):
        self.op, self.fn, self.inputs, self.params, self.output = op, fn, inputs, params, output


class Tracer:
    def __init__(self):
        self.records = []
        self.keep = []          # every array seen, so that no id is reused during the trace
        self.events = []        # (record index, id(array)): after that record, the array holds its output
        self.depth = 0
        self._stack = contextlib.ExitStack()

    def _wrap_forward(self, original):
        tracer = self
        signature = inspect.signature(original)

        def forward(fn, *arrays, **params):
            tracer.depth += 1
            try:
                out = original(fn, *arrays, **params)
            finally:
                tracer.depth -= 1
            if tracer.depth == 0:
                out_arr = out if isinstance(out, (np.ndarray, tuple)) else np.asarray(out)
                tracer.keep.extend(a for a in arrays if isinstance(a, np.ndarray))
                tracer.keep.append(out_arr)
                # every argument by its name in forward's signature (ops pass some positionally, some as
                # keywords), and in signature order
                bound = signature.bind(fn, *arrays, **params)
                bound.apply_defaults()
                named = dict(list(bound.arguments.items())[1:])
                values = list(named.pop("arrays")) if "arrays" in named else list(named.values())
                tracer.records.append(Record(type(fn).__name__, fn, values, named, out_arr))
                if out_arr is not out:
                    return out_arr
            return out
        return forward

    def _wrap_inplace(self, original):
        tracer = self

        def _inplace(tensor, op, *args, **kwargs):
            before = len(tracer.records)
            result = original(tensor, op, *args, **kwargs)
            if len(tracer.records) > before:
                tracer.keep.append(tensor._data)
                tracer.events.append((len(tracer.records) - 1, id(tensor._data)))
            return result
        return _inplace

    def __enter__(self):
        from ember.tensor import Tensor
        self._stack.enter_context(watching_ops(self._wrap_forward))
        self._inplace_original = Tensor.__dict__["_inplace"]
        Tensor._inplace = self._wrap_inplace(self._inplace_original)
        # binary in-place operators (`out += identity`) go through _inplace_binary's ufunc fast path when
        # nothing requires grad; route them through _inplace so the trace sees them
        self._binary_original = Tensor.__dict__["_inplace_binary"]
        Tensor._inplace_binary = lambda t, fn, other: t._inplace(fn, other)
        return self

    def __exit__(self, *exc):
        from ember.tensor import Tensor
        Tensor._inplace = self._inplace_original
        Tensor._inplace_binary = self._binary_original
        self._stack.close()
        return False
