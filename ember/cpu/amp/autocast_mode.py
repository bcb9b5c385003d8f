import warnings

from ember.amp import autocast_mode as _amp


class autocast(_amp.autocast):
    """torch.cpu.amp.autocast(args...): deprecated for torch.amp.autocast('cpu', args...)."""

    def __init__(self, enabled=True, dtype=None, cache_enabled=True):
        warnings.warn("`torch.cpu.amp.autocast(args...)` is deprecated. Please use "
                      "`torch.amp.autocast('cpu', args...)` instead.", FutureWarning, stacklevel=2)
        super().__init__("cpu", enabled=enabled, dtype=_amp._reduced("bfloat16") if dtype is None else dtype,
                         cache_enabled=cache_enabled)
