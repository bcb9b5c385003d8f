"""The default corpus of `ember train char-lstm`: English prose that every Python installation carries.

No data set is downloaded and nothing needs installing: the text is the prose of Python's own documentation as the
standard library ships it -- the Language Reference topics behind `help()` (pydoc_data/topics.py) followed by the
docstrings of the standard-library modules, classes and functions (read from the source files with `ast`, nothing
imported). Both are under the PSF licence, which allows this use. Code samples, grammar rules and tables
(indented blocks, lines of `>>>`) are left out, and each paragraph is reflowed onto one line.

It is ~1.4 MB of English (the exact text depends on the Python version). Building it takes some seconds, so it
is cached in $EMBER_DATA/text (default ./data/text) as a UTF-8 file.
"""
import ast
import os
import sys
import sysconfig

_SKIP_DIRS = {"test", "tests", "idlelib", "site-packages", "dist-packages", "lib2to3", "__pycache__", "turtledemo",
              "ensurepip", "pydoc_data", "venv"}
_MIN_DOCSTRING = 100   # shorter docstrings are mostly one-line summaries
_RECIPE = 1            # bump when the selection changes: the cache file's name carries it


def default_corpus_path(data_dir=None):
    data_dir = data_dir or os.environ.get("EMBER_DATA", "data")
    version = "{}.{}".format(*sys.version_info[:2])
    return os.path.join(data_dir, "text", f"python{version}-docs-{_RECIPE}.txt")


def default_corpus(data_dir=None):
    """The default corpus as a string (built on first use, then read from the cache)."""
    path = default_corpus_path(data_dir)
    if os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            return f.read()
    text = build_corpus()
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = path + ".part"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)   # never a half-written cache
    return text


def _prose(text):
    """The paragraphs of reST-ish text that read as prose, each on one line."""
    out = []
    for para in text.replace("\r\n", "\n").split("\n\n"):
        lines = [line for line in para.split("\n") if line.strip() and not line.lstrip().startswith((">>>", "... "))]
        if not lines:
            continue
        first = lines[0]
        if first.startswith("   ") or first.lstrip().startswith((">>>", "...", "|", "+--", "===", "---", "***")):
            continue
        if any(set(line.strip()) <= set("*=-~^") for line in lines):   # headings and their underlines
            lines = [line for line in lines if not set(line.strip()) <= set("*=-~^")]
            if len(lines) < 1 or len(" ".join(lines)) < 60:
                continue
        joined = " ".join(line.strip() for line in lines)
        letters = sum(c.isalpha() or c == " " for c in joined)
        if len(joined) < 40 or letters < 0.85 * len(joined) or "::=" in joined or ">>>" in joined:
            continue
        out.append(joined)
    return out


def _docstrings(root):
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in _SKIP_DIRS)
        for name in sorted(filenames):
            if not name.endswith(".py"):
                continue
            try:
                with open(os.path.join(dirpath, name), encoding="utf-8") as f:
                    tree = ast.parse(f.read())
            except (SyntaxError, UnicodeDecodeError, ValueError, OSError):
                continue
            for node in ast.walk(tree):
                if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
                    doc = ast.get_docstring(node)
                    if doc and len(doc) >= _MIN_DOCSTRING:
                        yield doc


def build_corpus():
    from pydoc_data.topics import topics
    paragraphs = []
    for key in sorted(topics):
        paragraphs += _prose(topics[key])
    for doc in _docstrings(sysconfig.get_paths()["stdlib"]):
        paragraphs += _prose(doc)
    return "\n".join(paragraphs) + "\n"
