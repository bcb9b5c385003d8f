"""The op registry and the op test table agree: every form the registry binds has a test row.

A new op (a row in ember/ops/registry.py) fails here until tests/ops/op_table.py has a row for each
of its forms: `torch.<name>` when exported, `Tensor.<name>` when a method, `Tensor.<name>_` when it
has an in-place variant, and every operator (`Tensor.__add__` ...) it is bound to.
"""
import pathlib
import sys

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

import ember  # noqa: E402
from ember.ops import registry  # noqa: E402
from op_table import OPS  # noqa: E402


def required_forms(ops=registry.OPS):
    """{'torch.add', 'Tensor.add', 'Tensor.add_', 'Tensor.__add__', ...}: what the table must test."""
    forms = set()
    for row in ops:
        if row.export:
            forms.add(f"torch.{row.name}")
        forms |= {f"Tensor.{name}" for name in registry.tensor_attributes([row])}
    return forms


COVERED = set().union(*(spec.covered for spec in OPS))


@pytest.mark.parametrize("form", sorted(required_forms()))
def test_form_has_a_test_row(form):
    assert form in COVERED, f"{form} is bound by ember/ops/registry.py but no row of tests/ops/op_table.py tests it"


def test_every_row_is_reachable():
    for row in registry.OPS:
        assert required_forms([row]), f"registry row {row.name!r} binds nothing (no export, method or operator)"


def test_rows_name_real_forms():
    """A row claiming to cover a form that does not exist would hide a missing one."""
    bogus = sorted(f for f in COVERED if f not in required_forms()
                   and not hasattr(ember.Tensor if f.startswith("Tensor.") else ember, f.split(".", 1)[1]))
    assert not bogus, f"rows cover forms that ember does not have: {bogus}"


def test_new_op_without_a_row_is_reported():
    def frobnicate(input):
        return input
    new = registry.Op("frobnicate", frobnicate, inplace=True, dunders=("__lshift__",))
    missing = required_forms([new]) - COVERED
    assert missing == {"torch.frobnicate", "Tensor.frobnicate", "Tensor.frobnicate_", "Tensor.__lshift__"}


def test_tensor_and_namespace_are_bound_from_the_table():
    for name, value in registry.tensor_attributes().items():
        bound = ember.Tensor.__dict__[name]
        if value is not bound:  # fresh closures are built per call: compare what they wrap
            assert getattr(bound, "__qualname__", None) == getattr(value, "__qualname__", None), name
    for name, fn in registry.exported().items():
        assert getattr(ember, name) is fn, name
        assert name in ember.__all__, name


def test_operators_are_the_op_functions():
    """The hot path: `x + y` calls the op function directly, no wrapper in between."""
    from ember.ops import elementwise
    assert ember.Tensor.__add__ is elementwise.add
    assert ember.Tensor.__mul__ is elementwise.mul
    assert ember.Tensor.__sub__ is elementwise.sub
    assert ember.Tensor.__truediv__ is elementwise.div


def test_registry_refuses_a_method_tensor_py_defines():
    class Fake:
        def add(self):
            pass
    with pytest.raises(TypeError, match="Tensor.add is defined in tensor.py"):
        registry.bind(Fake)


def test_registry_refuses_a_form_bound_twice():
    rows = [registry.Op("a", abs, dunders=("__abs__",)), registry.Op("b", abs, dunders=("__abs__",))]
    with pytest.raises(ValueError, match=r"Tensor.__abs__ is bound twice .* 'b'"):
        registry.tensor_attributes(rows)
