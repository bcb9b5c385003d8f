"""Devices. ember computes on the CPU; 'cuda' is understood but refused clearly when used."""


class device:
    __slots__ = ("type", "index")

    def __init__(self, type_or_str, index=None):
        if isinstance(type_or_str, device):
            self.type, self.index = type_or_str.type, type_or_str.index
            return
        if isinstance(type_or_str, int):
            type_or_str, index = "cuda", type_or_str
        kind, _, idx = str(type_or_str).partition(":")
        if kind not in ("cpu", "cuda", "mps", "meta"):
            raise RuntimeError(f"Expected one of cpu, cuda, mps, meta device type at start of device string: "
                               f"{type_or_str}")
        if idx:
            index = int(idx)
        self.type, self.index = kind, index

    def __repr__(self):
        if self.index is None:
            return f"device(type='{self.type}')"
        return f"device(type='{self.type}', index={self.index})"

    def __str__(self):
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __eq__(self, other):
        if isinstance(other, str):
            other = device(other)
        return isinstance(other, device) and (self.type, self.index) == (other.type, other.index)

    def __hash__(self):
        return hash((self.type, self.index))

    def __enter__(self):
        as_device(self)
        return self

    def __exit__(self, *exc):
        return False


cpu = device("cpu")


def as_device(d):
    """The device to compute on for a `device=` argument; only the CPU exists in ember."""
    if d is None:
        return cpu
    d = d if isinstance(d, device) else device(d)
    if d.type != "cpu":
        # same exception type as a CPU-only PyTorch build, with the way out spelled out
        raise AssertionError(f"Torch not compiled with CUDA enabled: ember runs on the CPU only, and "
                             f"device '{d}' is not available (torch.cuda.is_available() is False here; "
                             f"use device='cpu').")
    return cpu
