"""Module semantics vs torch: registration, traversal order, modes, conversions, hooks, containers,
printing, state_dict and load_state_dict.

Each scenario is a function ``scenario(lib, m)`` (``m`` = lib.nn) run once with the library under
test and once with torch; what it returns (names, reprs, flags, messages) must be equal.
"""
import pathlib
import sys
from collections import OrderedDict

import numpy as np
import pytest
import torch

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

from nn_compare import (LIB, LIB_NAME, TOL, assert_same, compare_layer,  # noqa: E402
                        copy_weights, nn, numpy_state_dict, rand, randn, state_dict_to, state_signature, tnn,
                        to_lib, to_numpy)
from torch_compare import assert_same_exception  # noqa: E402


def both(scenario):
    """scenario(lib, m) in both libraries; returns (under test, torch) after asserting equality."""
    out = scenario(LIB, nn)
    ref = scenario(torch, tnn)
    assert out == ref, f"{LIB_NAME}:\n{out}\ntorch:\n{ref}"
    return out, ref


def _norm(msg):
    return str(msg).replace(f"{LIB_NAME}.", "torch.")


# ---------------------------------------------------------------------------------------
# Nested networks used throughout
# ---------------------------------------------------------------------------------------

def nested(lib, m):
    """Nested blocks, a shared layer used twice, buffers at several levels, a parameter-less module."""
    shared = m.Linear(4, 4)

    class Block(m.Module):
        def __init__(self):
            super().__init__()
            self.fc = m.Linear(4, 4)
            self.act = m.ReLU()
            self.register_buffer("scale", lib.ones(1))
            self.shared = shared

        def forward(self, x):
            return self.shared(self.act(self.fc(x))) * self.scale

    class Net(m.Module):
        def __init__(self):
            super().__init__()
            self.head = m.Linear(3, 4)
            self.blocks = m.Sequential(Block(), Block())
            self.shared = shared  # the same layer registered a third time
            self.register_buffer("steps", lib.zeros((), dtype=lib.int64))
            self.register_buffer("cache", lib.zeros(2), persistent=False)
            self.alpha = m.Parameter(lib.ones(1))
            self.norm = m.BatchNorm1d(4)
            self.out = m.Linear(4, 2)

        def forward(self, x):
            return self.out(self.norm(self.shared(self.blocks(self.head(x))))) * self.alpha

    return Net()


class MySequential:
    """D2L's MySequential: children put straight into _modules."""

    @staticmethod
    def make(m):
        class MySeq(m.Module):
            def __init__(self, *args):
                super().__init__()
                for idx, module in enumerate(args):
                    self._modules[str(idx)] = module

            def forward(self, x):
                for block in self._modules.values():
                    x = block(x)
                return x
        return MySeq


def test_named_parameters_order_and_sharing():
    def sc(lib, m):
        net = nested(lib, m)
        return ([(n, tuple(p.shape)) for n, p in net.named_parameters()],
                len(list(net.parameters())),
                [n for n, _ in net.named_parameters(remove_duplicate=False)],
                [n for n, _ in net.named_parameters(prefix="model")],
                [n for n, _ in net.named_parameters(recurse=False)])
    both(sc)


def test_named_modules_children_order():
    def sc(lib, m):
        net = nested(lib, m)
        return ([(n, type(mod).__name__) for n, mod in net.named_modules()],
                [(n, type(mod).__name__) for n, mod in net.named_modules(remove_duplicate=False)],
                [(n, type(mod).__name__) for n, mod in net.named_children()],
                [type(c).__name__ for c in net.children()],
                [type(c).__name__ for c in net.modules()],
                [n for n, _ in net.named_modules(prefix="root")])
    both(sc)


def test_named_buffers():
    def sc(lib, m):
        net = nested(lib, m)
        return ([(n, tuple(b.shape), str(b.dtype)) for n, b in net.named_buffers()],
                [n for n, _ in net.named_buffers(recurse=False)],
                len(list(net.buffers())))
    both(sc)


def test_tied_parameters_counted_once():
    def sc(lib, m):
        class Tied(m.Module):
            def __init__(self):
                super().__init__()
                self.enc = m.Linear(4, 6, bias=False)
                self.dec = m.Linear(6, 4, bias=False)
                self.emb = m.Embedding(4, 6)
                self.emb.weight = self.dec.weight      # (4, 6): tied
        net = Tied()
        return ([n for n, _ in net.named_parameters()], len(list(net.parameters())),
                [n for n, _ in net.named_parameters(remove_duplicate=False)], list(net.state_dict()))
    both(sc)


def test_get_submodule_parameter_buffer():
    def sc(lib, m):
        net = nested(lib, m)
        out = [type(net.get_submodule("blocks.1.fc")).__name__, tuple(net.get_parameter("blocks.0.fc.bias").shape),
               tuple(net.get_buffer("norm.running_var").shape), net.get_submodule("") is net]
        for target, getter in (("blocks.7", "get_submodule"), ("head.nothing", "get_parameter"),
                               ("head.weight", "get_buffer")):
            try:
                getattr(net, getter)(target)
            except AttributeError as e:
                out.append(("AttributeError", _norm(e)))
        return out
    both(sc)


def test_deepcopy_module():
    import copy

    def sc(lib, m):
        net = nested(lib, m)
        twin = copy.deepcopy(net)
        same_values = all(np.array_equal(to_numpy(a), to_numpy(b))
                          for a, b in zip(net.state_dict().values(), twin.state_dict().values()))
        distinct = all(a is not b for a, b in zip(net.parameters(), twin.parameters()))
        shared_kept = twin.shared is twin.blocks[0].shared
        with lib.no_grad():
            next(twin.parameters()).add_(1)
        independent = not np.array_equal(to_numpy(next(twin.parameters())), to_numpy(next(net.parameters())))
        return same_values, distinct, shared_kept, independent, repr(twin) == repr(net), \
            [type(p).__name__ for p in twin.parameters()]
    both(sc)


def test_d2l_my_sequential():
    def sc(lib, m):
        lib.manual_seed(0)
        net = MySequential.make(m)(m.Linear(20, 256), m.ReLU(), m.Linear(256, 10))
        return ([n for n, _ in net.named_parameters()], [n for n, _ in net.named_children()], repr(net),
                list(net.state_dict().keys()))
    both(sc)
    ref = MySequential.make(tnn)(tnn.Linear(20, 8), tnn.ReLU(), tnn.Linear(8, 3))
    lib = MySequential.make(nn)(nn.Linear(20, 8), nn.ReLU(), nn.Linear(8, 3))
    copy_weights(ref, lib)
    compare_layer(ref, lib, rand((2, 20)), rtol=1e-5, atol=1e-6, name="MySequential")


def test_register_buffer_persistence():
    def sc(lib, m):
        mod = m.Module()
        mod.register_buffer("a", lib.ones(2))
        mod.register_buffer("b", lib.zeros(3), persistent=False)
        mod.register_buffer("c", None)
        names = [n for n, _ in mod.named_buffers()]
        keys = list(mod.state_dict())
        mod.register_buffer("b", lib.zeros(3), persistent=True)  # re-registering changes persistence
        keys2 = list(mod.state_dict())
        mod.a = lib.full((2,), 5.0)                              # plain assignment keeps it a buffer
        return names, keys, keys2, [n for n, _ in mod.named_buffers()], to_numpy(mod.state_dict()["a"]).tolist()
    both(sc)


def test_non_persistent_buffer_not_loaded():
    def sc(lib, m):
        mod = m.Module()
        mod.register_buffer("a", lib.ones(2), persistent=False)
        r = mod.load_state_dict({}, strict=True)
        return list(r.missing_keys), list(r.unexpected_keys)
    both(sc)


def test_add_module_register_module_register_parameter():
    def sc(lib, m):
        mod = m.Module()
        mod.add_module("first", m.Linear(2, 2))
        mod.register_module("second", m.ReLU())
        mod.add_module("none", None)
        mod.register_parameter("p", m.Parameter(lib.zeros(3)))
        mod.register_parameter("q", None)
        mod.attr = 3  # plain attribute, not registered
        return ([n for n, _ in mod.named_children()], [n for n, _ in mod.named_parameters()],
                list(mod._modules), list(mod._parameters), list(mod.state_dict()), repr(mod))
    both(sc)


@pytest.mark.parametrize("case", ["dotted name", "empty name", "non-string name", "buffer not a tensor",
                                  "module not a module", "parameter not a parameter", "existing attribute",
                                  "tensor as parameter", "no forward", "call ModuleList", "call ModuleDict",
                                  "call ParameterList"])
def test_registration_errors(case):
    def make(lib, m):
        mod = m.Module()
        mod.existing = 1
        return {
            "dotted name": lambda: mod.add_module("a.b", m.ReLU()),
            "empty name": lambda: mod.register_buffer("", lib.zeros(1)),
            "non-string name": lambda: mod.register_parameter(3, None),
            "buffer not a tensor": lambda: mod.register_buffer("x", 3),
            "module not a module": lambda: mod.add_module("x", 3),
            "parameter not a parameter": lambda: mod.register_parameter("x", lib.zeros(2)),
            "existing attribute": lambda: mod.register_buffer("existing", lib.zeros(1)),
            "tensor as parameter": lambda: setattr(m.Linear(2, 3), "weight", lib.zeros(3, 2)),
            "no forward": lambda: m.Module()(lib.zeros(1)),
            "call ModuleList": lambda: m.ModuleList([m.ReLU()])(lib.zeros(1)),
            "call ModuleDict": lambda: m.ModuleDict({"a": m.ReLU()})(lib.zeros(1)),
            "call ParameterList": lambda: m.ParameterList([m.Parameter(lib.zeros(1))])(lib.zeros(1)),
        }[case]
    exc, ref = assert_same_exception(make(LIB, nn), make(torch, tnn), name=case)
    assert _norm(exc) == str(ref), f"message {str(exc)!r} != torch's {str(ref)!r}"


def test_setattr_replaces_and_delattr():
    def sc(lib, m):
        lin = m.Linear(2, 3)
        lin.bias = None                                # parameter slot set to None
        lin.extra = m.ReLU()                           # becomes a child
        lin.extra = None                               # still a (None) child
        del lin.weight
        return ([n for n, _ in lin.named_parameters()], list(lin._parameters), list(lin._modules),
                list(lin.state_dict()), hasattr(lin, "weight"))
    both(sc)


def test_reassigning_a_child_or_parameter_keeps_its_position():
    """`model.fc = nn.Linear(...)` (transfer learning) and `seq[0] = ...` replace in place: the order of
    children, parameters and state_dict keys, and a Sequential's execution order, are unchanged."""
    def sc(lib, m):
        lib.manual_seed(0)
        net = m.Sequential(OrderedDict([("fc", m.Linear(2, 3)), ("act", m.ReLU()), ("out", m.Linear(3, 1))]))
        net.fc = m.Linear(2, 3)
        order = [n for n, _ in net.named_children()]
        lin = m.Linear(2, 2)
        lin.weight = m.Parameter(lib.zeros(2, 2))
        seq = m.Sequential(m.Linear(2, 2), m.Tanh())
        seq[0] = m.Sigmoid()
        y = to_numpy(seq(lib.full((1, 2), 3.0))).tolist()
        return (order, list(net.state_dict()), [n for n, _ in lin.named_parameters()], list(lin.state_dict()),
                [type(c).__name__ for c in seq], y)
    both(sc)


def test_apply_order_and_init():
    def sc(lib, m):
        net = nested(lib, m)
        seen = []
        net.apply(lambda mod: seen.append(type(mod).__name__))

        def init_linear(mod):
            if type(mod) is m.Linear:
                m.init.constant_(mod.weight, 0.5)
                m.init.zeros_(mod.bias)
        r = net.apply(init_linear)
        return seen, r is net, sorted({float(to_numpy(p).ravel()[0]) for n, p in net.named_parameters()
                                       if n.endswith("weight") and "norm" not in n})
    both(sc)


def test_train_eval_propagation():
    def sc(lib, m):
        net = nested(lib, m)
        states = [[mod.training for mod in net.modules()]]
        r = net.eval()
        states.append([mod.training for mod in net.modules()])
        net.blocks.train()
        states.append([mod.training for mod in net.modules()])
        net.train(False)
        states.append([mod.training for mod in net.modules()])
        return states, r is net
    both(sc)


def test_train_requires_bool():
    assert_same_exception(lambda: nn.Linear(1, 1).train("yes"), lambda: tnn.Linear(1, 1).train("yes"),
                          contains=["training mode is expected to be boolean"], name="train('yes')")


def test_zero_grad():
    def sc(lib, m):
        lib.manual_seed(0)
        net = m.Sequential(m.Linear(3, 2), m.Linear(2, 1))
        net(lib.ones(4, 3)).sum().backward()
        before = [p.grad is not None for p in net.parameters()]
        net.zero_grad(set_to_none=False)
        zeros = [p.grad is not None and float(p.grad.abs().sum()) == 0.0 for p in net.parameters()]
        net(lib.ones(4, 3)).sum().backward()
        net.zero_grad()
        none = [p.grad is None for p in net.parameters()]
        return before, zeros, none
    both(sc)


def test_requires_grad_():
    def sc(lib, m):
        net = m.Sequential(m.Linear(3, 2), m.BatchNorm1d(2))
        r = net.requires_grad_(False)
        flags = [p.requires_grad for p in net.parameters()]
        out = net.eval()(lib.ones(2, 3))
        net[0].requires_grad_()
        return r is net, flags, out.requires_grad, [p.requires_grad for p in net.parameters()]
    both(sc)


def test_to_dtype_keeps_parameter_objects():
    def sc(lib, m):
        net = m.Sequential(m.Linear(3, 2), m.BatchNorm1d(2))
        w = net[0].weight
        r = net.to(lib.float64)
        sig = state_signature(net)
        same = net[0].weight is w and isinstance(net[0].weight, m.Parameter)
        out = net(lib.ones(4, 3, dtype=lib.float64))
        net.float()
        sig2 = state_signature(net)
        net.double()
        sig3 = state_signature(net)
        return r is net, sig, same, str(out.dtype), sig2, sig3, [p.requires_grad for p in net.parameters()]
    both(sc)


def test_to_integer_dtype_raises():
    assert_same_exception(lambda: nn.Linear(2, 2).to(LIB.int64), lambda: tnn.Linear(2, 2).to(torch.int64),
                          contains=["nn.Module.to only accepts floating point or complex dtypes"],
                          name="Module.to(int64)")


def test_forward_hooks():
    def sc(lib, m):
        log = []
        lin = m.Linear(2, 2)
        m.init.eye_(lin.weight)
        m.init.zeros_(lin.bias)

        def pre(mod, args):
            log.append(("pre", type(mod).__name__, len(args)))
            return (args[0] * 2,)

        def pre_single(mod, args):
            log.append(("pre2",))
            return args[0] + 1       # a non-tuple return is wrapped into a tuple

        def post(mod, args, out):
            log.append(("post", float(args[0].detach().sum()), float(out.detach().sum())))
            return out * 10

        def observe(mod, args, out):
            log.append(("observe", float(out.detach().sum())))   # None: output unchanged

        h1 = lin.register_forward_pre_hook(pre)
        h2 = lin.register_forward_pre_hook(pre_single)
        h3 = lin.register_forward_hook(post)
        h4 = lin.register_forward_hook(observe)
        y1 = float(lin(lib.ones(1, 2)).detach().sum())
        h1.remove()
        h3.remove()
        y2 = float(lin(lib.ones(1, 2)).detach().sum())
        h2.remove()
        h4.remove()
        y3 = float(lin(lib.ones(1, 2)).detach().sum())
        return log, y1, y2, y3
    both(sc)


def test_forward_hook_prepend_and_with_handle_context():
    def sc(lib, m):
        log = []
        mod = m.Identity()
        mod.register_forward_hook(lambda mo, a, o: log.append("a"))
        mod.register_forward_hook(lambda mo, a, o: log.append("b"), prepend=True)
        with mod.register_forward_pre_hook(lambda mo, a: log.append("pre")):
            mod(lib.ones(1))
        mod(lib.ones(1))
        return log
    both(sc)


# ---------------------------------------------------------------------------------------
# Containers and printing
# ---------------------------------------------------------------------------------------

def test_repr_nested_containers():
    def sc(lib, m):
        net = m.Sequential(OrderedDict([
            ("conv", m.Conv2d(1, 4, 3)),
            ("blocks", m.ModuleList([m.Linear(4, 4), m.Linear(4, 4), m.Linear(4, 4), m.ReLU(), m.Linear(4, 4)])),
            ("heads", m.ModuleDict({"cls": m.Linear(4, 3), "box": m.Sequential(m.Linear(4, 4), m.Tanh())})),
            ("empty", m.Sequential()),
            ("emptylist", m.ModuleList()),
        ]))
        return repr(net)
    both(sc)


def test_repr_module_list_runs():
    def sc(lib, m):
        return [repr(m.ModuleList([m.ReLU()] * 3)),
                repr(m.ModuleList([m.ReLU(), m.ReLU(), m.Tanh(), m.ReLU(), m.ReLU(), m.ReLU()])),
                repr(m.ModuleList([m.Linear(2, 2), m.Sequential(m.Linear(2, 2), m.ReLU()),
                                   m.Sequential(m.Linear(2, 2), m.ReLU())]))]
    both(sc)


def test_repr_custom_module_with_extra_repr():
    def sc(lib, m):
        class Custom(m.Module):
            def __init__(self):
                super().__init__()
                self.inner = m.Linear(1, 1)

            def extra_repr(self):
                return "line one\nline two"

        class OneLine(m.Module):
            def extra_repr(self):
                return "k=3"
        return repr(Custom()), repr(OneLine()), repr(m.Sequential(Custom(), OneLine()))
    both(sc)


def test_repr_parameter_list():
    def sc(lib, m):
        return repr(m.ParameterList([m.Parameter(lib.zeros(3, 2)), m.Parameter(lib.zeros(3, dtype=lib.float64))]))
    both(sc)


def test_repr_parameter_dict():
    def sc(lib, m):
        return repr(m.ParameterDict({"a": m.Parameter(lib.zeros(3)), "b": m.Parameter(lib.zeros(3, 2))}))
    both(sc)


def test_parameter_list_and_dict_registration():
    def sc(lib, m):
        pl = m.ParameterList([m.Parameter(lib.zeros(2)), lib.ones(3)])   # plain tensors become Parameters
        pl.append(m.Parameter(lib.zeros(1)))
        pd = m.ParameterDict({"b": m.Parameter(lib.zeros(2))})
        pd["a"] = lib.ones(1)
        holder = m.Module()
        holder.pl, holder.pd = pl, pd
        return ([n for n, _ in holder.named_parameters()], len(pl), len(pd), list(pd.keys()),
                [type(p).__name__ for p in pl], list(holder.state_dict()))
    both(sc)


def test_sequential_indexing_slicing_mutation():
    def sc(lib, m):
        s = m.Sequential(m.ReLU(), m.Tanh(), m.Sigmoid(), m.ELU())
        out = [len(s), type(s[0]).__name__, type(s[-1]).__name__, repr(s[1:3]), type(s[1:3]).__name__,
               repr(s[::-2])]
        s.append(m.Identity())
        s.insert(1, m.GELU())
        s.insert(-1, m.SiLU())
        out.append(repr(s))
        del s[0]
        out.append(repr(s))
        del s[1:3]
        out.append(repr(s))
        s[0] = m.Softplus()
        out += [repr(s), len(s), [type(c).__name__ for c in s]]
        return out
    both(sc)


def test_sequential_ordered_dict_keys_and_mutation():
    def sc(lib, m):
        s = m.Sequential(OrderedDict([("a", m.ReLU()), ("b", m.Tanh())]))
        out = [repr(s), type(s.a).__name__, repr(s[1:])]
        s.append(m.ELU())
        out.append(repr(s))
        del s[0]
        out.append(repr(s))
        return out
    both(sc)


@pytest.mark.parametrize("case", ["index 5", "index -5", "insert 9"])
def test_sequential_index_errors(case):
    def make(m):
        s = m.Sequential(m.ReLU(), m.Tanh())
        return {"index 5": lambda: s[5], "index -5": lambda: s[-5], "insert 9": lambda: s.insert(9, m.ReLU())}[case]
    exc, ref = assert_same_exception(make(nn), make(tnn), name=f"Sequential {case}")
    assert str(exc) == str(ref)


def test_module_list_and_dict_operations():
    def sc(lib, m):
        ml = m.ModuleList([m.ReLU(), m.Tanh()])
        ml.append(m.ELU())
        ml.extend([m.GELU(), m.SiLU()])
        ml.insert(0, m.Identity())
        ml += m.ModuleList([m.Sigmoid()])
        out = [len(ml), [type(x).__name__ for x in ml], type(ml[-1]).__name__, repr(ml[1:3]), list(ml._modules)]
        del ml[1]
        out += [list(ml._modules), [type(x).__name__ for x in ml]]
        md = m.ModuleDict({"x": m.ReLU()})
        md["y"] = m.Tanh()
        md.update([("z", m.ELU())])
        out += [list(md.keys()), "y" in md, len(md), [type(v).__name__ for v in md.values()]]
        md.pop("x")
        out += [list(md), repr(md)]
        return out
    both(sc)


# ---------------------------------------------------------------------------------------
# state_dict / load_state_dict
# ---------------------------------------------------------------------------------------

def test_state_dict_type_keys_detached():
    def sc(lib, m):
        net = nested(lib, m)
        sd = net.state_dict()
        kv = net.state_dict(keep_vars=True)
        return (type(sd).__name__, list(sd.keys()), [(k, tuple(v.shape), str(v.dtype)) for k, v in sd.items()],
                [v.requires_grad for v in sd.values()], [type(v).__name__ for v in kv.values()],
                list(net.state_dict(prefix="p.").keys()))
    both(sc)


def test_state_dict_shares_storage():
    def sc(lib, m):
        lin = m.Linear(2, 2)
        sd = lin.state_dict()
        with lib.no_grad():
            sd["weight"].fill_(3.0)
        return float(lin.weight.detach().sum())
    both(sc)


def _load_error(scenario):
    exc, ref = assert_same_exception(lambda: scenario(LIB, nn), lambda: scenario(torch, tnn), name="load_state_dict")
    assert _norm(exc) == str(ref), f"{LIB_NAME}'s message:\n{exc}\ntorch's:\n{ref}"


def test_load_state_dict_missing_keys():
    def sc(lib, m):
        net = m.Sequential(m.Linear(2, 3), m.ReLU(), m.Linear(3, 1))
        sd = net.state_dict()
        del sd["0.bias"], sd["2.weight"]
        net.load_state_dict(sd)
    _load_error(sc)


def test_load_state_dict_unexpected_keys():
    def sc(lib, m):
        net = m.Sequential(m.Linear(2, 3), m.ReLU(), m.Linear(3, 1))
        sd = net.state_dict()
        sd["1.weight"] = lib.zeros(1)
        sd["extra"] = lib.zeros(1)
        sd["5.bias"] = lib.zeros(1)
        net.load_state_dict(sd)
    _load_error(sc)


def test_load_state_dict_size_mismatch():
    def sc(lib, m):
        net = m.Sequential(m.Linear(2, 3), m.BatchNorm1d(3))
        sd = net.state_dict()
        sd["0.weight"] = lib.zeros(4, 2)
        sd["1.running_mean"] = lib.zeros(2)
        net.load_state_dict(sd)
    _load_error(sc)


def test_load_state_dict_all_error_kinds():
    def sc(lib, m):
        net = m.Sequential(m.Linear(2, 3), m.Linear(3, 1))
        sd = net.state_dict()
        del sd["1.bias"]
        sd["0.weight"] = lib.zeros(2, 2)
        sd["2.weight"] = lib.zeros(1)
        net.load_state_dict(sd)
    _load_error(sc)


def test_load_state_dict_strict_false_return_value():
    def sc(lib, m):
        net = m.Sequential(m.Linear(2, 3), m.ReLU(), m.Linear(3, 1))
        sd = net.state_dict()
        del sd["2.bias"]
        sd["9.weight"] = lib.zeros(1)
        sd["0.extra"] = lib.zeros(1)
        r = net.load_state_dict(sd, strict=False)
        ok = net.load_state_dict(net.state_dict())
        return (list(r.missing_keys), list(r.unexpected_keys), type(r).__name__, repr(ok), str(ok),
                list(ok.missing_keys), list(ok.unexpected_keys))
    both(sc)


def test_load_state_dict_strict_false_still_raises_on_size_mismatch():
    def sc(lib, m):
        lin = m.Linear(2, 3)
        lin.load_state_dict({"weight": lib.zeros(3, 3)}, strict=False)
    _load_error(sc)


def test_load_state_dict_rejects_numpy_arrays():
    def sc(lib, m):
        m.Linear(2, 3).load_state_dict({"weight": np.ones((3, 2), np.float32), "bias": lib.ones(3)})
    _load_error(sc)


def test_load_state_dict_copies_values_and_keeps_objects():
    w = rand((3, 2), seed=1)
    for lib, m in ((LIB, nn), (torch, tnn)):
        lin = m.Linear(2, 3)
        p = lin.weight
        lin.load_state_dict({"weight": to_lib(lib, w), "bias": to_lib(lib, np.zeros(3, np.float32))})
        assert lin.weight is p
        np.testing.assert_array_equal(to_numpy(lin.weight), w)
        assert lin.weight.requires_grad


def test_load_state_dict_non_persistent_and_int_buffers():
    def sc(lib, m):
        bn = m.BatchNorm1d(2)
        sd = {k: v.clone() for k, v in bn.state_dict().items()}
        sd["num_batches_tracked"] = lib.tensor(7)
        sd["running_mean"] = lib.tensor([1.0, 2.0])
        bn.load_state_dict(sd)
        return int(bn.num_batches_tracked.item()), str(bn.num_batches_tracked.dtype), to_numpy(bn.running_mean).tolist()
    both(sc)


# ---------------------------------------------------------------------------------------
# Cross-loading weights through NumPy
# ---------------------------------------------------------------------------------------

def mlp(m):
    return m.Sequential(m.Flatten(), m.Linear(12, 16), m.ReLU(), m.Dropout(0.0), m.Linear(16, 8), m.Tanh(),
                        m.Linear(8, 3))


def cnn(m):
    return m.Sequential(OrderedDict([
        ("conv1", m.Conv2d(1, 4, 3, padding=1)), ("bn1", m.BatchNorm2d(4)), ("relu1", m.ReLU()),
        ("pool1", m.MaxPool2d(2)), ("conv2", m.Conv2d(4, 8, 3, padding="same", groups=2)), ("bn2", m.BatchNorm2d(8)),
        ("relu2", m.ReLU()), ("gap", m.AdaptiveAvgPool2d(1)), ("flat", m.Flatten()), ("fc", m.Linear(8, 5)),
    ]))


@pytest.mark.parametrize("builder,shape", [(mlp, (4, 3, 4)), (cnn, (3, 1, 8, 8))], ids=["mlp", "cnn"])
def test_cross_load_torch_to_lib(builder, shape):
    ref, lib = builder(tnn), builder(nn)
    # train the torch model's BN statistics a little so buffers are non-trivial
    ref.train()
    for s in range(2):
        ref(torch.from_numpy(randn(shape, seed=s)))
    r = lib.load_state_dict(state_dict_to(LIB, numpy_state_dict(ref)))
    assert list(r.missing_keys) == [] and list(r.unexpected_keys) == []
    for train in (False, True):
        compare_layer(ref, lib, randn(shape, seed=5), train=train, rtol=TOL["float32"][0],
                      atol=TOL["float32"][1], name=f"{builder.__name__} loaded from torch")


@pytest.mark.parametrize("builder,shape", [(mlp, (4, 3, 4)), (cnn, (3, 1, 8, 8))], ids=["mlp", "cnn"])
def test_cross_load_lib_to_torch(builder, shape):
    ref, lib = builder(tnn), builder(nn)
    lib.train()
    for s in range(2):
        lib(to_lib(LIB, randn(shape, seed=s)))
    arrays = numpy_state_dict(lib)
    assert list(arrays) == list(ref.state_dict())
    ref.load_state_dict(state_dict_to(torch, arrays))
    for k, v in ref.state_dict().items():
        assert_same(to_lib(torch, arrays[k]), v, 0, 0, name=f"{k} round trip")
    for train in (False, True):
        compare_layer(ref, lib, randn(shape, seed=6), train=train, rtol=TOL["float32"][0],
                      atol=TOL["float32"][1], name=f"{builder.__name__} loaded into torch")


def test_round_trip_lib_numpy_lib():
    a, b = cnn(nn), cnn(nn)
    b.load_state_dict(state_dict_to(LIB, numpy_state_dict(a)))
    for (k, va), (_, vb) in zip(a.state_dict().items(), b.state_dict().items()):
        np.testing.assert_array_equal(to_numpy(va), to_numpy(vb), err_msg=k)
    x = to_lib(LIB, randn((2, 1, 8, 8)))
    a.eval(), b.eval()
    np.testing.assert_array_equal(to_numpy(a(x)), to_numpy(b(x)))


def test_load_state_dict_accepts_numpy_free_dict_of_other_tensors():
    """A plain dict (not an OrderedDict) with the same keys loads too."""
    ref, lib = mlp(tnn), mlp(nn)
    lib.load_state_dict(dict(state_dict_to(LIB, numpy_state_dict(ref))))
    compare_layer(ref, lib, randn((2, 3, 4)), rtol=1e-5, atol=1e-6, name="mlp from plain dict")
