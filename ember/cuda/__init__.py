"""ember.cuda: there is no GPU backend, so this answers as a CPU-only PyTorch build does: nothing is
available, the seeding and cache calls are silent no-ops, and what needs a device raises the same
AssertionError (with the way out spelled out)."""
_NO_CUDA = "Torch not compiled with CUDA enabled"


def _no_cuda(*args, **kwargs):
    raise AssertionError(_NO_CUDA)


def is_available():
    return False


def is_initialized():
    return False


def device_count():
    return 0


def is_bf16_supported(including_emulation=True):
    return False


def get_arch_list():
    return []


# a CPU-only PyTorch accepts these and does nothing
def manual_seed(seed):
    pass


def manual_seed_all(seed):
    pass


def seed():
    pass


def seed_all():
    pass


def empty_cache():
    pass


def memory_allocated(device=None):
    return 0


def max_memory_allocated(device=None):
    return 0


def memory_reserved(device=None):
    return 0


def max_memory_reserved(device=None):
    return 0


# these need a device: the same AssertionError as a CPU-only PyTorch build
current_device = init = synchronize = get_device_name = get_device_capability = get_device_properties = _no_cuda
get_rng_state = set_rng_state = initial_seed = ipc_collect = current_stream = mem_get_info = _no_cuda
set_device = reset_peak_memory_stats = _no_cuda


def __getattr__(name):
    # torch.cuda.amp loads on first use: most programs never touch it
    if name == "amp":
        import importlib
        return importlib.import_module("ember.cuda.amp")
    raise AttributeError(f"module 'ember.cuda' has no attribute '{name}'")
