"""`ember train mnist-cnn`: the zoo's best-MNIST model and its default recipe (README: "The best MNIST model in
10 minutes"), the --holdout split used to tune it without the test set, and the recipe's pieces in the
trainer (per-image affine augmentation, one-cycle schedule stepped per batch, label smoothing)."""
import json
import numpy as np
import pytest

import ember
from ember import cli
from ember.vision.models import _tutorials as zoo

from tests.cli.test_cli import DATA, run, weights

TINY = ["--data-dir", DATA, "--quiet", "--threads", "1"]


@pytest.fixture(scope="module", autouse=True)
def mnist():
    from ember.vision.datasets import MNIST
    MNIST(DATA, train=True, download=True)
    MNIST(DATA, train=False, download=True)


def test_the_default_recipe():
    spec = zoo.MODELS["mnist-cnn"]
    assert (spec.input_size, spec.epochs, spec.batch_size) == ((28, 28), 8, 128)
    assert (spec.optimizer, spec.lr, spec.momentum, spec.weight_decay) == ("sgd", 0.1, 0.9, 5e-4)
    assert (spec.schedule, spec.augment, spec.label_smoothing) == ("onecycle", "affine", 0.1)
    # what `ember train mnist-cnn` makes of it with no options
    args = cli._parser().parse_args(["train", "mnist-cnn"])
    settings = cli._Settings(args, spec)
    assert settings.as_dict(args.seed) == {
        "batch_size": 128, "lr": 0.1, "optimizer": "sgd", "momentum": 0.9, "weight_decay": 5e-4, "seed": 0,
        "input_size": [28, 28], "schedule": "onecycle", "augment": "affine", "label_smoothing": 0.1,
        "holdout": None}
    assert settings.epochs == 8 and settings.eval_set == "test"
    # the options still win over the model's defaults
    args = cli._parser().parse_args(["train", "mnist-cnn", "--augment", "--schedule", "none",
                                     "--label-smoothing", "0"])
    settings = cli._Settings(args, spec)
    assert (settings.augment, settings.schedule, settings.label_smoothing) == ("shift", "none", 0.0)


def test_the_model_forward_shape_and_parameter_count():
    model = zoo.mnist_cnn()
    n = sum(p.numel() for p in model.parameters())
    # conv 5x5 1->32, conv 3x3 32->64, conv 3x3 64->64 (no biases: BatchNorm follows), their BatchNorms,
    # Linear 1024->128 (no bias) + BatchNorm1d, Linear 128->10
    assert n == 800 + 64 + 18432 + 128 + 36864 + 128 + 131072 + 256 + 1290 == 189034
    model.eval()
    assert tuple(model(ember.zeros(3, 1, 28, 28)).shape) == (3, 10)
    assert tuple(zoo.mnist_cnn(num_classes=7, in_channels=3)(ember.zeros(2, 3, 28, 28)).shape) == (2, 7)
    code, stdout, _ = run("models")
    assert code == 0 and "mnist-cnn" in stdout
    code, stdout, _ = run("summary", "mnist-cnn")
    assert code == 0 and "Total params: 189,034" in stdout


def test_a_short_run_on_a_small_subset_learns(tmp_path):
    # 2,500 training images, 2 epochs of the default recipe: held-out accuracy 96.6 % when written
    out = tmp_path / "run"
    code, stdout, _ = run("train", "mnist-cnn", "--limit-train", 3000, "--holdout", 500, "--epochs", 2,
                          "--out", out, *TINY)
    assert code == 0, stdout
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["final_heldout_acc"] >= 0.94
    assert metrics["settings"]["augment"] == "affine" and metrics["settings"]["schedule"] == "onecycle"
    # the one-cycle schedule stepped once per batch and ended at its floor
    ckpt = ember.load(out / "checkpoint.pt")
    assert ckpt["scheduler"]["last_epoch"] == 2 * 20  # 2,500 images in batches of 128: 20 per epoch
    # the last batch trained at the floor, 0.1 / 25 / 1e4; the step after it goes one step past the end of
    # the cosine from the peak (step 11) to the floor (step 39), as PyTorch's OneCycleLR does
    floor = 0.1 / 25 / 1e4
    lr = ckpt["optimizer"]["param_groups"][0]["lr"]
    assert lr == pytest.approx(floor + (0.1 - floor) / 2 * (1 + np.cos(np.pi * 29 / 28)))


def test_holdout_never_reads_the_test_set(tmp_path, monkeypatch):
    splits = []
    dataset = cli._dataset

    def spy(name, train, data_dir, download):
        splits.append(train)
        return dataset(name, train, data_dir, download)
    monkeypatch.setattr(cli, "_dataset", spy)
    out = tmp_path / "run"
    code, stdout, err = run("train", "mlp", "--limit-train", 1200, "--holdout", 200, "--epochs", 1, "--out", out,
                            *TINY)
    assert code == 0, err
    assert splits == [True]  # the training split only
    assert "1000 train / 200 held-out images" in stdout and "held-out acc" in stdout
    assert "held-out accuracy:" in stdout and "test acc" not in stdout
    metrics = json.loads((out / "metrics.json").read_text())
    assert "final_test_acc" not in metrics and 0.5 < metrics["final_heldout_acc"] <= 1.0
    assert metrics["settings"]["holdout"] == 200
    # the held-out images are the training set's last ones: the same accuracy as evaluating them by hand
    from ember.vision.datasets import MNIST
    model, _ = cli._model_from_checkpoint(str(out / "checkpoint.pt"))
    x, y = cli._as_tensors(MNIST(DATA, train=True), "mnist", 1200)
    acc = cli._evaluate(model, cli._loader(x[1000:], y[1000:], 256, False, None, None, False, 0))
    assert acc == metrics["final_heldout_acc"]
    # and without --holdout the test split is read
    splits.clear()
    assert run("train", "mlp", "--limit-train", 300, "--limit-test", 100, "--epochs", 1, "--out",
               tmp_path / "other", *TINY)[0] == 0
    assert splits == [True, False]


def test_holdout_larger_than_the_training_set_is_refused(tmp_path):
    code, _, err = run("train", "mlp", "--limit-train", 300, "--holdout", 300, "--out", tmp_path / "r", *TINY)
    assert code == 2
    assert "argument --holdout: 300 images would leave none of the 300 training images to train on" in err


def test_resume_with_the_per_batch_schedule_reaches_the_same_weights(tmp_path):
    common = ["mnist-cnn", "--limit-train", 640, "--holdout", 128, "--epochs", 2, "--batch-size", 64, *TINY]
    assert run("train", *common, "--out", tmp_path / "straight")[0] == 0
    assert run("train", *common, "--stop-after", 1, "--out", tmp_path / "split")[0] == 0
    assert run("train", *common, "--resume", "--out", tmp_path / "split")[0] == 0
    a, b = weights(tmp_path / "straight" / "checkpoint.pt"), weights(tmp_path / "split" / "checkpoint.pt")
    for k in a:
        np.testing.assert_array_equal(a[k], b[k], err_msg=k)


def test_batch_augmentation_in_the_loader():
    x = ember.from_numpy(np.random.default_rng(0).random((8, 1, 28, 28), dtype=np.float32))
    y = ember.arange(8)
    samples = [(x[i], y[i]) for i in range(8)]

    def batch(kind, seed):
        return cli._BatchTransform(None, kind, ember.Generator().manual_seed(seed))(samples)[0].numpy()
    a, b, c = batch("affine", 1), batch("affine", 1), batch("affine", 2)
    np.testing.assert_array_equal(a, b)                  # the shuffle generator's seed fixes the warps
    assert a.shape == (8, 1, 28, 28) and not np.array_equal(a, c) and not np.allclose(a, x.numpy(), atol=1e-3)
    np.testing.assert_array_equal(batch("none", 1), x.numpy())
    # 'shift' (and --augment given alone, the older flag) moves the whole batch by one shift
    shifted = batch(True, 1)
    assert shifted.shape == (8, 1, 28, 28) and np.array_equal(shifted, batch("shift", 1))


def test_the_default_command_augments_its_training_batches_only():
    args = cli._parser().parse_args(["train", "mnist-cnn", "--limit-train", "256", "--limit-test", "64",
                                     "--data-dir", DATA])
    settings = cli._Settings(args, zoo.MODELS["mnist-cnn"])
    train_loader, test_loader, n_train, n_test = cli._training_data(args, settings, ember.Generator())
    assert (n_train, n_test) == (256, 64)
    assert train_loader.collate_fn.augment == "affine"
    assert getattr(test_loader.collate_fn, "augment", "none") == "none"


def test_label_smoothing_reaches_the_loss():
    torch = pytest.importorskip("torch")
    from ember import nn
    rng = np.random.default_rng(0)
    x = rng.standard_normal((16, 4)).astype(np.float32)
    y = rng.integers(0, 3, 16)
    for smoothing in (0.0, 0.1):
        ember.manual_seed(0)
        model = nn.Linear(4, 3)
        want = torch.nn.functional.cross_entropy(
            torch.from_numpy(x) @ torch.from_numpy(model.weight.detach().numpy()).T
            + torch.from_numpy(model.bias.detach().numpy()), torch.from_numpy(y), label_smoothing=smoothing)
        loader = [(ember.from_numpy(x), ember.from_numpy(y))]
        optimizer = ember.optim.SGD(model.parameters(), lr=0.1)
        record = cli._train_epoch(model, loader, optimizer, "", False, label_smoothing=smoothing)
        assert record["train_loss"] == pytest.approx(float(want), rel=1e-5)
