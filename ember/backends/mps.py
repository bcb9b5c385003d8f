"""torch.backends.mps: Apple's GPU backend, never present in ember."""


def is_available():
    return False


def is_built():
    return False
