"""The autograd graph: one node per op application, and the engine that walks it backwards.

Every op is a subclass of `Function`:

    class Mul(Function):
        save = (0, 1)                       # inputs backward needs (kept, version-checked)
        def forward(self, a, b):            # backend arrays in, backend array out
            return a * b
        def backward(self, grad):           # Tensors in, one gradient per input out
            a, b = self.saved_tensors
            return grad * b, grad * a

Backward is written with Tensor ops, so with `create_graph=True` the backward pass is itself
recorded and higher-order gradients come for free (Chainer's FunctionNode idea).
"""
import sys as _sys
import weakref as _weakref

import numpy as _np

from ember.autograd.grad_mode import _GradState

_ndarray = _np.ndarray
_asarray = _np.asarray
_new = object.__new__
_getrefcount = _sys.getrefcount

_FREED_MSG = (
    "Trying to backward through the graph a second time (or directly access saved tensors after they "
    "have already been freed). Saved intermediate values of the graph are freed when you call .backward() "
    "or autograd.grad(). Specify retain_graph=True if you need to backward through the graph a second "
    "time or if you need to access saved tensors after calling backward.")


class Function:
    save = ()             # indices of the inputs that backward reads through self.saved_tensors
    save_output = False   # backward reads the result through self.output
    stash = ()            # names of big arrays set in forward for backward; freed with the graph
    _released = False
    _special = False      # set when any of the three below needs the engine's attention (one check per node)
    node_name = None      # set on an instance when one class serves several PyTorch node names
    _hooks = None         # hooks registered on the output tensor (register_hook)
    _retain = None        # weak reference to the output tensor when it retains its grad
    next = ()             # per input: the input's grad_fn, the leaf Tensor itself, or None

    _holds_state = False  # set per class below: whether release() has anything to free
    _is_node = True       # graph nodes and leaf Tensors share `next` slots; this tells them apart

    @classmethod
    def apply(cls, *inputs, **params):
        fn = cls()
        if len(inputs) == 2:  # unrolled for the common binary case: no comprehension frames
            a, b = inputs
            data = fn.forward(a._data if isinstance(a, Tensor) else a, b._data if isinstance(b, Tensor) else b,
                              **params)
        elif len(inputs) == 1:
            data = fn.forward(inputs[0]._data, **params)
        else:
            data = fn.forward(*[x._data if isinstance(x, Tensor) else x for x in inputs], **params)
        if data.__class__ is not _ndarray:  # NumPy returns scalars for 0-d results
            data = _asarray(data)
        # tensor._init_fields, inlined on the hottest path in ember: one Python call less per op (about 1.5 %
        # of the scalar loop's instructions); tests/test_autograd.py checks the two set the same fields
        out = _new(Tensor)
        out._data = data
        out._requires_grad = False
        out.grad = None
        out.grad_fn = None
        out._version = [0]
        out._base = None
        out._hooks = None
        if _GradState.enabled:
            for x in inputs:
                if isinstance(x, Tensor) and x._requires_grad:
                    break
            else:
                return out
            fn.record(inputs, out)
        return out

    def record(self, inputs, out):
        """Put this application in the graph: edges to the inputs, what backward reads, out.grad_fn."""
        nxt = []
        for x in inputs:
            nxt.append((x.grad_fn or x) if isinstance(x, Tensor) and x._requires_grad else None)
        self.next = nxt
        if self._holds_state:
            if self.save:
                saved = []
                versions = []
                for i in self.save:
                    t = inputs[i]
                    saved.append(t)
                    versions.append(t._version[0] if isinstance(t, Tensor) else None)
                self._saved = saved
                self._saved_versions = versions
            if self.save_output:
                self._out_data = out._data
                self._out_version = out._version
        out._requires_grad = True
        out.grad_fn = self

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        cls._holds_state = bool(cls.save or cls.save_output or cls.stash)
        # what release() drops
        cls._state_names = ("_saved",) * bool(cls.save) + ("_out_data",) * cls.save_output + tuple(cls.stash)

    def forward(self, *arrays, **params):
        raise NotImplementedError

    def backward(self, grad):
        raise NotImplementedError

    # -- what backward reads -------------------------------------------------------------
    @property
    def saved_tensors(self):
        try:
            saved = self._saved   # release() deletes it
        except AttributeError:
            raise RuntimeError(_FREED_MSG) from None
        versions = self._saved_versions  # None for a saved number
        if len(saved) == 2:  # the binary ops' case, unrolled
            va, vb = versions
            if (va is None or saved[0]._version[0] == va) and (vb is None or saved[1]._version[0] == vb):
                return saved
        for t, version in zip(saved, versions):
            if version is not None and t._version[0] != version:
                raise RuntimeError(_modified_msg(t, self, version))
        return saved

    @property
    def output(self):
        """The op's result as a Tensor whose grad_fn is this node (no reference cycle is kept)."""
        if self._released:
            raise RuntimeError(_FREED_MSG)
        out = Tensor._make(self._out_data)
        out._version = self._out_version
        if out._version[0] != 0:
            raise RuntimeError(_modified_msg(out, self, 0))
        out._requires_grad = True
        out.grad_fn = self
        return out

    def release(self):
        """Drop what backward needed; the graph's shape stays so a second pass can say why it failed."""
        if self._holds_state:
            d = self.__dict__
            for name in self._state_names:
                d.pop(name, None)
            self._released = self._special = True

    # -- PyTorch's introspection -----------------------------------------------------------
    @classmethod
    def _node_name(cls):
        return cls.__name__ + "Backward0"

    def name(self):
        return self.node_name or self._node_name()

    @property
    def next_functions(self):
        return tuple((_AccumulateGrad(n) if isinstance(n, Tensor) else n, 0) for n in self.next)

    def register_hook(self, hook):
        raise NotImplementedError("hooks on graph nodes are not supported; use Tensor.register_hook")

    def __repr__(self):
        return f"<{self.name()} object at {hex(id(self))}>"


class _AccumulateGrad:
    """Stands for a leaf in next_functions, as PyTorch shows it."""

    def __init__(self, variable):
        self.variable = variable
        self.next_functions = ()

    def name(self):
        return "torch::autograd::AccumulateGrad"

    def __repr__(self):
        return f"<AccumulateGrad object at {hex(id(self))}>"


def _modified_msg(t, fn, expected):
    return (
        "one of the variables needed for gradient computation has been modified by an inplace operation: "
        f"[{_type_name(t)} {list(t.shape)}], which is output 0 of {fn.name()}, is at version {t._version[0]}; "
        f"expected version {expected} instead. Hint: the backtrace further above can point at the operation "
        "that failed to compute its gradient.")


def _type_name(t):
    from ember.backend.dtypes import legacy_type_name
    return legacy_type_name(t.dtype)


# -- the engine ------------------------------------------------------------------------------

def run_backward(roots, root_grads, retain_graph=False, create_graph=False, inputs=None,
                 allow_unused=False, accumulate=True):
    """Propagate gradients from `roots` to the leaves.

    accumulate=True adds into each leaf's .grad (Tensor.backward); with `inputs` and
    accumulate=False the gradients of those inputs are returned instead (autograd.grad).
    """
    grads = {}            # node or leaf Tensor -> gradient of its output so far
    for root, g in zip(roots, root_grads):
        key = root.grad_fn or root
        prev = grads.get(key)
        grads[key] = g if prev is None else prev + g

    # count, for each node, how many edges from the reachable graph still owe it a gradient
    pending = {}
    stack = [k for k in grads if k._is_node]
    seen = set(stack)
    while stack:
        for child in stack.pop().next:
            if child is not None and child._is_node:
                pending[child] = pending.get(child, 0) + 1
                if child not in seen:
                    seen.add(child)
                    stack.append(child)

    if _EAGER_LEAVES[0] and inputs is None and accumulate:
        _backward_eager(grads, retain_graph, create_graph)
        _run_final_callbacks()
        return None
    wanted = None if inputs is None else {(t.grad_fn or t): None for t in inputs}
    prev_mode = _GradState.enabled
    _GradState.enabled = create_graph
    try:
        ready = [n for n in grads if n._is_node and n not in pending]
        while ready:
            node = ready.pop()
            g = grads.pop(node, None)
            children = node.next
            if g is not None:
                in_grads = _run_node(node, g, retain_graph, wanted)
                if len(in_grads) < len(children):
                    in_grads += (None,) * (len(children) - len(in_grads))
            else:
                in_grads = (None,) * len(children)
            for child, gi in zip(children, in_grads):
                if child is None:
                    continue
                if gi is not None:
                    prev = grads.get(child)
                    grads[child] = gi if prev is None else prev + gi
                if child._is_node:
                    left = pending[child] - 1
                    pending[child] = left
                    if not left:
                        ready.append(child)

        # whatever is left in `grads` belongs to leaves
        for leaf, g in grads.items():
            if leaf._is_node:
                continue
            if leaf._hooks:
                g = _run_hooks(leaf._hooks, g)
            if wanted is not None and leaf in wanted:
                wanted[leaf] = g
            if accumulate and (wanted is None or leaf in wanted):
                _accumulate(leaf, g, create_graph)
    finally:
        _GradState.enabled = prev_mode
    if _FINAL_CALLBACKS:
        _run_final_callbacks()

    if wanted is None:
        return None
    result = []
    for t in inputs:
        g = wanted[t.grad_fn or t]
        if g is None and not allow_unused and not accumulate:
            raise RuntimeError("One of the differentiated Tensors appears to not have been used in the graph. "
                               "Set allow_unused=True if this is the desired behavior.")
        result.append(g)
    return tuple(result)


def _run_node(node, g, retain_graph, wanted=None):
    """One node's backward: its hooks and retain_grad first (nodes flagged _special; `wanted`, for
    autograd.grad, records the gradient after hooks), then the gradients for its inputs as a tuple;
    its saved state is freed unless the graph is retained."""
    if node._special:
        if node._hooks:
            g = _run_hooks(node._hooks, g)
        if node._retain is not None:
            _retain(node, g)
        if node._released:
            raise RuntimeError(_FREED_MSG)
    if wanted is not None and node in wanted:
        wanted[node] = g
    in_grads = node.backward(g)
    if in_grads.__class__ is not tuple:
        in_grads = (in_grads,)
    if not retain_graph and node._holds_state:
        node.release()
    return in_grads


# -- leaves whose gradient is wanted as soon as it is complete -----------------------------------
# Normally every leaf's gradient is added to .grad at the end of the pass. A leaf with a
# post-accumulate-grad hook (Tensor.register_post_accumulate_grad_hook) wants it the moment the last
# node feeding it has run: DistributedDataParallel starts each bucket's all-reduce from there while the
# rest of the backward pass goes on. While any such hook is alive the engine takes _backward_eager.
_EAGER_LEAVES = [0]        # how many post-accumulate-grad hooks are registered, process-wide
_FINAL_CALLBACKS = []      # run once at the end of the current backward pass (DDP waits for its reductions)


class _PostAccumulateHandle:
    def __init__(self, hooks, key):
        self._hooks, self._key = hooks, key

    def remove(self):
        if self._hooks.pop(self._key, None) is not None:
            _EAGER_LEAVES[0] -= 1


def _forget_hooks(hooks):
    _EAGER_LEAVES[0] -= len(hooks)
    hooks.clear()


def _add_post_accumulate_hook(leaf, hook):
    hooks = leaf.__dict__.get("_post_accumulate_hooks")
    if hooks is None:
        hooks = leaf.__dict__["_post_accumulate_hooks"] = {}
        _weakref.finalize(leaf, _forget_hooks, hooks)  # a dead leaf's hooks stop counting
    key = object()
    hooks[key] = hook
    _EAGER_LEAVES[0] += 1
    return _PostAccumulateHandle(hooks, key)


def _run_final_callbacks():
    while _FINAL_CALLBACKS:
        _FINAL_CALLBACKS.pop(0)()


def _finish_leaf(leaf, g, create_graph):
    if leaf._hooks:
        g = _run_hooks(leaf._hooks, g)
    _accumulate(leaf, g, create_graph)
    hooks = leaf.__dict__.get("_post_accumulate_hooks")
    if hooks:
        for hook in list(hooks.values()):
            hook(leaf)


def _backward_eager(grads, retain_graph, create_graph):
    """The counting walk with the leaves counted too: a leaf is finished (hooks, accumulation,
    post-accumulate hooks) when the last edge into it has delivered, not at the end of the pass."""
    pending = {}
    stack = [k for k in grads if k._is_node]
    seen = set(stack)
    while stack:
        for child in stack.pop().next:
            if child is None:
                continue
            pending[child] = pending.get(child, 0) + 1
            if child._is_node and child not in seen:
                seen.add(child)
                stack.append(child)
    prev_mode = _GradState.enabled
    _GradState.enabled = create_graph
    try:
        for root in [k for k in grads if not k._is_node]:  # a leaf passed as a root of the pass
            if root not in pending:
                _finish_leaf(root, grads.pop(root), create_graph)
        ready = [n for n in grads if n._is_node and n not in pending]
        while ready:
            node = ready.pop()
            g = grads.pop(node, None)
            in_grads = _run_node(node, g, retain_graph) if g is not None else ()
            n_in = len(in_grads)
            for i, child in enumerate(node.next):
                if child is None:
                    continue
                gi = in_grads[i] if i < n_in else None
                if gi is not None:
                    prev = grads.get(child)
                    grads[child] = gi if prev is None else prev + gi
                left = pending[child] - 1
                pending[child] = left
                if not left:
                    if child._is_node:
                        ready.append(child)
                    else:
                        gl = grads.pop(child, None)
                        if gl is not None:
                            _finish_leaf(child, gl, create_graph)
    finally:
        _GradState.enabled = prev_mode


def _backward_from(root, grad, retain_graph, create_graph):
    """run_backward for its most common use, `loss.backward()`: one root, every leaf accumulates.

    Most tiny-tensor steps build a chain: each node feeds at most one other node. Down a chain a
    node has all of its gradient as soon as its one consumer has run, so the walk goes straight
    down with no dependency counting; at the first node that feeds two or more nodes, the rest
    of the graph goes to the counting walk (`_backward_counted`)."""
    if _EAGER_LEAVES[0]:
        _backward_eager({root: grad}, retain_graph, create_graph)
        _run_final_callbacks()
        return
    leaves = {}  # leaf -> its summed gradient, accumulated into .grad at the end
    prev_mode = _GradState.enabled
    _GradState.enabled = create_graph
    try:
        node, g = root, grad
        while g is not None:  # a node that gets no gradient passes none on
            in_grads = _run_node(node, g, retain_graph)
            children = node.next
            node = g = forked = None
            # (zip stops at the shorter: inputs past the gradients backward returned get none, and
            # a node that gets none needs no visit, as it would pass nothing on)
            for child, gi in zip(children, in_grads):
                if child is None:
                    continue
                if child._is_node:
                    if node is None and forked is None:
                        node, g = child, gi
                        continue
                    if forked is None:  # a second consumer: the graph is not a chain from here on
                        forked = {}
                        if g is not None:
                            forked[node] = g
                    if gi is not None:
                        prev = forked.get(child)
                        forked[child] = gi if prev is None else prev + gi
                elif gi is not None:
                    if child in leaves:
                        _leaf_sum(leaves, child, gi)
                    else:
                        leaves[child] = gi      # the first gradient for this leaf (the common case)
            if forked is not None:
                _backward_counted(forked, leaves, retain_graph)
                break
        in_grads = gi = None  # so that the engine's only references to the leaves' gradients are in `leaves`
        for leaf, g in leaves.items():
            if leaf._hooks:
                g = _run_hooks(leaf._hooks, g)
                _accumulate(leaf, g, create_graph)
            else:
                _accumulate(leaf, g, create_graph, _ENGINE_REFS)
    finally:
        _GradState.enabled = prev_mode
    if _FINAL_CALLBACKS:
        _run_final_callbacks()


def _leaf_sum(leaves, leaf, g):
    """Add g to the gradient summed so far for leaf (leaves: leaf -> gradient). Without create_graph,
    the first sum is a new array only the engine holds, so the later ones add into it in place: a
    weight used at every step of a recurrence gets one array, not one per step."""
    prev = leaves.get(leaf)
    if prev is None:
        leaves[leaf] = g
    elif (prev.__dict__.get("_engine_sum") and g._data.shape == prev._data.shape
          and g._data.dtype == prev._data.dtype):
        prev._data += g._data
    else:
        total = prev + g
        if not _GradState.enabled:
            total.__dict__["_engine_sum"] = True
            _mark_fresh(total)   # and nobody else holds it: the leaf may keep it as .grad
        leaves[leaf] = total


def _backward_counted(grads, leaves, retain_graph):
    """The general walk of _backward_from, from the nodes in `grads` (node -> gradient): a node runs
    once every edge from the reachable graph into it has delivered its gradient."""
    pending = dict.fromkeys(grads, 0)  # node -> edges still owing it a gradient; also marks nodes visited
    stack = list(grads)
    while stack:
        for child in stack.pop().next:
            if child is not None and child._is_node:
                n = pending.get(child)
                if n is None:
                    pending[child] = 1
                    stack.append(child)
                else:
                    pending[child] = n + 1

    ready = [n for n in grads if not pending[n]]
    while ready:
        node = ready.pop()
        g = grads.pop(node, None)
        if g is not None:
            in_grads = _run_node(node, g, retain_graph)
        else:
            in_grads = ()
        n_in = len(in_grads)
        for i, child in enumerate(node.next):
            if child is None:
                continue
            gi = in_grads[i] if i < n_in else None
            if child._is_node:
                if gi is not None:
                    prev = grads.get(child)
                    grads[child] = gi if prev is None else prev + gi
                left = pending[child] - 1
                pending[child] = left
                if not left:
                    ready.append(child)
            elif gi is not None:
                if child in leaves:
                    _leaf_sum(leaves, child, gi)
                else:
                    leaves[child] = gi


def _retain(node, g):
    t = node._retain()
    if t is not None and t.grad_fn is node:
        # a copy, as in PyTorch: the gradient flowing on (and its hooks) must not see writes to .grad
        t.grad = Tensor._make(g._data.copy()) if t.grad is None else t.grad + g.detach()


def _run_hooks(hooks, g):
    for hook in tuple(hooks.values()):  # a hook may remove itself
        out = hook(g)
        if out is not None:
            g = out
    return g


def fresh_grad(data):
    """A gradient Tensor around an array its op has just made and holds nowhere else: a leaf whose .grad
    is None may take the array as it is instead of copying it (see _accumulate)."""
    return _mark_fresh(Tensor._make(data))


def _mark_fresh(t):
    """Mark gradient Tensor t as holding an array nobody else holds (see fresh_grad). Returns t."""
    t.__dict__["_fresh"] = True
    return t


# references to a gradient Tensor that _accumulate sees when only the engine holds it: the engine's
# `leaves` dict and loop variable, the dict iterator's reused item tuple, _accumulate's argument, and
# getrefcount's own
_ENGINE_REFS = 5


def _accumulate(leaf, g, create_graph, fresh_refs=0):
    if g._data.shape != leaf._data.shape:
        raise RuntimeError(f"Function returned an invalid gradient - got {list(g.shape)} but expected shape "
                           f"compatible with {list(leaf.shape)}")
    if leaf.grad is None:
        if create_graph:
            leaf.grad = g
            return
        d = g._data
        # PyTorch's AccumulateGrad keeps a gradient nobody else references instead of cloning it: here, an
        # array made fresh by its op (fresh_grad) in a Tensor only the engine holds (fresh_refs: how many
        # references that is at this call; 0: never keep)
        if (fresh_refs and d.dtype == leaf._data.dtype and _getrefcount(g) <= fresh_refs
                and g.__dict__.pop("_fresh", False)):
            leaf.grad = Tensor._make(d)
        else:
            # a fresh, writable copy: later steps add into it in place and the user may zero_() it
            leaf.grad = Tensor._make(d.astype(leaf._data.dtype, copy=True))
    elif create_graph or leaf.grad._requires_grad:
        leaf.grad = leaf.grad + g
    else:
        acc = leaf.grad._data
        if acc.size == 1:  # one element: `+=` (a ufunc with out=) costs twice an add and a store
            acc[...] = acc + g._data
        else:
            acc += g._data
        leaf.grad._version[0] += 1


Tensor = None  # bound by ember.tensor once the class exists (the two modules need each other)
