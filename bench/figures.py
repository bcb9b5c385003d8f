#!/usr/bin/env python3
"""Render a saved run (bench/run.py --json) as the compact Markdown tables of
bench/README.md's "Figures" section.

    .venv/bin/python bench/figures.py [bench/results/last.json]

Rows of one workload that differ only in `mode` (ops: fwd / fwd+bwd) are put
side by side.
"""
import json
import os
import sys

from run import DEFAULT_JSON, fmt, md_table


def side(row, key):
    if "value" not in row[key]:
        return "pending" if key == "a" and not row[key] else "ERROR"
    return fmt(row[key]["value"], row["unit"]) + (" *" if row[key].get("noisy") else "")


def ratio(row):
    return f"{row['ratio']:.2f}" if row.get("ratio") is not None else "-"


def target(row, a):
    if row.get("target_ratio") is not None:
        return f"{'>=' if row.get('higher_better') else '<='} {row['target_ratio']:g}"
    if row.get("target_abs") is not None:
        return f"{a} <= {row['target_abs']:g} {row['unit']}"
    return ""


def render(report):
    opts = report["options"]
    a, b = opts["lib_a"], opts["lib_b"]
    m = report["machine"]
    out = [f"Run of {m['date_utc']}: {m['cpu_count']} x {m['cpu_model']}, numpy {m['numpy']}, "
           + ", ".join(f"{n} {i.get('version') or '?'}" for n, i in report["libs"].items())
           + f"; threads {opts['threads']}" + (" (--quick)" if opts["quick"] else "") + "."]
    many_threads = len({r["threads"] for r in report["rows"] if r["threads"]}) > 1

    def label(name, threads):
        return f"{name} (threads={threads})" if many_threads and threads else name

    groups = list(dict.fromkeys(r["group"] for r in report["rows"]))
    for g in groups:
        rows = [r for r in report["rows"] if r["group"] == g]
        out += ["", f"**{g}**", ""]
        modes = list(dict.fromkeys(r.get("params", {}).get("mode") for r in rows))
        if modes == [None]:
            has_target = any(r.get("target_ratio") is not None or r.get("target_abs") is not None for r in rows)
            has_info = any(r.get("info") for r in rows)
            header = ["workload", a, b, f"{a}/{b}"] + (["target", "met?"] if has_target else []) \
                + (["notes (" + a + " / " + b + ")"] if has_info else [])
            table = []
            for r in rows:
                cells = [label(r["name"], r["threads"]), side(r, "a"), side(r, "b"), ratio(r)]
                if has_target:
                    cells += [target(r, a), {True: "yes", False: "**no**", None: "-"}[r.get("ok")]]
                if has_info:
                    cells.append(r.get("info") or "")
                table.append(cells)
            out.append(md_table(header, table, "lrrr" + ("ll" if has_target else "") + ("l" if has_info else "")))
            notes = list(dict.fromkeys(r["note"] for r in rows if r.get("note")))
            if notes:
                out += [""] + notes
            continue
        by_name = {}
        for r in rows:
            base = r["name"].rsplit(" ", 1)[0]
            by_name.setdefault((base, r["threads"]), {})[r["params"]["mode"]] = r
        header = ["workload"] + [h for mode in modes for h in (f"{mode} {a}", f"{mode} {b}", f"{a}/{b}")]
        table = []
        for (base, threads), per_mode in by_name.items():
            cells = [label(base, threads)]
            for mode in modes:
                r = per_mode.get(mode)
                cells += [side(r, "a"), side(r, "b"), ratio(r)] if r else ["", "", ""]
            table.append(cells)
        out.append(md_table(header, table, "l" + "rrr" * len(modes)))
    if any(r[k].get("noisy") for r in report["rows"] for k in ("a", "b")):
        out += ["", "\\* flagged noisy: other processes were busy during that measurement."]
    flagged = [f"{r['name']}: {', '.join(r['flags'])}" for r in report["rows"]
               if any("noisy" not in f for f in r.get("flags", []))]
    out += [f"- {f}" for f in flagged]
    return "\n".join(out)


if __name__ == "__main__":
    path = sys.argv[1] if len(sys.argv) > 1 else DEFAULT_JSON
    if not os.path.exists(path):
        sys.exit(f"no results at {path}: run bench/run.py first")
    with open(path) as f:
        print(render(json.load(f)))
