"""The workload registry: named groups of benchmarks.

A *timed* group holds `Workload`s.  `make(lib)` receives the library module
(ember or torch, used as `torch`), builds its data and returns a zero-argument
callable (which may carry a `reference` attribute: the value fingerprinted to compare
the libraries instead of the last call's result, for workloads whose results differ run
to run, e.g. because of dropout); the harness times that callable (median of repeats after warm-up) in a
fresh process per library and thread count, so both libraries see the same
shapes and the same (seeded NumPy) data.

A *custom* group brings its own `run(opts) -> rows` that runs in the parent
process; `import` uses this to time fresh interpreters.

To add a group (e.g. `layers`, `train_step`, `epoch`): write
bench/workloads/<name>.py that calls `group(...)` and registers workloads with
`add(...)` or the `@workload(...)` decorator, then list the module in
bench/workloads/__init__.py.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from types import ModuleType, SimpleNamespace
from typing import Any, Callable


@dataclass
class Workload:
    group: str
    name: str
    make: Callable[[ModuleType], Callable[[], Any]]
    per_call: int = 1  # iterations inside one call; reported time is per iteration
    target_ratio: float | None = None  # goal for lib_a / lib_b (e.g. ember/torch <= 0.5)
    check: Callable[[Any], None] | None = None  # gets the last call's result; raises if it is wrong
    repeats: int | None = None  # overrides the run's default number of timed repeats
    params: dict = field(default_factory=dict)  # free-form metadata (op, shape, mode) for the JSON
    warmup: int = 1  # untimed calls before timing
    info: Callable[[Any], dict] | None = None  # gets the last call's result; extra figures for the report
    # (e.g. {"test acc": 0.91}), computed outside the timing
    rate: bool = False  # report items per second (higher is better) instead of time; items per call =
    # the callable's `items` attribute, else per_call


# Options of the current run that workloads may read in make(lib) (set by run.py in the child), e.g.
# `OPTIONS.quick` for a smaller data set.
OPTIONS = SimpleNamespace(quick=False)


@dataclass
class Group:
    name: str
    description: str
    unit: str = "us"  # unit of the reported time per iteration: "us", "ms" or "s" (import: its own;
    # rate workloads: e.g. "img/s")
    target: str | None = None  # human-readable goal, printed above the table
    run: Callable[[Any], list[dict]] | None = None  # custom groups only
    default: bool = True  # part of a run without --only
    workloads: list[Workload] = field(default_factory=list)

    @property
    def timed(self) -> bool:
        return self.run is None


GROUPS: dict[str, Group] = {}


def group(name: str, description: str, **kw) -> Group:
    if name in GROUPS:
        raise ValueError(f"group {name!r} registered twice")
    GROUPS[name] = Group(name, description, **kw)
    return GROUPS[name]


def add(group_name: str, name: str, make: Callable, **meta) -> Workload:
    g = GROUPS[group_name]
    if any(w.name == name for w in g.workloads):
        raise ValueError(f"workload {group_name}/{name} registered twice")
    w = Workload(group_name, name, make, **meta)
    g.workloads.append(w)
    return w


def workload(group_name: str, name: str, **meta):
    """Decorator form of `add`: registers `make` and returns it unchanged."""
    def deco(make):
        add(group_name, name, make, **meta)
        return make
    return deco
