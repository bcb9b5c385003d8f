"""ember's ops, one module per family; each op's forward and backward sit side by side.

Which ops are public, and as what (`ember.exp`, `x.exp()`, `x.exp_()`, `x + y`), is said in one table,
`ember/ops/registry.py`; importing this package binds the Tensor side of it.
"""
from ember.ops import elementwise, shape, reduce, linalg, index  # noqa: F401
from ember.ops import registry
from ember.tensor import Tensor

registry.bind(Tensor)
