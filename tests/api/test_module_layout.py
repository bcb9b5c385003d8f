"""ember.nn.modules.<family> paths are torch.nn.modules.<family> paths, for every layer ember has.

New families (rnn.py, transformer.py, padding.py, ...) dropped into ember/nn/modules/ are picked up by these
tests without editing them."""
import importlib
import inspect
import pkgutil

import pytest
import torch

import ember
import ember.nn.modules


def ember_layer_classes():
    return sorted((name, obj) for name, obj in vars(ember.nn).items()
                  if inspect.isclass(obj) and issubclass(obj, ember.nn.Module))


FAMILIES = sorted(m.name for m in pkgutil.iter_modules(ember.nn.modules.__path__) if not m.name.startswith("_"))


@pytest.mark.parametrize("name,cls", ember_layer_classes(), ids=[n for n, _ in ember_layer_classes()])
def test_layer_lives_where_torch_keeps_it(name, cls):
    theirs = getattr(torch.nn, name, None)
    assert theirs is not None, f"ember.nn.{name} is not a torch.nn name"
    assert cls.__module__.replace("ember", "torch", 1) == theirs.__module__
    # and importable through that path
    module = importlib.import_module(cls.__module__)
    assert getattr(module, name) is cls


@pytest.mark.parametrize("family", FAMILIES)
def test_family_module_exists_in_torch_with_the_same_classes(family):
    ours = importlib.import_module(f"ember.nn.modules.{family}")
    theirs = importlib.import_module(f"torch.nn.modules.{family}")
    for name, obj in vars(ours).items():
        if inspect.isclass(obj) and obj.__module__ == ours.__name__ and not name.startswith("_"):
            assert hasattr(theirs, name), f"ember.nn.modules.{family}.{name} is not in torch.nn.modules.{family}"
            assert getattr(ember.nn, name, obj) is obj, f"ember.nn.{name} is not ember.nn.modules.{family}.{name}"


def test_the_paths_learner_programs_import():
    from ember.nn.modules.linear import Linear
    from ember.nn.modules.conv import Conv2d
    from ember.nn.modules.loss import CrossEntropyLoss
    from ember.nn.modules.activation import ReLU
    from ember.nn.modules.module import Module
    from ember.nn.modules.container import Sequential
    assert (Linear, Conv2d, CrossEntropyLoss, ReLU, Module, Sequential) == (
        ember.nn.Linear, ember.nn.Conv2d, ember.nn.CrossEntropyLoss, ember.nn.ReLU, ember.nn.Module,
        ember.nn.Sequential)
    assert ember.nn.Parameter.__module__ == "ember.nn.parameter"
