"""The profiler's events and their summary table, laid out as torch.autograd.profiler_util prints them."""
import json
import os
from collections import OrderedDict


def _format_time(time_us):
    if time_us >= 1e6:
        return f"{time_us / 1e6:.3f}s"
    if time_us >= 1e3:
        return f"{time_us / 1e3:.3f}ms"
    return f"{time_us:.3f}us"


def _format_time_share(time_us, total_time_us):
    if total_time_us == 0:
        return "NaN"
    return f"{time_us * 100.0 / total_time_us:.2f}%"


def _format_memory(nbytes):
    KB, MB, GB = 1024, 1024 ** 2, 1024 ** 3
    if abs(nbytes) >= GB:
        return f"{nbytes * 1.0 / GB:.2f} GB"
    if abs(nbytes) >= MB:
        return f"{nbytes * 1.0 / MB:.2f} MB"
    if abs(nbytes) >= KB:
        return f"{nbytes * 1.0 / KB:.2f} KB"
    return str(nbytes) + " B"


class FunctionEvent:
    """One call of one op (or one record_function block): times in microseconds."""

    def __init__(self, id, name, thread, start_us, end_us, input_shapes=None, stack=None, cpu_memory_usage=0,
                 is_user_annotation=False):
        self.id, self.name, self.thread = id, name, thread
        self.start_us, self.end_us = start_us, end_us
        self.input_shapes = input_shapes or []
        self.stack = stack or []
        self.cpu_memory_usage = cpu_memory_usage
        self.cpu_children = []
        self.cpu_parent = None
        self.is_user_annotation = is_user_annotation
        self.count = 1
        self.is_async = False
        self.is_legacy = False
        self.node_id = -1
        self.overload_name = ""
        self.device_type = "CPU"
        self.use_device = None
        self.self_device_time_total = 0
        self.device_time_total = 0
        self.self_device_memory_usage = 0
        self.flops = 0

    key = property(lambda self: self.name)
    cpu_time_total = property(lambda self: self.end_us - self.start_us)
    cpu_time = cpu_time_total

    @property
    def self_cpu_time_total(self):
        return self.cpu_time_total - sum(c.cpu_time_total for c in self.cpu_children)

    @property
    def self_cpu_memory_usage(self):
        return self.cpu_memory_usage - sum(c.cpu_memory_usage for c in self.cpu_children)

    def __repr__(self):
        return (f"<FunctionEvent id={self.id} name={self.name} cpu_time={_format_time(self.cpu_time_total)} "
                f"start_us={self.start_us:.3f} end_us={self.end_us:.3f} thread={self.thread} "
                f"input_shapes={self.input_shapes}>")


class FunctionEventAvg:
    """The events of one name (and input shapes, when grouped by them) added up."""

    def __init__(self):
        self.key = None
        self.count = 0
        self.cpu_time_total = 0.0
        self.self_cpu_time_total = 0.0
        self.cpu_memory_usage = 0
        self.self_cpu_memory_usage = 0
        self.input_shapes = None
        self.stack = None
        self.cpu_parent = None
        self.is_async = False
        self.is_legacy = False
        self.is_user_annotation = False
        self.node_id = -1
        self.overload_name = ""
        self.device_type = "CPU"
        self.use_device = None
        self.self_device_time_total = 0
        self.device_time_total = 0
        self.self_device_memory_usage = 0
        self.flops = 0

    def add(self, other):
        if self.key is None:
            self.key = other.key
            self.is_user_annotation = other.is_user_annotation
        self.count += other.count
        self.cpu_time_total += other.cpu_time_total
        self.self_cpu_time_total += other.self_cpu_time_total
        self.cpu_memory_usage += other.cpu_memory_usage
        self.self_cpu_memory_usage += other.self_cpu_memory_usage
        return self

    @property
    def cpu_time(self):
        return 0.0 if self.count == 0 else self.cpu_time_total / self.count

    cpu_time_str = property(lambda self: _format_time(self.cpu_time))
    cpu_time_total_str = property(lambda self: _format_time(self.cpu_time_total))
    self_cpu_time_total_str = property(lambda self: _format_time(self.self_cpu_time_total))

    def __repr__(self):
        return (f"<FunctionEventAvg key={self.key} self_cpu_time={_format_time(self.self_cpu_time_total)} "
                f"cpu_time={_format_time(self.cpu_time)} input_shapes={self.input_shapes}>")


for _name in ("cpu_time", "cpu_time_total", "self_cpu_time_total"):
    setattr(FunctionEvent, _name + "_str", property(lambda self, n=_name: _format_time(getattr(self, n))))


class EventList(list):
    def __init__(self, *args, profile_memory=False, **kwargs):
        super().__init__(*args)
        self._profile_memory = profile_memory

    def key_averages(self, group_by_input_shapes=False, group_by_stack_n=0):
        stats = OrderedDict()
        for evt in self:
            key = evt.key
            if group_by_input_shapes:
                key = (key, str(evt.input_shapes))
            if group_by_stack_n:
                key = key if isinstance(key, tuple) else (key,)
                key = key + tuple(evt.stack[:group_by_stack_n])
            avg = stats.get(key)
            if avg is None:
                avg = stats[key] = FunctionEventAvg()
                if group_by_input_shapes:
                    avg.input_shapes = evt.input_shapes
                if group_by_stack_n:
                    avg.stack = evt.stack[:group_by_stack_n]
            avg.add(evt)
        return EventList(stats.values(), profile_memory=self._profile_memory)

    def total_average(self):
        total = FunctionEventAvg()
        for evt in self:
            total.add(evt)
        total.key = "Total"
        return total

    def table(self, sort_by=None, row_limit=100, max_src_column_width=75, max_name_column_width=55,
              max_shapes_column_width=80, header=None, top_level_events_only=False, time_unit=None):
        return _build_table(self, sort_by=sort_by, row_limit=row_limit, header=header,
                            max_src_column_width=max_src_column_width, max_name_column_width=max_name_column_width,
                            max_shapes_column_width=max_shapes_column_width, profile_memory=self._profile_memory,
                            top_level_events_only=top_level_events_only, time_unit=time_unit)

    def __str__(self):
        return self.table()

    def export_chrome_trace(self, path):
        """A Chrome trace-event file (chrome://tracing, Perfetto): one complete ("X") event per call."""
        pid = os.getpid()
        events = [{"ph": "M", "name": "process_name", "pid": pid, "tid": 0, "ts": 0, "args": {"name": "python"}}]
        for evt in self:
            if not isinstance(evt, FunctionEvent):
                raise TypeError("export_chrome_trace needs the events themselves (profile.events()), "
                                "not their averages")
            entry = {"ph": "X", "cat": "user_annotation" if evt.is_user_annotation else "cpu_op", "name": evt.name,
                     "pid": pid, "tid": evt.thread, "ts": round(evt.start_us, 3),
                     "dur": round(evt.cpu_time_total, 3), "args": {"External id": evt.id}}
            if evt.input_shapes:
                entry["args"]["Input Dims"] = evt.input_shapes
            events.append(entry)
        with open(path, "w") as fh:
            json.dump({"schemaVersion": 1, "displayTimeUnit": "ms", "traceEvents": events}, fh, indent=1)


def _build_table(events, sort_by=None, header=None, row_limit=100, max_src_column_width=75,
                 max_name_column_width=55, max_shapes_column_width=80, profile_memory=False,
                 top_level_events_only=False, time_unit=None):
    """PyTorch's summary table: the same columns, widths, number formats and footer."""
    if len(events) == 0:
        return ""
    has_input_shapes = any(evt.input_shapes for evt in events)
    if sort_by is not None:
        events = sorted(events, key=lambda evt: getattr(evt, sort_by), reverse=True)
    name_column_width = min(max(len(evt.key) for evt in events) + 4, max_name_column_width)
    shapes_column_width = min(max(len(str(evt.input_shapes)) for evt in events) + 4, max_shapes_column_width)
    stacks = [evt.stack for evt in events if evt.stack]
    src_column_width = min(max(len(e) for s in stacks for e in s) + 4, max_src_column_width) if stacks else None
    WIDTH, SPACING = 12, 2

    headers = ["Name", "Self CPU %", "Self CPU", "CPU total %", "CPU total", "CPU time avg"]
    if profile_memory:
        headers += ["CPU Mem", "Self CPU Mem"]
    headers.append("# of Calls")
    widths = [name_column_width] + [WIDTH] * (len(headers) - 1)
    aligns = [">"] * len(headers)
    if has_input_shapes:
        headers.append("Input Shapes")
        widths.append(shapes_column_width)
        aligns.append(">")
    if stacks:
        headers.append("Source Location")
        widths.append(src_column_width)
        aligns.append("<")
    row_format = "".join("{: " + a + str(w) + "}" + " " * SPACING for a, w in zip(aligns, widths))
    header_sep = "".join("-" * w + " " * SPACING for w in widths)
    line_length = sum(w + SPACING for w in widths) - SPACING

    def unit(time_us, default):
        return {"s": f"{time_us / 1e6:.3f}s", "ms": f"{time_us / 1e3:.3f}ms",
                "us": f"{time_us:.3f}us"}.get(time_unit, default)

    def trim_path(path):
        if len(path) > src_column_width:
            path = path[len(path) - src_column_width:]
            if len(path) > 3:
                path = "..." + path[3:]
        return path

    total = sum(evt.self_cpu_time_total for evt in events)
    lines = []
    if header is not None:
        lines += ["=" * line_length, header]
    if top_level_events_only:
        lines += ["=" * line_length, "This report only display top-level ops statistics"]
    lines += [header_sep, row_format.format(*headers), header_sep]
    shown = 0
    for evt in events:
        if shown == row_limit:
            break
        if top_level_events_only and evt.cpu_parent is not None:
            continue
        shown += 1
        name = evt.key
        if len(name) >= max_name_column_width - 3:
            name = name[:max_name_column_width - 3] + "..."
        row = [name, _format_time_share(evt.self_cpu_time_total, total),
               unit(evt.self_cpu_time_total, _format_time(evt.self_cpu_time_total)),
               _format_time_share(evt.cpu_time_total, total),
               unit(evt.cpu_time_total, _format_time(evt.cpu_time_total)),
               unit(evt.cpu_time, _format_time(evt.cpu_time))]
        if profile_memory:
            row += [_format_memory(evt.cpu_memory_usage), _format_memory(evt.self_cpu_memory_usage)]
        row.append(evt.count)
        if has_input_shapes:
            row.append(str(evt.input_shapes)[:shapes_column_width])
        if stacks:
            row.append(trim_path(evt.stack[0]) if evt.stack else "")
        lines.append(row_format.format(*row))
        if stacks:
            blanks = [""] * (len(headers) - 1)
            for entry in (evt.stack or [])[1:]:
                lines.append(row_format.format(*(blanks + [trim_path(entry)])))
            lines.append(row_format.format(*(blanks + [""])))
    lines.append(header_sep)
    lines.append(f"Self CPU time total: {unit(total, _format_time(total))}")
    return "".join(line + "\n" for line in lines)
