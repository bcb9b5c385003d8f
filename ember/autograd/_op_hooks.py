"""Watching every op for a while: what ONNX export (ember.onnx) and the profiler (ember.profiler) use.

Every ember op is a Function whose `forward` maps arrays to an array and whose `backward` maps the output
gradient to input gradients. `watching_ops` replaces `forward` (and optionally `backward`) on every Function
class by a wrapper for the duration of a `with` block, and puts the originals back after it. So watching
costs nothing outside the block -- the hot path (Function.apply and the binary ops' unrolled fast path,
which calls `forward` directly) is untouched -- and inside it every op is seen, fast paths included.
"""
import contextlib
import importlib

_OP_MODULES = ("elementwise", "shape", "reduce", "linalg", "index", "activation", "conv", "pool", "norm", "loss")


def _function_classes():
    from ember.autograd.function import Function
    for name in _OP_MODULES:      # define every op class before patching (some families load lazily)
        importlib.import_module("ember.ops." + name)
    seen, todo = [], [Function]
    while todo:
        for sub in todo.pop().__subclasses__():
            if sub not in seen:
                seen.append(sub)
                todo.append(sub)
    return seen


@contextlib.contextmanager
def watching_ops(wrap_forward, wrap_backward=None):
    """wrap_forward(original) -> the forward to use while the block runs (likewise wrap_backward).
    A wrapper is called as wrapper(fn, *args, **params), fn being the op's node; type(fn) names the op."""
    patched = []
    try:
        for cls in _function_classes():
            for method, wrap in (("forward", wrap_forward), ("backward", wrap_backward)):
                if wrap is not None and method in cls.__dict__:
                    original = cls.__dict__[method]
                    patched.append((cls, method, original))
                    setattr(cls, method, wrap(original))
        yield
    finally:
        for cls, method, original in reversed(patched):
            setattr(cls, method, original)
