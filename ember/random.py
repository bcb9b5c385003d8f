"""Random numbers: a Generator per stream, reproducible from a seed (ember's streams are not PyTorch's)."""
import numpy as np


class Generator:
    """torch.Generator: owns a NumPy bit generator; manual_seed makes its stream repeatable."""

    def __init__(self, device="cpu"):
        self.device = device
        self._seed = 67280421310721  # PyTorch's default seed, for familiarity
        self._bits = None

    @property
    def _np(self):
        """The NumPy generator, made at the first draw after a seed: `import ember` then needs no
        numpy.random (which imports secrets, hashlib and random: a tenth of ember's import time)."""
        if self._bits is None:
            self._bits = np.random.Generator(np.random.PCG64(self._seed & 0xFFFF_FFFF_FFFF_FFFF))
        return self._bits

    def manual_seed(self, seed):
        self._seed = int(seed)
        self._bits = None
        return self

    def seed(self):
        s = int(np.random.SeedSequence().entropy) & 0xFFFF_FFFF_FFFF_FFFF
        self.manual_seed(s)
        return s

    def initial_seed(self):
        return self._seed

    def get_state(self):
        from ember.creation import tensor
        state = self._np.bit_generator.state
        # PCG64 state: two 128-bit integers, stored as 32 bytes each way round
        raw = state["state"]["state"].to_bytes(16, "little") + state["state"]["inc"].to_bytes(16, "little")
        raw += bytes([state["has_uint32"]]) + state["uinteger"].to_bytes(4, "little")
        return tensor(list(raw), dtype="uint8")

    def set_state(self, new_state):
        raw = bytes(np.asarray(new_state._data, dtype=np.uint8).tolist())
        st = self._np.bit_generator.state
        st["state"]["state"] = int.from_bytes(raw[0:16], "little")
        st["state"]["inc"] = int.from_bytes(raw[16:32], "little")
        st["has_uint32"] = raw[32]
        st["uinteger"] = int.from_bytes(raw[33:37], "little")
        self._np.bit_generator.state = st
        return self


default_generator = Generator()


def default_generator_or(generator):
    return (generator or default_generator)._np


def manual_seed(seed):
    return default_generator.manual_seed(seed)


def seed():
    return default_generator.seed()


def initial_seed():
    return default_generator.initial_seed()


def get_rng_state():
    return default_generator.get_state()


def set_rng_state(state):
    default_generator.set_state(state)


def _complex_from_pairs(draw, shape, np_dtype, scale=1.0):
    """A complex sample as PyTorch draws one: real and imaginary parts drawn as a trailing pair of reals."""
    real = np.dtype(np_dtype).type(0).real.dtype
    pairs = draw(tuple(shape) + (2,), real)
    return (pairs * real.type(scale) if scale != 1.0 else pairs).view(np_dtype)[..., 0]


def uniform_array(shape, low, high, np_dtype, generator=None):
    """Uniform samples in [low, high), drawn in float64 and rounded to the target dtype."""
    if np.dtype(np_dtype).kind == "c":   # each part uniform in [low, high)
        return _complex_from_pairs(lambda s, d: uniform_array(s, low, high, d, generator), shape, np_dtype)
    g = default_generator_or(generator)
    if np.dtype(np_dtype) == np.float32:
        out = g.random(shape, dtype=np.float32)
    else:
        out = g.random(shape)
    if low != 0.0 or high != 1.0:
        out = out * (high - low) + low
    return out.astype(np_dtype, copy=False)


def normal_array(shape, mean, std, np_dtype, generator=None):
    if np.dtype(np_dtype).kind == "c":   # variance 1 in total: each part N(0, 1/2), as torch.randn(dtype=cfloat)
        return _complex_from_pairs(lambda s, d: normal_array(s, 0.0, 1.0, d, generator), shape, np_dtype,
                                   std * 0.5 ** 0.5) + mean
    g = default_generator_or(generator)
    if np.dtype(np_dtype) == np.float32:
        out = g.standard_normal(shape, dtype=np.float32)
    else:
        out = g.standard_normal(shape)
    if std != 1.0:
        out *= std
    if mean != 0.0:
        out += mean
    return out.astype(np_dtype, copy=False)
