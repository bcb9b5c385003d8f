"""Helpers for the tutorial tests: run a tutorial program with ember and with PyTorch, compare.

Each program in examples/ imports `ember as torch`. The tests run it as written (the
"subject" run) and once more with `ember` replaced by `torch` in its import lines (the
"reference" run, real PyTorch), then compare the two outputs print by print.

EMBER_TUTORIAL_MODULE=torch makes the subject run use PyTorch too: the programs and the
tests' own checks can then be verified before ember exists.

A program runs as `python program.py` would: its globals are a module standing in for
__main__ (so torch.save / torch.load of a whole model, which pickle the program's classes by
reference, work), and PyTorch runs with one thread (see _torch_threads).

Output is compared in units of one printed value: consecutive lines are joined until their
brackets balance, so a multi-line tensor is one unit. Each unit is compared in one mode:
  exact   the text is identical (after `ember.` -> `torch.`, so that ember may print
          `<class 'ember.Tensor'>` or `ember.Size([12])` where PyTorch prints `torch.`);
  digit   identical, except that a printed number may differ by one unit in its last printed
          digit (same number of digits, same exponent): a float32 result one ulp apart, as
          BLAS kernels that sum in a different order give, can print a different last digit;
  approx  identical apart from numbers and whitespace, numbers equal within rtol/atol
          (for values that float32 rounding order may move in the last printed digit);
  layout  identical apart from numbers and whitespace (for values drawn from the random
          stream, which differs between the two libraries);
  skip    not compared (the test checks that value itself).
"""
import contextlib
import functools
import importlib.util
import io
import math
import os
import re
import sys
from decimal import Decimal
import types
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest

MODULE = os.environ.get("EMBER_TUTORIAL_MODULE", "ember")
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _load_demo():
    spec = importlib.util.spec_from_file_location("_tutorial_demo", EXAMPLES / "demo.py")
    demo = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(demo)
    return demo


demo = _load_demo()

# A number as printed by Python, NumPy or PyTorch; not the digits inside names such as
# AddBackward0 or float64.
_NUMBER = re.compile(r"(?<![\w.])[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?(?![\w.])|(?<![\w.])-?(?:inf|nan)\b")


def numbers(text):
    """All numbers in the text, as floats, in order."""
    return [float(m) for m in _NUMBER.findall(text)]


def bools(text):
    """All True/False in the text, in order."""
    return [b == "True" for b in re.findall(r"\b(True|False)\b", text)]


def layout(text):
    """The text with every number replaced by '#' and whitespace removed."""
    return re.sub(r"\s+", "", _NUMBER.sub("#", text))


def split_units(text):
    """Split printed output into units of one printed value each (brackets balanced)."""
    units, current, depth = [], [], 0
    for line in text.splitlines():
        current.append(line)
        depth += sum(line.count(c) for c in "([{") - sum(line.count(c) for c in ")]}")
        if depth <= 0:
            units.append("\n".join(current))
            current, depth = [], 0
    if current:
        units.append("\n".join(current))
    return units


def _normalise(text):
    return re.sub(r"\bember\.", "torch.", text)


def _last_digit_apart(a, b):
    """Whether the printed numbers a and b are one unit of their last printed digit apart (or equal)."""
    if a == b:
        return True
    ma, _, ea = a.lower().partition("e")
    mb, _, eb = b.lower().partition("e")
    decimals = len(ma.partition(".")[2])
    if ea != eb or "." not in ma or "." not in mb or decimals != len(mb.partition(".")[2]):
        return False
    return abs(Decimal(ma) - Decimal(mb)) == Decimal(1).scaleb(-decimals)


def _digits_match(got, want):
    """got and want are identical except for numbers one unit apart in their last printed digit."""
    a, b = _NUMBER.findall(got), _NUMBER.findall(want)
    return (_NUMBER.sub("#", got) == _NUMBER.sub("#", want) and len(a) == len(b)
            and all(_last_digit_apart(x, y) for x, y in zip(a, b)))


def _close(a, b, rtol, atol):
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return abs(a - b) <= atol + rtol * abs(b)


@dataclass
class TutorialRun:
    name: str
    module: str
    out: str = field(repr=False)        # what the program printed with MODULE
    ns: dict = field(repr=False)        # its globals after the run
    ref_out: str = field(repr=False)    # what it printed with PyTorch
    ref_ns: dict = field(repr=False)

    @property
    def units(self):
        return split_units(self.out)

    @property
    def ref_units(self):
        return split_units(self.ref_out)

    def compare(self, mode="exact", rtol=1e-6, atol=0.0):
        """Compare the output with PyTorch's, unit by unit.

        mode is a mode name for every unit, or a function (index of the printed value) ->
        mode name. Fails with every differing unit listed.
        """
        __tracebackhide__ = True
        mine, ref = self.units, self.ref_units
        if len(mine) != len(ref):
            pytest.fail(f"{self.name}: {self.module} printed {len(mine)} values, torch {len(ref)}\n"
                        f"--- {self.module}:\n{self.out}\n--- torch:\n{self.ref_out}")
        problems = []
        for i, (got, want) in enumerate(zip(mine, ref)):
            m = mode(i) if callable(mode) else mode
            got_n = _normalise(got)
            if m == "skip":
                continue
            if m == "exact":
                ok = got_n == want
            elif m == "layout":
                ok = layout(got_n) == layout(want)
            elif m == "digit":
                ok = _digits_match(got_n, want)
            elif m == "approx":
                a, b = numbers(got_n), numbers(want)
                ok = (layout(got_n) == layout(want) and len(a) == len(b)
                      and all(_close(x, y, rtol, atol) for x, y in zip(a, b)))
            else:
                raise ValueError(f"unknown compare mode {m!r}")
            if not ok:
                extra = f" (rtol={rtol}, atol={atol})" if m == "approx" else ""
                problems.append(f"printed value #{i} ({m}{extra}):\n"
                                f"  {self.module}:\n{_indent(got)}\n  torch:\n{_indent(want)}")
        if problems:
            pytest.fail(f"{self.name}: output differs from PyTorch's\n" + "\n".join(problems))


def _indent(text):
    return "\n".join("    " + line for line in text.splitlines())


@contextlib.contextmanager
def _as_main(path):
    """A fresh module registered as sys.modules['__main__'] while the program runs.

    demo.run_program executes a program in a plain dict, so classes it defines are named
    __main__.X but sys.modules['__main__'] (pytest) has no X: pickling a whole module with
    torch.save / ember.save, as the tutorials do, then fails in both libraries. Running in a
    real module that stands in for __main__, as `python program.py` would, lets pickle and
    unpickle find the program's classes.
    """
    main = types.ModuleType("__main__")
    main.__file__ = str(path)
    main.__builtins__ = __builtins__
    saved = sys.modules.get("__main__")
    sys.modules["__main__"] = main
    try:
        yield main
    finally:
        sys.modules["__main__"] = saved


@contextlib.contextmanager
def _torch_threads(module):
    """One PyTorch intra-op thread for the runs that use PyTorch.

    On a small shared machine PyTorch's threads spin against each other: a 1000-epoch
    full-batch loop of a 3-5-5-5-3 MLP takes 0.23 s with one thread and 3.3 s with two.
    """
    if module != "torch":
        yield
        return
    import torch
    saved = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(saved)


def one_torch_thread():
    """A context in which PyTorch uses one intra-op thread (for the tests' own PyTorch work)."""
    return _torch_threads("torch")


def run_program(name, module):
    """demo.run_program(name, module), with the program's globals a real __main__ module."""
    path = EXAMPLES / name
    code = compile(demo.program_source(name, module), str(path), "exec")
    out = io.StringIO()
    with _as_main(path) as main, _torch_threads(module), contextlib.redirect_stdout(out):
        exec(code, main.__dict__)
    return out.getvalue(), main.__dict__


@functools.cache
def _run(name, module):
    return run_program(name, module)


def run_tutorial(name):
    """The program run with MODULE and with PyTorch (each run once per session)."""
    out, ns = _run(name, MODULE)
    ref_out, ref_ns = _run(name, "torch")
    return TutorialRun(name, MODULE, out, ns, ref_out, ref_ns)


# ---- helpers for the tutorials' networks ----

def normalise(text):
    """The text with `ember.` written as `torch.` (as compare does before comparing)."""
    return _normalise(text)


def to_numpy(t):
    """A tensor of either library as a NumPy array (a copy)."""
    return t.detach().cpu().numpy().copy()


def numpy_state(module):
    """The module's state_dict as NumPy arrays: to give a module of the other library the same
    weights (random initialisation streams differ between the libraries)."""
    return {k: to_numpy(v) for k, v in module.state_dict().items()}


def load_numpy_state(ns, module, state):
    """Load a numpy_state into a module of the library the program namespace ns uses."""
    lib = ns["torch"]
    module.load_state_dict({k: lib.tensor(v) for k, v in state.items()})


def missing_grads(module):
    """Names of the module's parameters without a finite gradient."""
    bad = []
    for name, p in module.named_parameters():
        if p.grad is None or not np.isfinite(to_numpy(p.grad)).all():
            bad.append(name)
    return bad


def modes_by_ref(run, rule):
    """A compare() mode function that decides from the reference (PyTorch) unit's text."""
    ref = run.ref_units
    return lambda i: rule(ref[i])
