"""One RemovableHandle (torch.utils.hooks.RemovableHandle) for tensor, module and optimizer hooks."""
import pytest
import torch

import ember
import ember.nn
import ember.optim
from ember.utils.hooks import RemovableHandle


def handles(lib):
    x = lib.ones(2, requires_grad=True)
    m = lib.nn.Linear(2, 2)
    opt = lib.optim.SGD(m.parameters(), lr=0.1)
    return {
        "tensor": x.register_hook(lambda g: g),
        "module_forward": m.register_forward_hook(lambda *a: None),
        "module_pre": m.register_forward_pre_hook(lambda *a: None),
        "optimizer_step_pre": opt.register_step_pre_hook(lambda *a: None),
    }


@pytest.mark.parametrize("kind", sorted(handles(ember)))
def test_every_hook_returns_the_one_handle_class(kind):
    ours, theirs = handles(ember)[kind], handles(torch)[kind]
    assert type(ours) is RemovableHandle
    assert type(theirs).__name__ == "RemovableHandle" and type(theirs).__module__ == "torch.utils.hooks"


def test_tensor_hook_removed_and_context_manager():
    x = ember.ones(3, requires_grad=True)
    with x.register_hook(lambda g: g * 10):
        (x * 2).sum().backward()
    assert x.grad.tolist() == [20.0, 20.0, 20.0]
    x.grad = None
    (x * 2).sum().backward()
    assert x.grad.tolist() == [2.0, 2.0, 2.0]


def test_hook_removing_itself_while_running():
    x = ember.ones(2, requires_grad=True)
    y = x * 3
    calls = []

    def once(g):
        calls.append(1)
        handle.remove()
    handle = y.register_hook(once)
    y.register_hook(lambda g: g * 2)
    y.sum().backward(retain_graph=True)
    y.sum().backward()
    assert len(calls) == 1 and x.grad.tolist() == [12.0, 12.0]
