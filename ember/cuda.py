"""ember.cuda: there is no GPU backend yet, so nothing is available and asking for one says so."""


def is_available():
    return False


def device_count():
    return 0


def current_device():
    raise AssertionError("Torch not compiled with CUDA enabled: ember runs on the CPU only")


def manual_seed(seed):
    pass


def manual_seed_all(seed):
    pass


def synchronize(device=None):
    pass


def empty_cache():
    pass


def get_device_name(device=None):
    current_device()
