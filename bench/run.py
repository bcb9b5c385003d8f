#!/usr/bin/env python3
"""ember vs torch, side by side in one run.

    make bench                                   # all default groups, 2 threads
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE .venv/bin/python bench/run.py --only tiny,ops --quick

Every timed group runs in a fresh process per library and thread count (lib a
first, then lib b, group by group), on the same seeded data and shapes.  Each
workload is warmed up, then timed as the median of repeats; the report gives
both figures and the ratio a/b (ember/torch: below 1 means ember is faster),
as Markdown tables on stdout plus a JSON file.  Progress goes to stderr.

Run without the machine's OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE (that is what
`make bench` does): they force a slower OpenBLAS kernel on NumPy.
"""
from __future__ import annotations

import argparse
import importlib
import json
import math
import os
import re
import subprocess
import sys
import tempfile

import harness
from harness import log
import registry
from registry import GROUPS
import workloads  # noqa: F401  (registers the groups)

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_JSON = os.path.join(HERE, "results", "last.json")
SCALE = {"us": 1e6, "ms": 1e3, "s": 1.0}  # seconds -> the unit a timed group reports in


def value_of(w, g, r):
    """The reported figure of a timed measurement: time per iteration in the group's unit, or for rate
    workloads items per second (items per call / seconds per call; items per call = the callable's
    `items` attribute, else per_call)."""
    if w.rate:
        return (r.get("items") or w.per_call) / (r["median_s"] * w.per_call)
    return r["median_s"] * SCALE[g.unit]


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", default=",".join(g.name for g in GROUPS.values() if g.default),
                    help=f"comma-separated groups (registered: {', '.join(GROUPS)}; default: %(default)s)")
    ap.add_argument("--threads", default="2", help="comma-separated thread counts (default %(default)s)")
    ap.add_argument("--isa", default="native", choices=["native", *harness.ISA_ENV],
                    help="hold both libraries to this instruction set (avx2: an AVX2 host emulated on an AVX-512 "
                         "one: OpenBLAS's Haswell kernel, torch's AVX2 kernels; default %(default)s)")
    ap.add_argument("--quick", action="store_true", help="smoke run: 3 repeats of >= 5 ms, no waiting for quiet")
    ap.add_argument("--json", default=DEFAULT_JSON, metavar="PATH", help="write results here (default %(default)s)")
    ap.add_argument("--lib-a", default="ember", help="library measured (default %(default)s)")
    ap.add_argument("--lib-b", default="torch", help="reference library (default %(default)s)")
    ap.add_argument("--match", default=None, metavar="REGEX", help="only workloads whose name matches")
    ap.add_argument("--repeats", type=int, default=None, help="timed repeats per workload (default 7, quick 3)")
    ap.add_argument("--min-time", type=float, default=None,
                    help="minimum seconds per timed repeat (default 0.02, quick 0.005)")
    ap.add_argument("--wait-quiet", type=float, default=None,
                    help="before each group, wait up to this many seconds for other processes to go idle "
                         "(default 10, quick 0)")
    # internal: one child process per (group, library, thread count)
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--probe", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--lib", help=argparse.SUPPRESS)
    ap.add_argument("--out", help=argparse.SUPPRESS)
    opts = ap.parse_args(argv)
    opts.groups = [g.strip() for g in opts.only.split(",") if g.strip()]
    unknown = [g for g in opts.groups if g not in GROUPS]
    if unknown:
        ap.error(f"unknown group(s) {', '.join(unknown)}; registered: {', '.join(GROUPS)}")
    opts.thread_counts = [int(t) for t in opts.threads.split(",") if t.strip()]
    if opts.repeats is None:
        opts.repeats = 3 if opts.quick else 7
    if opts.min_time is None:
        opts.min_time = 0.005 if opts.quick else 0.02
    if opts.wait_quiet is None:
        opts.wait_quiet = 0.0 if opts.quick else 10.0
    return opts


# ------------------------------------------------------------------ child side
def child_main(opts):
    """Measure the timed workloads of one group with one library at one thread count."""
    registry.OPTIONS.quick = opts.quick
    lib = importlib.import_module(opts.lib)
    if opts.probe:
        return {"info": harness.lib_info(lib)}
    nt = int(opts.threads)
    _limits = harness.set_threads(lib, nt)  # noqa: F841  (kept alive for the whole run)
    g = GROUPS[opts.groups[0]]
    waited = harness.wait_quiet(opts.wait_quiet) if opts.wait_quiet > 0 else 0.0
    results = {}
    for w in g.workloads:
        if opts.match and not re.search(opts.match, w.name):
            continue

        def measure(fn):
            return harness.measure(fn, per_call=w.per_call, repeats=w.repeats or opts.repeats,
                                   min_time=opts.min_time, warmup=w.warmup)
        try:
            fn = w.make(lib)
            r = measure(fn)
            if r["noisy"] and opts.wait_quiet > 0:  # other processes disturbed it: wait, then once more
                harness.wait_quiet(opts.wait_quiet)
                r = max(r, measure(fn), key=lambda t: t["clean_repeats"])
            last = r.pop("result")
        except Exception as e:  # e.g. an op the library lacks: report it, keep going
            results[w.name] = {"error": f"{type(e).__name__}: {e}"}
            log(f"  [{opts.lib} t={nt}] {w.name}: ERROR {results[w.name]['error']}")
            continue
        r["digest"] = harness.digest(getattr(fn, "reference", last))
        if getattr(fn, "items", None):
            r["items"] = fn.items
        if w.info is not None:
            try:
                r["info"] = w.info(last)
            except Exception as e:
                r["info"] = {"info error": f"{type(e).__name__}: {e}"}
        if w.check is not None:
            try:
                w.check(last)
            except Exception as e:
                r["check_error"] = f"{type(e).__name__}: {e}"
        results[w.name] = r
        log(f"  [{opts.lib} t={nt}] {w.name}: {fmt(value_of(w, g, r), g.unit)}"
            + (" (noisy)" if r["noisy"] else "") + (f"  CHECK FAILED {r['check_error']}" if "check_error" in r else "")
            + (f"  {r['info']}" if r.get("info") else ""))
        del fn, last  # free the workload's model and data before the next one
    return {"info": harness.lib_info(lib), "waited_s": waited, "results": results}


def spawn_child(opts, lib, group=None, threads=None):
    fd, out = tempfile.mkstemp(prefix="ember_bench_", suffix=".json")
    os.close(fd)
    cmd = [sys.executable, os.path.abspath(__file__), "--child", "--lib", lib, "--out", out,
           "--repeats", str(opts.repeats), "--min-time", str(opts.min_time), "--wait-quiet", str(opts.wait_quiet)]
    cmd += ["--probe"] if group is None else ["--only", group, "--threads", str(threads)]
    if opts.quick:
        cmd += ["--quick"]
    if opts.match:
        cmd += ["--match", opts.match]
    env = harness.thread_env(threads) if threads else dict(os.environ)
    env.update(harness.isa_env(opts.isa))
    try:
        p = subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=None if group else subprocess.PIPE,
                           text=True)
        if p.returncode != 0:
            detail = (p.stderr or "").strip().splitlines()[-1:] if group is None else []
            return {"error": f"child for {lib} exited with {p.returncode}" + (f": {detail[0]}" if detail else "")}
        with open(out) as f:
            return json.load(f)
    finally:
        os.remove(out)


# ------------------------------------------------------------------ parent side
def timed_rows(opts, g, nt, res_a, res_b):
    rows = []
    for w in g.workloads:
        if opts.match and not re.search(opts.match, w.name):
            continue
        row = {"group": g.name, "name": w.name, "threads": nt, "unit": g.unit, "per_call": w.per_call,
               "params": w.params, "target_ratio": w.target_ratio, "higher_better": w.rate}
        for side, res in (("a", res_a), ("b", res_b)):
            r = res.get("results", {}).get(w.name) or {"error": res.get("error", "not measured")}
            row[side] = {"value": value_of(w, g, r), **r} if "median_s" in r else r
        rows.append(row)
    return rows


def finish_row(row):
    """Flags, ratio a/b and whether the row meets its target."""
    row["flags"] = []
    for side in ("a", "b"):
        if row[side].get("noisy"):
            row["flags"].append(f"{side}: noisy")
        if "check_error" in row[side]:
            row["flags"].append(f"{side}: check failed")
    da, db = row["a"].get("digest"), row["b"].get("digest")
    if not harness.digests_agree(da, db):
        row["flags"].append("results differ")
    va, vb = row["a"].get("value"), row["b"].get("value")
    row["ratio"] = va / vb if va is not None and vb else None
    row["ok"] = None
    if row.get("target_ratio") is not None and row["ratio"] is not None:
        row["ok"] = (row["ratio"] >= row["target_ratio"] if row.get("higher_better")
                     else row["ratio"] <= row["target_ratio"])
    if row.get("target_abs") is not None and va is not None:
        row["ok"] = va <= row["target_abs"]
    if row["ok"] and ("check_error" in row["a"] or "results differ" in row["flags"]):
        row["ok"] = False  # fast but wrong does not count
    row["info"] = info_text(row)
    return row


def info_text(row):
    """The workloads' extra figures side by side, e.g. "test acc 0.912 / 0.913" (a / b)."""
    ia, ib = row["a"].get("info") or {}, row["b"].get("info") or {}
    parts = []
    for k in dict.fromkeys(list(ia) + list(ib)):
        va, vb = ia.get(k, "-"), ib.get(k, "-")
        f = (lambda v: f"{v:.4g}" if isinstance(v, float) else str(v))
        parts.append(f"{k} {f(va)} / {f(vb)}")
    return "; ".join(parts)


def run_all(opts):
    report = {"machine": harness.machine_info(), "options": {k: v for k, v in vars(opts).items()
                                                             if k not in ("child", "probe", "lib", "out")},
              "libs": {}, "rows": [], "errors": []}
    for lib in dict.fromkeys([opts.lib_a, opts.lib_b]):
        probe = spawn_child(opts, lib)
        report["libs"][lib] = probe.get("info") or {"name": lib, "error": probe.get("error")}
    print(render_header(report, opts), flush=True)
    for name in opts.groups:
        g = GROUPS[name]
        log(f"=== group {name} ===")
        if not g.timed:
            try:
                rows = g.run(opts)
            except Exception as e:
                report["errors"].append(f"group {name}: {type(e).__name__}: {e}")
                continue
            report["rows"] += [finish_row(r) for r in rows]
        else:
            for nt in opts.thread_counts:
                res_a = spawn_child(opts, opts.lib_a, name, nt)
                res_b = spawn_child(opts, opts.lib_b, name, nt)
                for lib, res in ((opts.lib_a, res_a), (opts.lib_b, res_b)):
                    if "error" in res:
                        report["errors"].append(f"group {name}, {lib}, threads={nt}: {res['error']}")
                report["rows"] += [finish_row(r) for r in timed_rows(opts, g, nt, res_a, res_b)]
        print(render_group(report, opts, g), flush=True)
    print(render_summary(report, opts), flush=True)
    return report


# ------------------------------------------------------------------ report
def fmt(v, unit=""):
    if v is None:
        return "-"
    if abs(v) >= 100:
        s = f"{v:,.0f}"
    elif abs(v) >= 10:
        s = f"{v:.1f}"
    elif abs(v) >= 1:
        s = f"{v:.2f}"
    else:
        s = f"{v:.3f}"
    return f"{s} {unit}".strip()


def md_table(header, rows, align):
    """A Markdown pipe table, padded so it also reads well in a terminal."""
    cells = [header] + rows
    widths = [max(len(str(r[i])) for r in cells) for i in range(len(header))]

    def line(r):
        return "| " + " | ".join(str(c).rjust(w) if a == "r" else str(c).ljust(w)
                                 for c, w, a in zip(r, widths, align)) + " |"
    sep = "|" + "|".join(("-" * (w + 1) + ":") if a == "r" else ("-" * (w + 2)) for w, a in zip(widths, align)) + "|"
    return "\n".join([line(header), sep] + [line(r) for r in rows])


def describe_blas(info):
    if "error" in info:
        return f"{info['name']}: could not import ({info['error']})"
    parts = []
    if info.get("blas"):
        parts.append(f"BLAS {info['blas']}" + (f" ({info['blas_version']}, linked statically)"
                                                if info.get("blas_version") else ""))
    if info.get("cpu_capability"):
        parts.append(f"CPU capability {info['cpu_capability']}")
    for tp in info.get("threadpools", []):
        if tp["user_api"] == "blas":
            owner = "numpy's " if "numpy" in (tp.get("filepath") or "") else ""
            parts.append(f"{owner}{tp['internal_api']} {tp.get('version') or ''} kernel {tp.get('architecture')} "
                         f"({tp.get('threading_layer') or '?'})".replace("  ", " "))
        else:
            parts.append(f"{tp['internal_api']} ({os.path.basename(tp.get('filepath') or '?')})")
    if info["name"] == "ember" and info.get("numpy_simd"):
        parts.append(f"NumPy's ufunc loops {info['numpy_simd']}")
    return f"{info['name']} {info.get('version') or '?'}: " + "; ".join(parts or ["no thread pools seen"])


def render_header(report, opts):
    m = report["machine"]
    set_vars = {k: v for k, v in m["openblas_env"].items() if v is not None}
    env_line = ("not set (good)" if not set_vars and opts.isa == "native" else
                f"--isa {opts.isa}: " + ", ".join(f"{k}={v}" for k, v in harness.isa_env(opts.isa).items())
                + " (an AVX2 host emulated; the kernels below are what each library loaded)"
                if opts.isa != "native" else
                "SET: " + ", ".join(f"{k}={v}" for k, v in set_vars.items())
                + "  -> NumPy's GEMM runs a slower kernel; use `make bench`")
    lines = [
        f"# {opts.lib_a} vs {opts.lib_b} benchmark, {m['date_utc']}",
        "",
        f"- machine: {m['cpu_count']} CPUs, {m['cpu_model']} ({m['machine']}, {m['system']})",
        f"- python {m['python']}, numpy {m['numpy']}, "
        + ", ".join(f"{n} {i.get('version') or '?'}" for n, i in report["libs"].items()),
    ]
    lines += [f"- {describe_blas(i)}" for i in report["libs"].values()]
    lines += [
        f"- OPENBLAS_* variables: {env_line}",
        f"- threads: {', '.join(map(str, opts.thread_counts))} (one fresh process per group, library and "
        f"thread count); median of >= {opts.repeats} repeats of >= {opts.min_time * 1e3:g} ms after warm-up"
        + (" [--quick]" if opts.quick else ""),
    ]
    return "\n".join(lines) + "\n"


def render_group(report, opts, g):
    rows = [r for r in report["rows"] if r["group"] == g.name]
    a, b = opts.lib_a, opts.lib_b
    out = [f"## {g.name}: {g.description}"]
    if g.target:
        out.append(f"target: {g.target}")
    out.append("")
    if not rows:
        return "\n".join(out + ["(no results)", ""])
    has_target = any(r.get("target_ratio") is not None or r.get("target_abs") is not None for r in rows)
    header = ["workload", "threads", f"{a}", f"{b}", f"{a}/{b}"] + (["target"] if has_target else []) + ["notes"]
    table = []
    for r in rows:
        unit = r["unit"]
        va = fmt(r["a"].get("value"), unit) if "value" in r["a"] else "ERROR"
        vb = fmt(r["b"].get("value"), unit) if "value" in r["b"] else "ERROR"
        target = ""
        if r.get("target_ratio") is not None:
            target = f"{'>=' if r.get('higher_better') else '<='} {r['target_ratio']:g}"
        elif r.get("target_abs") is not None:
            target = f"{a} <= {r['target_abs']:g} {unit}"
        if r["ok"] is not None:
            target += " ok" if r["ok"] else " MISSED"
        ratio = f"{r['ratio']:.2f}" if r["ratio"] is not None else "-"
        table.append([r["name"], r["threads"] or "-", va, vb, ratio] + ([target] if has_target else [])
                     + ["; ".join(([r["info"]] if r.get("info") else []) + r["flags"])])
    align = ["l", "r", "r", "r", "r"] + (["l"] if has_target else []) + ["l"]
    out.append(md_table(header, table, align))
    notes = list(dict.fromkeys(r["note"] for r in rows if r.get("note")))
    errors = list(dict.fromkeys(f"{side}={lib}: {r[side]['error']}" for r in rows
                                for side, lib in (("a", a), ("b", b)) if "error" in r[side]))
    checks = list(dict.fromkeys(f"{r['name']} ({lib}): {r[side]['check_error']}" for r in rows
                                for side, lib in (("a", a), ("b", b)) if "check_error" in r[side]))
    out += [""] + [f"{n}" for n in notes]
    out += [f"- error {e}" for e in errors] + [f"- check failed: {c}" for c in checks]
    return "\n".join(out) + "\n"


def render_summary(report, opts):
    a, b = opts.lib_a, opts.lib_b
    out = ["## summary", ""]
    for name in opts.groups:
        g = GROUPS[name]
        for nt in (opts.thread_counts if g.timed else [None]):
            rows = [r for r in report["rows"] if r["group"] == name and r["threads"] == nt and r["ratio"]]
            if not rows:
                out.append(f"- {name}: no ratios")
                continue
            label = f"- {name}" + (f" (threads={nt})" if nt else "") + ": "
            judged = [r for r in rows if r["ok"] is not None]
            met = f"; targets met {sum(r['ok'] for r in judged)}/{len(judged)}" if judged else ""
            if len(rows) <= 3:
                out.append(label + "; ".join(f"{r['name']} {a}/{b} {r['ratio']:.2f}" for r in rows) + met)
                continue
            gm = math.exp(sum(math.log(r["ratio"]) for r in rows) / len(rows))
            worst = max(rows, key=lambda r: r["ratio"])
            best = min(rows, key=lambda r: r["ratio"])
            out.append(label + f"{a}/{b} geometric mean {gm:.2f} over {len(rows)} rows; best {best['ratio']:.2f} "
                       f"({best['name']}), worst {worst['ratio']:.2f} ({worst['name']})" + met)
    out += [f"- ERROR {e}" for e in report["errors"]]
    return "\n".join(out) + "\n"


def main():
    opts = parse_args()
    if opts.child:
        res = child_main(opts)
        with open(opts.out, "w") as f:
            json.dump(res, f)
        return
    report = run_all(opts)
    if opts.json:
        os.makedirs(os.path.dirname(os.path.abspath(opts.json)), exist_ok=True)
        with open(opts.json, "w") as f:
            json.dump(report, f, indent=1, default=str)
        log(f"saved {opts.json}")


if __name__ == "__main__":
    main()
