"""Run the tutorials' programs one after another and show what they print (`make tutorials`).

Each program in this directory is a tutorial's code with `import torch` changed to
`import ember as torch`. `--module torch` runs the same programs with PyTorch instead (the
import lines are rewritten back), to compare the two outputs by eye.

The helpers here (`PROGRAMS`, `program_source`, `run_program`) are also what the tutorial
tests in tests/tutorials/ use to run the programs.
"""
import argparse
import ast
import contextlib
import io
import re
import sys
import time
import traceback
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parent



def _uses_mnist(path):
    text = path.read_text(encoding="utf-8")
    return "datasets.MNIST" in text or "datasets.FashionMNIST" in text or "def load_data" in text


# Every program, in the order the tutorials teach them (tutorial, then section). The ones that train on
# MNIST take minutes each; they run with --all.
ALL_PROGRAMS = sorted(p.name for p in EXAMPLES.glob("t[0-9][0-9][0-9]_*.py"))
PROGRAMS = [name for name in ALL_PROGRAMS if not _uses_mnist(EXAMPLES / name)]

_IMPORT_LINE = re.compile(r"^\s*(import|from)\s")


def program_source(name, module="ember"):
    """The program's source, with `ember` in its import lines replaced by `module`.

    `import ember as torch` becomes `import torch`, `from ember import nn` becomes
    `from torch import nn`, `from ember.distributions import multinomial` becomes
    `from torch.distributions import multinomial`; no other line changes.
    """
    source = (EXAMPLES / name).read_text(encoding="utf-8")
    if module == "ember":
        return source
    lines = []
    for line in source.splitlines(keepends=True):
        if _IMPORT_LINE.match(line):
            line = re.sub(r"\bember\b", module, line)
            line = re.sub(rf"\bimport {module} as {module}\b", f"import {module}", line)
        lines.append(line)
    return "".join(lines)


def run_program(name, module="ember", capture=True):
    """Run one program as `__main__`; return (what it printed, its global namespace).

    With capture=False the output goes straight to stdout and '' is returned for it.
    Exceptions from the program propagate, with tracebacks pointing at its file.
    """
    import types
    path = EXAMPLES / name
    code = compile(program_source(name, module), str(path), "exec")
    # a real module standing as __main__, so that classes the program defines can be pickled
    # (torch.save(model) looks them up as __main__.<name>)
    main = types.ModuleType("__main__")
    main.__file__ = str(path)
    saved = sys.modules.get("__main__")
    sys.modules["__main__"] = main
    out = io.StringIO()
    try:
        with contextlib.redirect_stdout(out) if capture else contextlib.nullcontext():
            exec(code, main.__dict__)
    finally:
        sys.modules["__main__"] = saved
    return out.getvalue(), main.__dict__


def summary_line(name):
    """The first line of the program's docstring (which tutorial and section it is)."""
    doc = ast.get_docstring(ast.parse((EXAMPLES / name).read_text(encoding="utf-8"))) or ""
    return doc.splitlines()[0] if doc else ""


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--module", default="ember",
                        help="module the programs import as torch (default: ember)")
    parser.add_argument("--all", action="store_true", help="also the programs that train on MNIST")
    parser.add_argument("programs", nargs="*", help="run only these (file names)")
    args = parser.parse_args(argv)

    names = args.programs or (ALL_PROGRAMS if args.all else PROGRAMS)
    failed = []
    start = time.perf_counter()
    for name in names:
        print(f"==== {name} ({args.module}): {summary_line(name)}", flush=True)
        t0 = time.perf_counter()
        try:
            run_program(name, args.module, capture=False)
        except Exception:
            traceback.print_exc(file=sys.stdout)
            failed.append(name)
            print(f"==== {name}: FAILED", flush=True)
        else:
            print(f"==== {name}: ok in {time.perf_counter() - t0:.2f} s", flush=True)
        print(flush=True)
    total = time.perf_counter() - start
    ok = len(names) - len(failed)
    tail = f"; failed: {', '.join(failed)}" if failed else ""
    print(f"demo ({args.module}): {ok}/{len(names)} tutorial programs ran in {total:.1f} s{tail}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
