"""Argument types for the `ember` command line, for argparse's ``type=``.

Each helper turns one command-line string into a value or refuses it with argparse's own one-line
message, e.g. ``ember train: error: argument --lr: must be a finite number >= 0, got 'nan'``, before any
work starts. Commands added later reuse them::

    p.add_argument("--epochs", type=positive_int)
    p.add_argument("--lr", type=non_negative_float)
    p.add_argument("--text", type=readable_file)
    p.add_argument("--out", type=output_dir)
"""
import argparse
import math
import os

__all__ = ["OneLineParser", "int_range", "positive_int", "non_negative_int", "seed", "float_range",
           "positive_float", "non_negative_float", "output_dir", "readable_file"]


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a bad argument is reported in one line (no usage block): the line names the
    command and the argument, as argparse's does (`ember train: error: argument --epochs: ...`)."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message}\n")


def _named(fn, name):
    fn.__name__ = name  # argparse names the type in "invalid <name> value: 'x'"
    return fn


def int_range(minimum=None, maximum=None, name="int"):
    """An int within [minimum, maximum] (either bound may be None)."""
    def parse(text):
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"invalid int value: {text!r}") from None
        if minimum is not None and value < minimum or maximum is not None and value > maximum:
            if maximum is None:
                bound = f">= {minimum}"
            elif minimum is None:
                bound = f"<= {maximum}"
            else:
                bound = f"between {minimum} and {maximum}"
            raise argparse.ArgumentTypeError(f"must be an integer {bound}, got {text!r}")
        return value
    return _named(parse, name)


def float_range(minimum=None, maximum=None, *, exclusive_minimum=False, name="float"):
    """A finite float within [minimum, maximum] (or (minimum, maximum] with exclusive_minimum)."""
    def parse(text):
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"invalid float value: {text!r}") from None
        low_ok = minimum is None or (value > minimum if exclusive_minimum else value >= minimum)
        if not math.isfinite(value) or not low_ok or maximum is not None and value > maximum:
            parts = []
            if minimum is not None:
                parts.append(f"{'>' if exclusive_minimum else '>='} {minimum:g}")
            if maximum is not None:
                parts.append(f"<= {maximum:g}")
            raise argparse.ArgumentTypeError(f"must be a finite number{' ' if parts else ''}{' and '.join(parts)}, "
                                             f"got {text!r}")
        return value
    return _named(parse, name)


positive_int = int_range(1, name="positive_int")
non_negative_int = int_range(0, name="non_negative_int")
seed = int_range(0, 2**32 - 1, name="seed")  # NumPy's seeds are 32-bit unsigned
positive_float = float_range(0.0, exclusive_minimum=True, name="positive_float")
non_negative_float = float_range(0.0, name="non_negative_float")


def output_dir(text):
    """A folder that exists or can be created: every existing part of the path must be a folder, and the
    deepest existing one writable. (Checked without creating anything.)"""
    path = os.path.abspath(text)
    probe = path
    while not os.path.exists(probe):
        parent = os.path.dirname(probe)
        if parent == probe:
            break
        probe = parent
    if not os.path.isdir(probe):
        raise argparse.ArgumentTypeError(f"{text!r} cannot be a folder: {probe} is a file")
    if not os.access(probe, os.W_OK | os.X_OK):
        raise argparse.ArgumentTypeError(f"cannot write to {probe!r} (permission denied)")
    return text


def readable_file(text):
    """An existing, readable regular file."""
    if not os.path.exists(text):
        raise argparse.ArgumentTypeError(f"no such file: {text!r}")
    if not os.path.isfile(text):
        raise argparse.ArgumentTypeError(f"{text!r} is not a regular file")
    if not os.access(text, os.R_OK):
        raise argparse.ArgumentTypeError(f"cannot read {text!r} (permission denied)")
    return text
