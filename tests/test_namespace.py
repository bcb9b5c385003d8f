"""Every public name of ember, ember.nn, ember.nn.functional and ember.optim exists in torch 2.13 under
the same path (`import ember as torch` must not offer what torch does not have), except the extras
listed here, each with its reason. Keep the list short: a helper belongs under a `_private` name."""
import importlib
import pkgutil

import pytest
import torch

import ember

EXTRAS = {
    "ember.vision": "torchvision's API, used as `import ember.vision as torchvision` (one package, not two)",
    "ember.summary": "the layer table of the tutorials and of `ember summary` (the role torchinfo plays for torch)",
    "ember.backend": "the array backend package (what torch keeps in C++)",
    "ember.creation": "the module of the creation functions (same reason as ember.backend)",
    "ember.cli": "the `ember` command line (train, predict, summary); torch has no command of its own",
    "ember.text": "text data for language models (tokens, Vocab, the book's samplers, n-grams): torchtext's role",
}

MODULES = ["ember", "ember.nn", "ember.nn.functional", "ember.optim"]


def torch_has(path):
    """torch.<path> is an attribute, or an importable module, of torch 2.13."""
    parent, _, name = path.rpartition(".")
    if hasattr(importlib.import_module(parent), name):
        return True
    try:
        importlib.import_module(path)
    except ImportError:
        return False
    return True


def public_names(module_name):
    """The module's public attributes, with its own submodules counted as the files of the package (an
    attribute `ember.cli` exists only once something imported ember.cli: the list must not depend on that)."""
    module = importlib.import_module(module_name)
    names = {n for n in dir(module) if not n.startswith("_")
             and getattr(getattr(module, n), "__name__", None) != f"{module_name}.{n}"}
    names |= {m.name for m in pkgutil.iter_modules(getattr(module, "__path__", [])) if not m.name.startswith("_")}
    return sorted(names)


CASES = [pytest.param(m, n, id=f"{m}.{n}") for m in MODULES for n in public_names(m)]


@pytest.mark.parametrize("module,name", CASES)
def test_public_name_exists_in_torch(module, name):
    path = f"{module}.{name}"
    if path in EXTRAS:
        return
    torch_path = "torch" + path[len("ember"):]
    assert torch_has(torch_path), f"{path} is public but torch has no {torch_path}: make it _private or list it " \
                                  f"in EXTRAS with a reason"


@pytest.mark.parametrize("module", MODULES)
def test_all_lists_only_torch_names(module):
    names = getattr(importlib.import_module(module), "__all__", [])
    assert len(names) == len(set(names)), "duplicates in __all__"
    for name in names:
        path = f"{module}.{name}"
        assert path in EXTRAS or torch_has("torch" + path[len("ember"):]), path


def test_extras_are_still_there():
    """An extra that no longer exists should leave the list."""
    for path in EXTRAS:
        module, _, name = path.rpartition(".")
        assert name in public_names(module), path


def test_leaks_of_the_star_imports_are_gone():
    for name in ("np", "builtins", "Function", "SumTo", "as_operand", "wrap_dim"):
        assert not hasattr(ember, name), name
    assert ember.nn.Linear is not None and ember.nn.Linear.__module__.startswith("ember.nn")
    assert not hasattr(ember, "Linear")  # was the autograd node class, not the layer


def test_star_import_gives_all():
    namespace = {}
    exec("from ember import *", namespace)
    assert set(namespace) - {"__builtins__"} == set(ember.__all__)
    assert namespace["add"] is ember.add and namespace["float32"] is ember.float32


def test_import_ember_loads_only_numpy_and_light_stdlib():
    """`import ember` stays a tenth of torch's: no torch, and not numpy.random (its generators, secrets,
    hashlib), which the default Generator imports at its first draw instead."""
    import subprocess
    import sys
    code = ("import sys, ember\n"
            "print(','.join(m for m in ('torch', 'numpy.random', 'secrets', 'dataclasses') if m in sys.modules))\n"
            "ember.manual_seed(0); ember.rand(1)\n"
            "print('numpy.random' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split("\n")
    assert out[0] == ""
    assert out[1] == "True"


def test_lazy_default_generator_reproduces_seeded_draws():
    ember.manual_seed(1234)
    a = ember.rand(5)
    g = ember.Generator().manual_seed(1234)
    assert ember.equal(a, ember.rand(5, generator=g))
    ember.manual_seed(1234)
    assert ember.equal(a, ember.rand(5))
