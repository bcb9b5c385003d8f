"""`ember train char-...`, `ember generate`, `ember eval` on a language-model checkpoint, on a tiny corpus."""
import contextlib
import io
import json
import pathlib

import numpy as np
import pytest

import ember
from ember import cli

TEXT = ("the quick brown fox jumps over the lazy dog. " * 40 + "a stitch in time saves nine. " * 40) * 2
FAST = ["--batch-size", "4", "--quiet", "--lr", "0.01"]


def run(*argv):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = cli.main([str(a) for a in argv])
        except SystemExit as e:
            code = e.code
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    path = tmp_path_factory.mktemp("text") / "tiny.txt"
    path.write_text(TEXT, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def trained(corpus, tmp_path_factory):
    out = tmp_path_factory.mktemp("run") / "lstm"
    code, stdout, stderr = run("train", "char-lstm", "--text", corpus, "--epochs", 2, "--out", out, *FAST)
    assert code == 0, stdout + stderr
    return out, stdout


def test_train_reports_perplexity_baselines_and_samples(trained):
    out, stdout = trained
    assert "baseline held-out perplexity (add-1 smoothing): bigram" in stdout and "trigram" in stdout
    epochs = [line for line in stdout.splitlines() if line.startswith("epoch ")]
    assert len(epochs) == 2 and all("held-out perplexity" in e and "tok/s" in e for e in epochs)
    assert stdout.count("  sample: 'the ") == 2
    metrics = json.loads((out / "metrics.json").read_text())
    ppl = [e["valid_perplexity"] for e in metrics["epochs"]]
    train_ppl = [e["train_perplexity"] for e in metrics["epochs"]]
    assert train_ppl[1] < train_ppl[0] and ppl[1] < 4     # it learns the tiny corpus
    assert (out / "curves.png").read_bytes()[:4] == b"\x89PNG"
    ckpt = ember.load(out / "checkpoint.pt")                 # weights_only=True: plain data only
    assert ckpt["format"] == "ember-lm-1" and ckpt["vocab"]["idx_to_token"][0] == "<unk>"
    assert set(ckpt["vocab"]["idx_to_token"][1:]) == set(TEXT)
    assert "rnn.weight_ih_l0" in ckpt["state_dict"] and "dense.weight" in ckpt["state_dict"]
    assert not list(out.glob("*.part*"))


def test_checkpoint_loads_into_torch(trained):
    torch = pytest.importorskip("torch")
    out, _ = trained
    ckpt = torch.load(out / "checkpoint.pt", weights_only=True)
    V = len(ckpt["vocab"]["idx_to_token"])
    lstm = torch.nn.LSTM(V, 256)
    lstm.load_state_dict({k[4:]: v for k, v in ckpt["state_dict"].items() if k.startswith("rnn.")})


def test_generate_is_reproducible_and_respects_options(trained):
    out, _ = trained
    ck = out / "checkpoint.pt"
    code, a, err = run("generate", ck, "--prefix", "the q", "--length", 30, "--seed", 1)
    assert code == 0, err
    line = a.rstrip("\n")
    assert line.startswith("the q") and len(line) == 35
    assert run("generate", ck, "--prefix", "the q", "--length", 30, "--seed", 1)[1] == a
    # from a fresh state the model needs some context (in training the state runs on from batch to batch)
    prefix = "the quick brown fox jumps over the "
    code, greedy, _ = run("generate", ck, "--prefix", prefix, "--length", 9, "--temperature", 0)
    assert greedy == prefix + "lazy dog.\n"
    code, top1, _ = run("generate", ck, "--prefix", prefix, "--length", 9, "--top-k", 1, "--seed", 7)
    assert top1 == greedy


def test_eval_reports_held_out_perplexity_and_baselines(trained):
    out, _ = trained
    code, stdout, err = run("eval", out / "checkpoint.pt")
    assert code == 0, err
    metrics = json.loads((out / "metrics.json").read_text())
    assert f"perplexity {metrics['final_valid_perplexity']:.2f}" in stdout
    assert "bigram" in stdout and "trigram" in stdout


def test_resume_reaches_the_same_weights(corpus, tmp_path, trained):
    out, _ = trained
    part = tmp_path / "part"
    assert run("train", "char-lstm", "--text", corpus, "--epochs", 2, "--out", part, "--stop-after", 1, *FAST)[0] == 0
    code, stdout, err = run("train", "char-lstm", "--epochs", 2, "--out", part, "--resume", *FAST)
    assert code == 0, err
    assert "resuming char-lstm after epoch 1" in stdout
    a = ember.load(part / "checkpoint.pt")["state_dict"]
    b = ember.load(out / "checkpoint.pt")["state_dict"]
    for k in b:
        np.testing.assert_array_equal(a[k].numpy(), b[k].numpy(), err_msg=k)


def _one_line_error(code, stdout, stderr, *fragments):
    assert code != 0
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    for f in fragments:
        assert f in lines[0], lines[0]


def test_prefix_outside_the_vocabulary(trained):
    out, _ = trained
    code, stdout, stderr = run("generate", out / "checkpoint.pt", "--prefix", "thé☃")
    _one_line_error(code, stdout, stderr, "not in the checkpoint's vocabulary", "'é'", "'☃'")
    assert stdout == ""


@pytest.mark.parametrize("content, message", [(b"", "is empty"), (b"\n \n", "is empty"),
                                              (b"caf\xe9 cr\xe8me " * 100, "not UTF-8 text: byte 0xe9")])
def test_bad_text_files_write_nothing(tmp_path, content, message):
    bad = tmp_path / "bad.txt"
    bad.write_bytes(content)
    out = tmp_path / "out"
    code, stdout, stderr = run("train", "char-lstm", "--text", bad, "--out", out, *FAST)
    _one_line_error(code, stdout, stderr, message, str(bad))
    assert not out.exists()


def test_missing_and_too_short_text(tmp_path):
    code, _, stderr = run("train", "char-rnn", "--text", tmp_path / "nope.txt", "--out", tmp_path / "o", *FAST)
    _one_line_error(code, "", stderr, "no such file")
    short = tmp_path / "short.txt"
    short.write_text("hello world")
    code, _, stderr = run("train", "char-rnn", "--text", short, "--out", tmp_path / "o", *FAST)
    _one_line_error(code, "", stderr, "too few")
    assert not (tmp_path / "o").exists()


def test_generate_rejects_a_vision_checkpoint_and_bad_options(tmp_path, trained):
    ember.save({"format": "ember-checkpoint-1", "model": "lenet"}, tmp_path / "v.pt")
    code, _, stderr = run("generate", tmp_path / "v.pt")
    _one_line_error(code, "", stderr, "not a language-model checkpoint")
    out, _ = trained
    for opt in (["--temperature", "-1"], ["--top-k", "0"], ["--length", "-2"]):
        code, _, stderr = run("generate", out / "checkpoint.pt", *opt)
        _one_line_error(code, "", stderr, opt[0])


def test_models_lists_the_language_models():
    code, stdout, _ = run("models")
    for name in ("char-rnn", "char-gru", "char-lstm", "char-gpt"):
        assert name in stdout
