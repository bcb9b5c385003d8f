"""Bad invocations of `ember` exit non-zero with one line naming the argument, before any work (issue 8)."""
import contextlib
import io
import os
import pathlib
import struct
import subprocess
import sys
import traceback
import zlib

import pytest

import ember
from ember import cli


def run(*argv):
    """(exit status, stdout, stderr); an exception escaping main() shows up as a traceback in stderr."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = cli.main([str(a) for a in argv])
        except SystemExit as e:
            code = e.code
        except BaseException:
            traceback.print_exc()
            code = "traceback"
    return code, out.getvalue(), err.getvalue()


def assert_refused(code, stderr, *words):
    assert code == 2, (code, stderr)
    assert "Traceback" not in stderr
    lines = stderr.splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("ember ") and ": error: " in lines[0], lines[0]
    for w in words:
        assert w in lines[0], (w, lines[0])


TRAIN_CASES = {
    "epochs -1": (["--epochs", "-1"], ["argument --epochs", "'-1'"]),
    "batch-size 0": (["--batch-size", "0"], ["argument --batch-size", ">= 1"]),
    "batch-size -5": (["--batch-size", "-5"], ["argument --batch-size", "'-5'"]),
    "lr nan": (["--lr", "nan"], ["argument --lr", "finite", "'nan'"]),
    "lr -1": (["--lr", "-1"], ["argument --lr", ">= 0"]),
    "momentum -1": (["--momentum", "-1"], ["argument --momentum", ">= 0"]),
    "workers -1": (["--workers", "-1"], ["argument --workers", ">= 0"]),
    "seed -1": (["--seed", "-1"], ["argument --seed", "between 0 and 4294967295"]),
    "threads -2": (["--threads", "-2"], ["argument --threads", ">= 1"]),
    "resize 0 0": (["--resize", "0", "0"], ["argument --resize", ">= 1", "'0'"]),
    "resize 2 2": (["--resize", "2", "2"], ["argument --resize", "lenet cannot take 2x2 images",
                                            "needs inputs of at least 28x28"]),
}


@pytest.mark.parametrize("case", list(TRAIN_CASES))
def test_train_refuses(tmp_path, case):
    argv, words = TRAIN_CASES[case]
    out = tmp_path / "out"
    code, stdout, stderr = run("train", "lenet", *argv, "--out", out, "--data-dir", tmp_path / "no-data",
                               "--no-download", "--quiet")
    assert_refused(code, stderr, *words)
    assert stdout == "" and not out.exists()  # nothing started


def test_train_out_below_a_regular_file(tmp_path):
    (tmp_path / "notes.txt").write_text("a file")
    code, stdout, stderr = run("train", "mlp", "--out", tmp_path / "notes.txt" / "run", "--data-dir",
                               tmp_path / "no-data", "--no-download", "--quiet")
    assert_refused(code, stderr, "argument --out", "notes.txt", "is a file")
    assert stdout == ""


def test_train_empty_data_dir_without_download(tmp_path):
    out = tmp_path / "out"
    code, stdout, stderr = run("train", "mlp", "--data-dir", tmp_path / "empty", "--no-download", "--out", out,
                               "--quiet")
    assert_refused(code, stderr, "MNIST not found in", "empty", "--no-download was given")
    assert not out.exists()


def test_train_empty_data_dir_when_the_download_fails(tmp_path, monkeypatch):
    """No network: the message says the download failed, and does not advise dropping a --no-download
    that was never given."""
    from ember.vision import datasets

    def offline(self):
        raise RuntimeError("Error downloading MNIST: 4 of 4 files could not be fetched.\n    tried ...")
    monkeypatch.setattr(datasets.MNIST, "download", offline)
    out = tmp_path / "out"
    code, _, stderr = run("train", "mlp", "--data-dir", tmp_path / "empty", "--out", out, "--quiet")
    assert_refused(code, stderr, "could not be downloaded", "4 of 4 files could not be fetched", "empty")
    assert "--no-download" not in stderr and not out.exists()


def test_summary_refuses_sizes_the_model_cannot_take():
    code, _, stderr = run("summary", "lenet", "--resize", 2, 2)
    assert_refused(code, stderr, "argument --resize", "lenet cannot take 2x2", "28x28")
    code, _, stderr = run("summary", "lenet", "--resize", -4, -4)
    assert_refused(code, stderr, "argument --resize", "'-4'")
    code, stdout, _ = run("summary", "resnet18", "--resize", 64, 64)  # an adaptive pool takes other sizes
    assert code == 0 and "Total params" in stdout


def test_input_size_message_says_which_sizes_work():
    from ember.vision.models import MODELS
    with pytest.raises(cli.CliError, match=r"mlp cannot take 30x30 images: it needs inputs of at most 28x28"):
        cli._check_input_size("mlp", MODELS["mlp"], (30, 30))
    with pytest.raises(cli.CliError, match=r"lenet cannot take 40x33 images: it needs inputs of at most 31x31"):
        cli._check_input_size("lenet", MODELS["lenet"], (40, 33))
    with pytest.raises(cli.CliError, match=r"densenet cannot take 5x5 images: it needs inputs of at least 29x29 "
                                           r"\(default 96x96\)"):
        cli._check_input_size("densenet", MODELS["densenet"], (5, 5))
    cli._check_input_size("lenet", MODELS["lenet"], (31, 30))  # a size that works passes


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    from ember.vision.models import MODELS
    path = tmp_path_factory.mktemp("ck") / "checkpoint.pt"
    model = MODELS["mlp"].build(num_classes=10, in_channels=1)
    ember.save({"format": "ember-checkpoint-1", "model": "mlp", "dataset": "mnist", "input_size": [28, 28],
                "epoch": 1, "state_dict": model.state_dict()}, path)
    return path


def test_predict_topk_negative(checkpoint, tmp_path):
    code, _, stderr = run("predict", checkpoint, tmp_path / "x.png", "--topk", -1)
    assert_refused(code, stderr, "argument --topk", "'-1'")


def png_declaring(width, height):
    """A PNG whose header declares width x height 8-bit grey pixels, with a few bytes of image data."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b""))


@pytest.mark.parametrize("side", [30000, 12000])  # beyond Pillow's error threshold, and between warning and error
def test_predict_refuses_a_decompression_bomb(checkpoint, tmp_path, side):
    bomb = tmp_path / "bomb.png"
    bomb.write_bytes(png_declaring(side, side))
    assert bomb.stat().st_size < 200
    code, stdout, stderr = run("predict", checkpoint, bomb)
    assert_refused(code, stderr, "argument images", "bomb.png", "decompression bomb")
    assert stdout == ""


def test_one_line_for_real(tmp_path):
    """The same through a real process: exit status 2, one stderr line, no traceback."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    proc = subprocess.run([sys.executable, "-m", "ember.cli", "train", "lenet", "--lr", "nan"], capture_output=True,
                          text=True, env=env, cwd=tmp_path, timeout=120)
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.splitlines() == ["ember train: error: argument --lr: must be a finite number >= 0, got 'nan'"]


def test_arg_types_are_reusable():
    import argparse
    from ember import _cli_args as types
    p = types.OneLineParser(prog="ember x")
    p.add_argument("--n", type=types.positive_int)
    p.add_argument("--f", type=types.readable_file)
    assert p.parse_args(["--n", "3"]).n == 3
    for argv in (["--n", "0"], ["--n", "x"], ["--f", "/nonexistent/file"], ["--f", "/"]):
        with pytest.raises(SystemExit), contextlib.redirect_stderr(io.StringIO()) as err:
            p.parse_args(argv)
        assert len(err.getvalue().splitlines()) == 1 and "argument --" in err.getvalue()
    with pytest.raises(argparse.ArgumentTypeError, match="finite"):
        types.float_range(0.0, 1.0)("inf")
    with pytest.raises(argparse.ArgumentTypeError, match="<= 1"):
        types.float_range(0.0, 1.0)("1.5")
