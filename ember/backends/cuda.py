"""torch.backends.cuda: not built into ember. `matmul.allow_tf32` and friends are settable flags (read by
nothing: ember multiplies in full precision) and `matmul.allow_tf32` follows
`ember.set_float32_matmul_precision` as in PyTorch."""

_PRECISIONS = ("highest", "high", "medium")


class cuBLASModule:
    """torch.backends.cuda.matmul: known attributes only; anything else is an AttributeError."""
    _FLAGS = {"allow_fp16_reduced_precision_reduction": True, "allow_bf16_reduced_precision_reduction": True,
              "allow_fp16_accumulation": False}

    def __init__(self):
        object.__setattr__(self, "_values", dict(self._FLAGS))

    def __getattr__(self, name):
        if name == "allow_tf32":
            return _matmul_precision[0] != "highest"
        if name in self._values:
            return self._values[name]
        raise AttributeError("Unknown attribute " + name)

    def __setattr__(self, name, value):
        if name == "allow_tf32":
            _matmul_precision[0] = "high" if value else "highest"
        elif name in self._values:
            self._values[name] = value
        else:
            raise AttributeError("Unknown attribute " + name)


_matmul_precision = ["highest"]
matmul = cuBLASModule()


def is_built():
    return False


def get_float32_matmul_precision():
    return _matmul_precision[0]


def set_float32_matmul_precision(precision):
    if precision not in _PRECISIONS:
        import warnings
        warnings.warn(f"{precision} is not one of 'highest', 'high', or 'medium'; the current"
                      "setFloat32MatmulPrecision call has no effect.")
        return
    _matmul_precision[0] = precision
