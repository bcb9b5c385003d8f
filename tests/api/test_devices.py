"""Device queries a CPU-only program makes, answered as a CPU-only torch 2.13 answers them."""
import pytest
import torch

import ember


def outcome(fn, *args):
    """What a call gives: its value, or the exception type and message it raises."""
    try:
        return ("value", fn(*args))
    except Exception as e:  # noqa: BLE001
        return ("raises", type(e), str(e).split(":")[0])


@pytest.mark.parametrize("name,args", [
    ("is_available", ()), ("current_accelerator", ()), ("device_count", ()),
    ("current_device_index", ()), ("synchronize", ()),
])
def test_accelerator(name, args):
    assert outcome(getattr(ember.accelerator, name), *args) == outcome(getattr(torch.accelerator, name), *args)
    assert ember.accelerator.current_accelerator(check_available=True) is None


@pytest.mark.parametrize("name,args", [
    ("is_available", ()), ("device_count", ()), ("is_initialized", ()), ("is_bf16_supported", ()),
    ("manual_seed", (0,)), ("manual_seed_all", (0,)), ("seed", ()), ("seed_all", ()), ("empty_cache", ()),
    ("memory_allocated", ()), ("max_memory_allocated", ()), ("memory_reserved", ()), ("get_arch_list", ()),
    ("synchronize", ()), ("current_device", ()), ("get_device_name", ()), ("get_device_properties", ()),
    ("get_rng_state", ()), ("init", ()), ("initial_seed", ()), ("get_device_capability", ()),
])
def test_cuda_module(name, args):
    assert outcome(getattr(ember.cuda, name), *args) == outcome(getattr(torch.cuda, name), *args)


def test_mps_and_cudnn_queries():
    assert ember.backends.mps.is_available() is torch.backends.mps.is_available() is False
    assert ember.backends.mps.is_built() is torch.backends.mps.is_built() is False
    assert ember.backends.cudnn.is_available() is torch.backends.cudnn.is_available()
    assert ember.backends.cudnn.version() == torch.backends.cudnn.version()
    assert ember.backends.cuda.is_built() is torch.backends.cuda.is_built()


@pytest.mark.parametrize("flag", ["enabled", "benchmark", "deterministic", "allow_tf32"])
def test_cudnn_flags_default_and_settable(flag):
    assert getattr(ember.backends.cudnn, flag) == getattr(torch.backends.cudnn, flag)
    before = getattr(ember.backends.cudnn, flag)
    try:
        setattr(ember.backends.cudnn, flag, not before)
        assert getattr(ember.backends.cudnn, flag) is (not before)
    finally:
        setattr(ember.backends.cudnn, flag, before)


def test_cudnn_flags_context_restores():
    with ember.backends.cudnn.flags(enabled=False, benchmark=True):
        assert ember.backends.cudnn.enabled is False and ember.backends.cudnn.benchmark is True
    assert ember.backends.cudnn.enabled is True and ember.backends.cudnn.benchmark is False


def test_matmul_tf32_flag_follows_precision_as_torch():
    for lib in (torch, ember):
        m = lib.backends.cuda.matmul
        assert m.allow_tf32 is False and lib.get_float32_matmul_precision() == "highest"
        m.allow_tf32 = True
        assert m.allow_tf32 is True and lib.get_float32_matmul_precision() == "high"
        lib.set_float32_matmul_precision("highest")
        assert m.allow_tf32 is False
        assert m.allow_fp16_reduced_precision_reduction is True
        with pytest.raises(AttributeError, match="Unknown attribute foo"):
            m.foo


FLAGS = ["is_cpu", "is_cuda", "is_xpu", "is_mps", "is_meta", "is_ipu", "is_maia", "is_mtia", "is_xla",
         "is_vulkan", "is_mkldnn", "is_quantized", "is_sparse", "is_sparse_csr", "is_nested"]


@pytest.mark.parametrize("flag", FLAGS)
def test_tensor_device_flags(flag):
    assert getattr(ember.zeros(2), flag) is getattr(torch.zeros(2), flag)
