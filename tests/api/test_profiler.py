"""ember.profiler: the events recorded, the summary table in PyTorch's layout, the Chrome trace, schedules."""
import json
import os
import re

import pytest
import torch

import ember
from ember.profiler import ProfilerActivity, profile, record_function


def mlp(lib):
    lib.manual_seed(0)
    return lib.nn.Sequential(lib.nn.Linear(10, 20), lib.nn.ReLU(), lib.nn.Linear(20, 2))


def profiled(lib, **kw):
    model, x = mlp(lib), lib.randn(8, 10)
    with lib.profiler.profile(activities=[lib.profiler.ProfilerActivity.CPU], **kw) as prof:
        with lib.profiler.record_function("model_inference"):
            y = model(x).sum()
        y.backward()
    return prof


def rows(table):
    """{name: (columns...)} of a printed table's body."""
    lines = table.splitlines()
    body = lines[3:-2]
    return {re.split(r"\s{2,}", line.strip())[0]: re.split(r"\s{2,}", line.strip())[1:] for line in body}


def test_table_layout_is_torchs():
    ours = profiled(ember).key_averages().table(sort_by="cpu_time_total", row_limit=5)
    theirs = profiled(torch).key_averages().table(sort_by="cpu_time_total", row_limit=5)
    o, t = ours.splitlines(), theirs.splitlines()
    assert o[1] == t[1]                      # the header row, character for character
    assert o[0] == o[2] == o[-2] and set(o[0]) == {"-", " "}
    assert len(o) == len(t) == 3 + 5 + 2
    assert re.fullmatch(r"Self CPU time total: \d+\.\d{3}(us|ms|s)", o[-1])
    for line in o[3:-2]:
        cells = re.split(r"\s{2,}", line.strip())
        assert re.fullmatch(r"\d+\.\d\d%", cells[1]) and re.fullmatch(r"\d+\.\d{3}(us|ms|s)", cells[2])
        assert len(line) == len(o[1])        # every column right-aligned to the header's width


def test_ops_and_counts_match_torch():
    ours = {e.key: e.count for e in profiled(ember).key_averages()}
    theirs = {e.key: e.count for e in profiled(torch).key_averages()}
    for name in ("model_inference", "aten::linear", "aten::relu",
                 "autograd::engine::evaluate_function: AddmmBackward0", "AddmmBackward0"):
        assert ours[name] == theirs[name], name


def test_times_add_up():
    prof = profiled(ember)
    events = prof.events()
    averages = prof.key_averages()
    for e in events:
        assert 0 <= e.self_cpu_time_total <= e.cpu_time_total
        for child in e.cpu_children:
            assert e.start_us <= child.start_us and child.end_us <= e.end_us
    label = next(e for e in events if e.name == "model_inference")
    assert {c.name for c in label.cpu_children} >= {"aten::linear", "aten::relu"}
    total = sum(a.self_cpu_time_total for a in averages)
    roots = [e for e in events if e.cpu_parent is None]
    assert abs(total - sum(e.cpu_time_total for e in roots)) < 1e-3   # every microsecond counted once
    assert abs(total - sum(e.self_cpu_time_total for e in events)) < 1e-6
    assert averages.table().splitlines()[-1] == "Self CPU time total: " + ember.autograd.profiler_util._format_time(
        total)


def test_sorting_row_limit_shapes_memory_and_stack():
    prof = profiled(ember, record_shapes=True, profile_memory=True, with_stack=True)
    table = prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=3)
    assert len(table.splitlines()) == 3 + 3 + 2
    header = re.split(r"\s{2,}", table.splitlines()[1].strip())
    assert header[6:9] == ["CPU Mem", "Self CPU Mem", "# of Calls"]
    selfs = [a.self_cpu_time_total for a in sorted(prof.key_averages(), key=lambda a: -a.self_cpu_time_total)]
    assert [r[1] for r in rows(table).values()] == [ember.autograd.profiler_util._format_time(s) for s in selfs[:3]]
    shaped = prof.key_averages(group_by_input_shape=True).table(sort_by="count")
    assert "Input Shapes" in shaped.splitlines()[1]
    assert "[[8, 10], [20, 10], [20]]" in shaped          # the first Linear's input, weight, bias
    linear = [e for e in prof.events() if e.name == "aten::linear"][0]
    assert linear.cpu_memory_usage == 8 * 20 * 4
    assert any("test_profiler.py" in entry for entry in linear.stack)


def test_chrome_trace_is_valid_trace_events(tmp_path):
    prof = profiled(ember, record_shapes=True)
    path = tmp_path / "trace.json"
    prof.export_chrome_trace(str(path))
    trace = json.loads(path.read_text())
    complete = [e for e in trace["traceEvents"] if e["ph"] == "X"]
    assert len(complete) == len(prof.events())
    for e in complete:
        assert isinstance(e["name"], str) and isinstance(e["pid"], int) and isinstance(e["tid"], int)
        assert e["ts"] >= 0 and e["dur"] >= 0 and e["cat"] in ("cpu_op", "user_annotation")
    label = next(e for e in complete if e["name"] == "model_inference")
    assert label["cat"] == "user_annotation"
    inside = [e for e in complete if e["name"] == "aten::linear"]
    assert all(label["ts"] <= e["ts"] and e["ts"] + e["dur"] <= label["ts"] + label["dur"] + 1e-3 for e in inside)


def test_nothing_is_wrapped_or_recorded_outside_a_profile():
    from ember.ops.linalg import Linear
    from ember.ops.elementwise import Add
    forward, add = Linear.__dict__["forward"], Add.__dict__["forward"]
    profiled(ember)
    assert Linear.__dict__["forward"] is forward and Add.__dict__["forward"] is add
    with record_function("outside"):
        ember.ones(2) + 1       # no profile running: nothing to record, no error


def test_schedule_matches_torch_and_saves_each_cycle():
    ours = ember.profiler.schedule(wait=1, warmup=1, active=2, repeat=2, skip_first=1)
    theirs = torch.profiler.schedule(wait=1, warmup=1, active=2, repeat=2, skip_first=1)
    assert [ours(i).name for i in range(14)] == [theirs(i).name for i in range(14)]
    saved = []
    x = ember.ones(3)
    with profile(schedule=ember.profiler.schedule(wait=1, warmup=1, active=2, repeat=2),
                 on_trace_ready=lambda p: saved.append({e.key: e.count for e in p.key_averages()})) as prof:
        for _ in range(10):
            x.exp()
            prof.step()
    assert saved == [{"aten::exp": 2}, {"aten::exp": 2}]


def test_legacy_autograd_profiler():
    with ember.autograd.profiler.profile(record_shapes=True) as prof:
        ember.ones(2, 3).sum()
    assert [e.name for e in prof.function_events] == ["aten::sum"]
    assert "aten::sum" in str(prof)
    with pytest.raises(TypeError):
        profile(activities=["cpu"])
    assert ember.profiler.supported_activities() == {ProfilerActivity.CPU}


def test_tensorboard_trace_handler(tmp_path):
    import gzip
    with profile(schedule=ember.profiler.schedule(wait=0, warmup=0, active=1, repeat=2),
                 on_trace_ready=ember.profiler.tensorboard_trace_handler(str(tmp_path), "w", use_gzip=True)) as p:
        for _ in range(3):
            ember.ones(2).exp()
            p.step()
    files = sorted(os.listdir(tmp_path))
    assert len(files) == 2 and all(re.fullmatch(r"w\.\d+\.pt\.trace\.json\.gz", f) for f in files)
    trace = json.loads(gzip.open(tmp_path / files[0]).read())
    assert [e["name"] for e in trace["traceEvents"] if e["ph"] == "X"] == ["aten::exp"]
