"""ember.utils.tensorboard.SummaryWriter: event files read back with TensorBoard's own reader, and compared
with what torch.utils.tensorboard writes for the same calls."""
import os

import numpy as np
import pytest
import torch

import ember

pytest.importorskip("tensorboard")
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator  # noqa: E402

from ember.utils.tensorboard import SummaryWriter  # noqa: E402
from torch.utils.tensorboard import SummaryWriter as TorchWriter  # noqa: E402

SIZE = {"scalars": 0, "histograms": 0, "images": 0, "tensors": 0, "graph": 0}


def read(path):
    acc = EventAccumulator(str(path), size_guidance=SIZE)
    acc.Reload()
    return acc


def log_everything(lib, writer):
    rng = np.random.default_rng(0)
    for step in range(3):
        writer.add_scalar("Loss/train", 1.0 / (step + 1), step, walltime=100.0 + step)
        writer.add_scalar("acc", lib.tensor(0.25 * step), global_step=step, walltime=100.0 + step)
    writer.add_scalars("lr", {"a": 0.1, "b": 0.01}, 4, walltime=104.0)
    values = rng.standard_normal(1000)
    writer.add_histogram("weights", lib.tensor(values), 5, walltime=105.0)
    writer.add_histogram("auto", values, 5, bins="auto", walltime=105.0)
    writer.add_histogram("few", values, 5, bins=50, max_bins=8, walltime=105.0)
    image = rng.random((3, 8, 12)).astype(np.float32)
    writer.add_image("rgb", lib.tensor(image), 6, walltime=106.0)
    writer.add_image("gray", (image[:1] * 255).astype(np.uint8), 6, walltime=106.0)
    writer.add_image("hwc", image.transpose(1, 2, 0), 6, walltime=106.0, dataformats="HWC")
    writer.add_images("batch", lib.tensor(rng.random((3, 1, 4, 4)).astype(np.float32)), 6, walltime=106.0)
    writer.add_text("notes", "hello **world**", 7, walltime=107.0)
    writer.flush()
    writer.close()


@pytest.fixture(scope="module")
def both(tmp_path_factory):
    root = tmp_path_factory.mktemp("tb")
    log_everything(ember, SummaryWriter(root / "ember"))
    log_everything(torch, TorchWriter(str(root / "torch")))
    return root


def test_scalars_read_back(both):
    acc = read(both / "ember")
    assert [(e.step, e.wall_time, e.value) for e in acc.Scalars("Loss/train")] == [
        (0, 100.0, 1.0), (1, 101.0, 0.5), (2, 102.0, pytest.approx(1 / 3))]
    assert [e.value for e in acc.Scalars("acc")] == [0.0, 0.25, 0.5]


def test_everything_equals_torchs_files(both):
    ours, theirs = read(both / "ember"), read(both / "torch")
    assert ours.Tags()["scalars"] == theirs.Tags()["scalars"]
    for tag in ours.Tags()["scalars"]:
        assert ours.Scalars(tag) == theirs.Scalars(tag)
    assert sorted(ours.Tags()["histograms"]) == ["auto", "few", "weights"]
    for tag in ours.Tags()["histograms"]:
        assert ours.Histograms(tag) == theirs.Histograms(tag), tag
    assert sorted(ours.Tags()["images"]) == sorted(theirs.Tags()["images"])
    for tag in ours.Tags()["images"]:
        assert ours.Images(tag) == theirs.Images(tag), tag       # same PNG bytes, sizes, steps
    assert ours.Tags()["tensors"] == theirs.Tags()["tensors"] == ["notes/text_summary"]
    ours_text, theirs_text = ours.Tensors("notes/text_summary")[0], theirs.Tensors("notes/text_summary")[0]
    assert ours_text.tensor_proto.string_val == [b"hello **world**"] == theirs_text.tensor_proto.string_val
    assert ours.SummaryMetadata("notes/text_summary") == theirs.SummaryMetadata("notes/text_summary")


def test_add_scalars_writes_one_run_per_key(both):
    runs = sorted(d for d in os.listdir(both / "ember") if os.path.isdir(both / "ember" / d))
    assert runs == sorted(d for d in os.listdir(both / "torch") if os.path.isdir(both / "torch" / d)) == [
        "lr_a", "lr_b"]
    assert [e.value for e in read(both / "ember" / "lr_a").Scalars("lr")] == [pytest.approx(0.1)]


def test_histogram_values(both):
    h = read(both / "ember").Histograms("weights")[0].histogram_value
    values = np.random.default_rng(0).standard_normal(1000)
    assert (h.min, h.max, h.num) == (values.min(), values.max(), 1000)
    assert h.sum == pytest.approx(values.sum()) and h.sum_squares == pytest.approx(values @ values)
    assert sum(h.bucket) == 1000 and len(h.bucket) == len(h.bucket_limit)


def test_default_log_dir_comment_and_purge(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    w = SummaryWriter(comment="_lr0.1")
    assert w.get_logdir().startswith("runs" + os.sep) and w.get_logdir().endswith("_lr0.1")
    w.close()
    with SummaryWriter(tmp_path / "p", purge_step=5) as w:
        w.add_scalar("x", 1.0, 5)
    assert [e.step for e in read(tmp_path / "p").Scalars("x")] == [5]
    files = os.listdir(tmp_path / "p")
    assert len(files) == 1 and files[0].startswith("events.out.tfevents.")


def test_add_graph(tmp_path):
    model = ember.nn.Sequential(ember.nn.Conv2d(1, 2, 3), ember.nn.ReLU(), ember.nn.Flatten(),
                                ember.nn.Linear(2 * 4 * 4, 3))
    with SummaryWriter(tmp_path) as w:
        w.add_graph(model, ember.randn(2, 1, 6, 6))
    g = read(tmp_path).Graph()
    ops = [n.op for n in g.node]
    assert ops.count("IO Node") == 1 and {"Convolution", "Relu", "Linear"} <= set(ops)
    names = {n.name for n in g.node}
    assert "Sequential/0.weight" in names and "Sequential/3.bias" in names
    linear = next(n for n in g.node if n.op == "Linear")
    assert len(linear.input) == 3 and all(i in names for i in linear.input)
    assert [d.size for d in linear.attr["_output_shapes"].list.shape[0].dim] == [2, 3]


def test_bad_scalar():
    with pytest.raises(AssertionError, match="Tensor should contain one element"):
        from ember.utils.tensorboard.summary import scalar
        scalar("x", ember.ones(2))
