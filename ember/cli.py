"""The `ember` command: train the tutorials' networks on MNIST / Fashion-MNIST and use the result.

    ember train lenet --dataset mnist          progress bars, per-epoch lines, checkpoint, curves
    ember eval runs/lenet-mnist/checkpoint.pt  test accuracy of a checkpoint
    ember predict CHECKPOINT digit.png ...     top-k classes with probabilities
    ember summary lenet                        layer output shapes and parameter counts
    ember models                               the networks there are
"""
import argparse
import json
import os
import sys
import time
import warnings

import numpy as np

from ember._cli_args import (OneLineParser, non_negative_float, non_negative_int, output_dir, positive_float,
                             positive_int, readable_file, seed)

DATASETS = {
    # name: (dataset class name, normalisation mean, std)
    "mnist": ("MNIST", 0.1307, 0.3081),
    "fashion-mnist": ("FashionMNIST", 0.2860, 0.3530),
}
CHECKPOINT = "checkpoint.pt"


class CliError(Exception):
    """A user-facing error: printed without a traceback, exit status 2."""


# -- data ----------------------------------------------------------------------------------

def _dataset(name, train, data_dir, download):
    """One split of a dataset; a missing dataset is one line saying where it was looked for and why it
    was not fetched (--no-download given, or the download failed)."""
    from ember.vision import datasets
    cls_name = DATASETS[name][0]
    cls = getattr(datasets, cls_name)
    raw = os.path.join(os.path.abspath(data_dir), cls_name, "raw")
    try:
        return cls(data_dir, train=train, download=download)
    except RuntimeError as e:
        if not download:
            raise CliError(f"{cls_name} not found in {raw}, and --no-download was given so nothing was fetched: "
                           "run without --no-download to fetch it, or put its files there") from None
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise CliError(f"{cls_name} is not in {raw} and could not be downloaded ({first}); put its files there "
                       f"by hand (names and MD5s: ember.vision.datasets.{cls_name}.resources)") from None


def _as_tensors(ds, dataset_name, limit=None):
    """The whole split as normalised float32 tensors N×1×28×28: no per-image work in the epoch loop."""
    import ember
    _, mean, std = DATASETS[dataset_name]
    images = ds.data._data if limit is None else ds.data._data[:limit]
    labels = ds.targets._data if limit is None else ds.targets._data[:limit]
    x = (images.astype(np.float32) / 255.0 - mean) / std
    return ember.from_numpy(x[:, None]), ember.from_numpy(labels.astype(np.int64))


def _loader(x, y, batch_size, shuffle, generator, resize, augment, workers, sampler=None):
    """Batches of (images, labels). Images are resized / augmented per batch when asked."""
    from ember.utils.data import DataLoader, TensorDataset
    ds = TensorDataset(x, y)
    collate = None
    if resize or augment not in (None, False, "none"):
        collate = _BatchTransform(resize, augment, generator)
    return DataLoader(ds, batch_size=batch_size, shuffle=shuffle and sampler is None, sampler=sampler,
                      generator=generator, num_workers=workers, collate_fn=collate)


class _BatchTransform:
    """Resize (bilinear, as transforms.Resize on tensors) and light augmentation, a whole batch at a time:
    'shift' moves the whole batch by one random shift of up to 2 pixels, 'affine' gives each image its own
    rotation (±10°), scale (0.9-1.1) and shift (±2 pixels)."""

    def __init__(self, size, augment, generator):
        self.size, self.generator = size, generator
        self.augment = "shift" if augment is True else (augment or "none")

    def __call__(self, samples):
        import ember
        from ember.nn import functional as F
        x = ember.stack([s[0] for s in samples])
        y = ember.stack([s[1] for s in samples])
        if self.augment == "affine":
            from ember.vision._batch_affine import random_affine_batch
            rng = np.random.default_rng(int(ember.randint(0, 2**31 - 1, (1,), generator=self.generator)))
            a = x._data
            x = ember.from_numpy(random_affine_batch(a, rng, fill=float(a.min())))
        elif self.augment == "shift":
            # random shifts of up to 2 pixels, as RandomAffine(translate) would do on MNIST
            pad = F.pad(x, (2, 2, 2, 2), value=float(x.min()))
            rng = np.random.default_rng(int(ember.randint(0, 2**31 - 1, (1,), generator=self.generator)))
            dx, dy = rng.integers(0, 5, size=2)
            x = pad[:, :, dy:dy + x.shape[2], dx:dx + x.shape[3]]
        if self.size and tuple(x.shape[2:]) != tuple(self.size):
            x = _resize(x, self.size)
        return x, y


def _resize(x, size):
    """Bilinear resize of N×C×H×W (align_corners=False), done as two small matrix products."""
    import ember
    a = x._data
    h, w = a.shape[2:]
    oh, ow = size

    def weights(n_in, n_out):
        scale = n_in / n_out
        src = np.clip((np.arange(n_out) + 0.5) * scale - 0.5, 0, n_in - 1)
        lo = np.floor(src).astype(int)
        hi = np.minimum(lo + 1, n_in - 1)
        frac = (src - lo).astype(np.float32)
        m = np.zeros((n_out, n_in), np.float32)
        m[np.arange(n_out), lo] += 1 - frac
        m[np.arange(n_out), hi] += frac
        return m

    out = weights(h, oh) @ a @ weights(w, ow).T
    return ember.from_numpy(np.ascontiguousarray(out, dtype=np.float32))


# -- training ------------------------------------------------------------------------------

def _build(spec):
    from ember import nn
    model = spec.build(num_classes=10, in_channels=1)
    if spec.init == "xavier":
        def init(m):
            if isinstance(m, (nn.Linear, nn.Conv2d)):
                nn.init.xavier_uniform_(m.weight)
        model.apply(init)
    return model


def _optimizer(model, name, lr, momentum, weight_decay):
    from ember import optim
    if name == "sgd":
        return optim.SGD(model.parameters(), lr=lr, momentum=momentum, weight_decay=weight_decay)
    return optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)


def _evaluate(model, loader):
    import ember
    model.eval()
    correct = total = 0
    with ember.no_grad():
        for x, y in loader:
            correct += int((model(x).argmax(1) == y).sum())
            total += y.shape[0]
    return correct / max(total, 1)


def _progress_wanted(quiet):
    """Progress bars only on a terminal: in a log (stdout or stderr redirected) they would write a line
    per batch, so only the per-epoch lines are printed there (as tqdm's disable=None decides)."""
    def tty(stream):
        isatty = getattr(stream, "isatty", None)
        return bool(isatty and isatty())
    return not quiet and tty(sys.stdout) and tty(sys.stderr)


def _progress(iterable, total, desc, enabled):
    if not enabled:
        return iterable
    try:
        from tqdm import tqdm
    except ImportError:
        return iterable
    return tqdm(iterable, total=total, desc=desc, unit="batch", leave=False, dynamic_ncols=True)


def _write_json(path, obj):
    from ember.serialization import _atomic_output  # as checkpoints: no half-written file, no litter
    with _atomic_output(path) as f:
        f.write(json.dumps(obj, indent=2).encode("utf-8"))


def _plot(path, history):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    epochs = [h["epoch"] for h in history]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4))
    ax1.plot(epochs, [h["train_loss"] for h in history], "o-", label="train loss")
    ax1.set_xlabel("epoch")
    ax1.set_ylabel("loss")
    ax1.legend()
    ax2.plot(epochs, [h["train_acc"] for h in history], "o-", label="train accuracy")
    key = "heldout_acc" if "heldout_acc" in history[-1] else "test_acc"
    ax2.plot(epochs, [h[key] for h in history], "s-", label=key.replace("heldout", "held-out").replace("_acc", "")
             + " accuracy")
    ax2.set_xlabel("epoch")
    ax2.set_ylabel("accuracy")
    ax2.legend()
    from matplotlib.ticker import MaxNLocator
    for ax in (ax1, ax2):
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
    fig.tight_layout()
    from ember.serialization import _atomic_output
    with _atomic_output(path) as f:
        fig.savefig(f, dpi=100, format="png")
    plt.close(fig)
    return True


class _Settings:
    """The training recipe: the command line's values over the model's defaults."""

    def __init__(self, args, spec):
        def pick(value, default):
            return default if value is None else value
        self.epochs = pick(args.epochs, spec.epochs)
        self.batch_size = pick(args.batch_size, spec.batch_size)
        self.lr = pick(args.lr, spec.lr)
        self.optimizer = args.optimizer or spec.optimizer
        self.momentum = pick(args.momentum, spec.momentum)
        self.weight_decay = pick(args.weight_decay, spec.weight_decay)
        self.schedule = args.schedule or spec.schedule
        self.augment = args.augment or spec.augment
        self.label_smoothing = pick(args.label_smoothing, spec.label_smoothing)
        self.holdout = args.holdout
        self.eval_set = "held-out" if self.holdout else "test"
        self.eval_key = "heldout_acc" if self.holdout else "test_acc"
        self.size = tuple(args.resize) if args.resize else spec.input_size
        self.resize = None if self.size == (28, 28) else self.size
        self.out = args.out or os.path.join("runs", f"{args.model}-{args.dataset}")
        self.checkpoint = os.path.join(self.out, CHECKPOINT)

    def as_dict(self, seed):
        return {"batch_size": self.batch_size, "lr": self.lr, "optimizer": self.optimizer, "momentum": self.momentum,
                "weight_decay": self.weight_decay, "seed": seed, "input_size": list(self.size),
                "schedule": self.schedule, "augment": self.augment, "label_smoothing": self.label_smoothing,
                "holdout": self.holdout}


def cmd_train(args):
    if args.model in _lm_models():  # language models train on text: ember/text/train.py
        from ember.text.train import cmd_train_lm
        return cmd_train_lm(args)
    from ember.vision.models._tutorials import MODELS
    spec = MODELS[args.model]
    settings = _Settings(args, spec)
    _check_input_size(args.model, spec, settings.size)  # all checks before any work
    if args.nproc > 1 and settings.batch_size % args.nproc:
        raise CliError(f"argument --nproc: the batch size ({settings.batch_size}) must be a multiple of the "
                       f"process count ({args.nproc})")
    if args.nproc > 1 and not _RankRun.inside_launch():
        return _RankRun.launch(args)
    ranks = _RankRun(args.seed, args.threads) if args.nproc > 1 else None
    _set_threads(args.threads)
    model, optimizer, scheduler, shuffle_gen = _training_state(args.seed, spec, settings)
    train_loader, test_loader, n_train, n_test = _training_data(args, settings, shuffle_gen, ranks)
    batch_scheduler = None
    if settings.schedule == "onecycle":  # needs the batches per epoch: stepped after every batch
        from ember.optim.lr_scheduler import OneCycleLR
        scheduler = batch_scheduler = OneCycleLR(optimizer, max_lr=settings.lr, epochs=settings.epochs,
                                                 steps_per_epoch=len(train_loader))
    history, start_epoch = [], 0
    if args.resume:
        history, start_epoch = _resume(args, settings, model, optimizer, scheduler, shuffle_gen)
    if ranks is None or ranks.rank == 0:
        os.makedirs(settings.out, exist_ok=True)
    print(f"training {args.model} on {args.dataset}: {n_train} train / {n_test} {settings.eval_set} images of "
          f"{settings.size[0]}x{settings.size[1]}, {settings.optimizer} lr={settings.lr} batch={settings.batch_size}, "
          f"{settings.epochs} epochs -> {settings.out}" + (f" ({args.nproc} processes)" if ranks else ""))

    show_progress = _progress_wanted(args.quiet) and (ranks is None or ranks.rank == 0)
    trained = model if ranks is None else ranks.wrap(model)
    for epoch in range(start_epoch + 1, settings.epochs + 1):
        if ranks is not None:
            ranks.sampler.set_epoch(epoch)
        record = _train_epoch(trained, train_loader, optimizer, f"epoch {epoch}/{settings.epochs}", show_progress,
                              batch_scheduler, settings.label_smoothing)
        if ranks is not None:
            record = ranks.combine(record)
        if scheduler is not None and batch_scheduler is None:
            scheduler.step()
        record[settings.eval_key] = _evaluate(model, test_loader)
        record["time_s"] = round(time.perf_counter() - record.pop("started"), 3)
        record = {"epoch": epoch, **record}
        history.append(record)
        print(f"epoch {epoch:3d}/{settings.epochs}  train loss {record['train_loss']:.4f}  train acc "
              f"{record['train_acc']:.2%}  {settings.eval_set} acc {record[settings.eval_key]:.2%}  {record['time_s']:.1f}s "
              f"({record['images_per_s']:.0f} img/s)", flush=True)
        if ranks is None or ranks.rank == 0:
            _save_epoch(args, settings, epoch, model, optimizer, scheduler, shuffle_gen, history)
        if args.stop_after is not None and epoch >= args.stop_after:
            print(f"stopping after epoch {epoch} as asked; continue with --resume")
            return 0

    final = history[-1][settings.eval_key]
    total = sum(h["time_s"] for h in history)
    print(f"{settings.eval_set} accuracy: {final:.2%}  ({len(history)} epochs, {total:.0f}s training; checkpoint "
          f"{settings.checkpoint})")
    return 0


class _RankRun:
    """`ember train --nproc N`: the command starts N copies of itself under ember.distributed.run; in each,
    the model trains under DistributedDataParallel on its share of every batch (the global batch stays
    --batch-size), and rank 0 alone prints and writes the checkpoint, metrics and curves."""

    @staticmethod
    def inside_launch():
        return "OMPI_COMM_WORLD_SIZE" in os.environ

    @staticmethod
    def launch(args):
        import subprocess
        cmd = [sys.executable, "-m", "ember.distributed.run", "--nproc-per-node", str(args.nproc),
               "-m", "ember.cli", *args.argv]
        return subprocess.call(cmd)

    def __init__(self, seed, threads):
        import ember.distributed as dist
        from ember.utils.data.distributed import DistributedSampler
        dist.init_process_group("mpi")
        self.dist, self.rank, self.world = dist, dist.get_rank(), dist.get_world_size()
        self.seed, self.sampler_class = seed, DistributedSampler
        self.sampler = None
        if self.rank:
            sys.stdout = open(os.devnull, "w")
        if threads is None:  # as torchrun: one thread per process unless told otherwise
            import ember
            ember.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))

    def make_sampler(self, n):
        self.sampler = self.sampler_class(range(n), num_replicas=self.world, rank=self.rank, shuffle=True,
                                          seed=self.seed)
        return self.sampler

    def wrap(self, model):
        from ember.nn.parallel import DistributedDataParallel
        return DistributedDataParallel(model)

    def combine(self, record):
        """Every rank saw as many images: the epoch's loss and accuracy are the ranks' means."""
        import ember
        means = ember.tensor([record["train_loss"], record["train_acc"]], dtype=ember.float64)
        self.dist.all_reduce(means, op=self.dist.ReduceOp.AVG)
        rate = ember.tensor([record["images_per_s"]], dtype=ember.float64)
        self.dist.all_reduce(rate)
        return dict(record, train_loss=means[0].item(), train_acc=means[1].item(),
                    images_per_s=round(rate.item(), 1))


def _set_threads(threads):
    if threads is not None:
        import ember
        ember.set_num_threads(threads)


def _training_data(args, settings, shuffle_gen, ranks=None):
    """Train and test loaders; a missing dataset stops here, before any training. With several
    processes each rank's train loader takes its share of every batch."""
    train_ds = _dataset(args.dataset, True, args.data_dir, not args.no_download)
    xtr, ytr = _as_tensors(train_ds, args.dataset, args.limit_train)
    if settings.holdout:  # tuning: the last images of the training set stand in for the test set, never read
        if settings.holdout >= len(xtr):
            raise CliError(f"argument --holdout: {settings.holdout} images would leave none of the {len(xtr)} "
                           "training images to train on")
        keep = len(xtr) - settings.holdout
        xtr, ytr, xte, yte = xtr[:keep], ytr[:keep], xtr[keep:], ytr[keep:]
        if args.limit_test is not None:
            xte, yte = xte[:args.limit_test], yte[:args.limit_test]
    else:
        test_ds = _dataset(args.dataset, False, args.data_dir, not args.no_download)
        xte, yte = _as_tensors(test_ds, args.dataset, args.limit_test)
    sampler = ranks.make_sampler(len(xtr)) if ranks is not None else None
    per_rank = settings.batch_size // (ranks.world if ranks is not None else 1)
    train_loader = _loader(xtr, ytr, per_rank, True, shuffle_gen, settings.resize, settings.augment,
                           args.workers, sampler)
    test_loader = _loader(xte, yte, max(settings.batch_size, 256), False, None, settings.resize, False, args.workers)
    return train_loader, test_loader, len(xtr), len(xte)


def _training_state(seed_value, spec, settings):
    """Seeded model, optimizer, learning-rate schedule and the generator that shuffles the batches."""
    import ember
    ember.manual_seed(seed_value)
    np.random.seed(seed_value)
    shuffle_gen = ember.Generator().manual_seed(seed_value)
    model = _build(spec)
    optimizer = _optimizer(model, settings.optimizer, settings.lr, settings.momentum, settings.weight_decay)
    scheduler = None
    if settings.schedule == "cosine":  # anneal to zero over the run: the last epochs settle instead of jitter
        from ember.optim.lr_scheduler import CosineAnnealingLR
        scheduler = CosineAnnealingLR(optimizer, T_max=settings.epochs)
    return model, optimizer, scheduler, shuffle_gen


def _resume(args, settings, model, optimizer, scheduler, shuffle_gen):
    """Restore everything the checkpoint in --out holds; returns (history, last completed epoch)."""
    import ember
    path = settings.checkpoint
    if not os.path.exists(path):
        raise CliError(f"--resume: no checkpoint at {path}")
    ckpt = _load_checkpoint(path)
    if ckpt.get("model") != args.model or ckpt.get("dataset") != args.dataset:
        raise CliError(f"--resume: {path} holds {ckpt.get('model')} trained on {ckpt.get('dataset')}, "
                       f"not {args.model} on {args.dataset}")
    model.load_state_dict(ckpt["state_dict"])
    optimizer.load_state_dict(ckpt["optimizer"])
    if scheduler is not None and ckpt.get("scheduler") is not None:
        scheduler.load_state_dict(ckpt["scheduler"])
    shuffle_gen.set_state(ckpt["shuffle_rng"])
    ember.set_rng_state(ckpt["global_rng"])
    print(f"resuming {args.model} on {args.dataset} after epoch {ckpt['epoch']} from {path}")
    return ckpt["history"], ckpt["epoch"]


def _train_epoch(model, loader, optimizer, desc, show_progress, batch_scheduler=None, label_smoothing=0.0):
    """One pass over the training data; returns the epoch's loss, accuracy and speed."""
    from ember import nn
    loss_fn = nn.CrossEntropyLoss(label_smoothing=label_smoothing)
    model.train()
    started = time.perf_counter()
    seen = correct = 0
    loss_sum = 0.0
    bar = _progress(loader, len(loader), desc, show_progress)
    for x, y in bar:
        logits = model(x)
        loss = loss_fn(logits, y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if batch_scheduler is not None:
            batch_scheduler.step()
        n = y.shape[0]
        seen += n
        loss_sum += float(loss) * n
        correct += int((logits.argmax(1) == y).sum())
        if bar is not loader and hasattr(bar, "set_postfix"):
            rate = seen / max(time.perf_counter() - started, 1e-9)
            bar.set_postfix(loss=f"{loss_sum / seen:.4f}", acc=f"{correct / seen:.2%}", img_s=f"{rate:.0f}")
    if hasattr(bar, "close"):
        bar.close()
    train_time = time.perf_counter() - started
    return {"train_loss": loss_sum / max(seen, 1), "train_acc": correct / max(seen, 1),
            "images_per_s": round(seen / max(train_time, 1e-9), 1), "started": started}


def _save_epoch(args, settings, epoch, model, optimizer, scheduler, shuffle_gen, history):
    """The checkpoint (everything --resume needs), metrics.json and the curves, each written atomically."""
    import ember
    ember.save({"format": "ember-checkpoint-1", "model": args.model, "dataset": args.dataset,
                "input_size": list(settings.size), "epoch": epoch, "state_dict": model.state_dict(),
                "optimizer": optimizer.state_dict(),
                "scheduler": scheduler.state_dict() if scheduler is not None else None,
                "shuffle_rng": shuffle_gen.get_state(),
                "global_rng": ember.get_rng_state(), "history": history}, settings.checkpoint)
    metrics = {"model": args.model, "dataset": args.dataset, "epochs": history,
               "settings": settings.as_dict(args.seed)}
    if settings.holdout:
        metrics["final_heldout_acc"] = history[-1]["heldout_acc"]
    else:
        metrics["final_test_acc"] = history[-1]["test_acc"]
    _write_json(os.path.join(settings.out, "metrics.json"), metrics)
    _plot(os.path.join(settings.out, "curves.png"), history)


def _check_input_size(name, spec, size, option="--resize"):
    """Refuse an input size the network cannot take (its kernels and pools would shrink it below one
    pixel, or its classifier expects another feature count), saying which size it needs on that side.
    One forward pass of a zero image per size tried, in eval mode, never above the larger of the
    requested and the default size."""
    if tuple(size) == tuple(spec.input_size):
        return
    probe = _SizeProbe(spec)
    if probe.works(size):
        return
    h, w = size
    default = spec.input_size[0]
    if min(h, w) < default:
        need = f"at least {probe.boundary(min(h, w), default)}"
    else:
        need = f"at most {probe.boundary(default, max(h, w))}"
    raise CliError(f"argument {option}: {name} cannot take {h}x{w} images: it needs inputs of {need} (default "
                   f"{spec.input_size[0]}x{spec.input_size[1]})")


class _SizeProbe:
    """Which input sizes a model takes, found by running it (built once) on zero images."""

    def __init__(self, spec):
        self.spec, self.model, self.known = spec, None, {}

    def works(self, size):
        size = tuple(size)
        if size not in self.known:
            import ember
            if self.model is None:
                self.model = self.spec.build(num_classes=10, in_channels=1).eval()
            try:
                with ember.no_grad():
                    self.model(ember.zeros(1, 1, *size))
                self.known[size] = True
            except Exception:  # whatever the layers raise for a size they cannot take
                self.known[size] = False
        return self.known[size]

    def boundary(self, a, b):
        """The last working square size between a failing and a working one (or the reverse), as "NxN":
        the sizes a chain of convolutions, pools and a fixed classifier accepts form one interval."""
        works_a = self.works((a, a))
        while b - a > 1:
            mid = (a + b) // 2
            if self.works((mid, mid)) == works_a:
                a = mid
            else:
                b = mid
        edge = a if works_a else b
        return f"{edge}x{edge}"


def _load_checkpoint(path):
    import ember
    try:
        ckpt = ember.load(path)
    except FileNotFoundError:
        raise CliError(f"no such checkpoint: {path}") from None
    except Exception as e:  # a file that is not a checkpoint says what it is
        raise CliError(f"{path} is not an ember checkpoint: {e}") from None
    if not isinstance(ckpt, dict) or ckpt.get("format") != "ember-checkpoint-1":
        raise CliError(f"{path} is not a checkpoint written by `ember train` (no model name and settings in it)")
    return ckpt


def _model_from_checkpoint(path):
    from ember.vision.models._tutorials import MODELS, RENAMED
    ckpt = _load_checkpoint(path)
    name = RENAMED.get(ckpt["model"], ckpt["model"])  # checkpoints written before the zoo's '-d2l' names
    if name not in MODELS:
        raise CliError(f"{path} was trained with model '{name}', which this ember does not know")
    model = MODELS[name].build(num_classes=10, in_channels=1)
    try:
        model.load_state_dict(ckpt["state_dict"])
    except RuntimeError as e:
        raise CliError(f"{path} does not match model '{name}': {e}") from None
    model.eval()
    return model, ckpt


def cmd_eval(args):
    from ember.text.train import is_lm_checkpoint, cmd_eval_lm
    if is_lm_checkpoint(args.checkpoint):
        return cmd_eval_lm(args)
    model, ckpt = _model_from_checkpoint(args.checkpoint)
    dataset = ckpt["dataset"]
    test_ds = _dataset(dataset, False, args.data_dir, not args.no_download)
    x, y = _as_tensors(test_ds, dataset, args.limit_test)
    size = tuple(ckpt["input_size"])
    loader = _loader(x, y, 256, False, None, None if size == (28, 28) else size, False, 0)
    acc = _evaluate(model, loader)
    print(f"{ckpt['model']} on {dataset} test set ({len(x)} images): accuracy {acc:.2%}")
    return 0


def _pillow():
    try:
        from PIL import Image
    except ImportError:
        raise CliError("predict needs Pillow: pip install 'ember[vision]'") from None
    return Image


def _check_image(path):
    """Open the image's header only: a missing file, a non-image, or one declaring more pixels than
    Pillow decodes safely (a decompression bomb: a few KB that would inflate to gigabytes) is refused
    before anything is decoded."""
    Image = _pillow()
    limit = Image.MAX_IMAGE_PIXELS
    try:
        with warnings.catch_warnings():  # Pillow warns between its limit and twice it: refused below anyway
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path) as img:
                w, h = img.size
    except FileNotFoundError:
        raise CliError(f"no such image: {path}") from None
    except Image.DecompressionBombError:
        w = h = None
    except Exception as e:  # UnidentifiedImageError, OSError, and whatever a damaged header raises
        raise CliError(f"{path} is not an image Pillow can read ({e})") from None
    if w is None or (limit is not None and w * h > limit):
        shown = "" if w is None else f"{w}x{h} = {w * h:,} pixels, "
        raise CliError(f"argument images: {path} declares {shown}more than the {limit:,} pixels ember reads "
                       "(a possible decompression bomb); refusing to decode it")


def _read_image(path, size, dataset):
    Image = _pillow()
    try:
        with Image.open(path) as img:
            img = img.convert("L")
    except FileNotFoundError:
        raise CliError(f"no such image: {path}") from None
    except Exception as e:  # a body damaged after a readable header
        raise CliError(f"{path} is not an image Pillow can read ({e})") from None
    img = img.resize((size[1], size[0]), Image.BILINEAR)
    a = np.asarray(img, dtype=np.float32) / 255.0
    # MNIST digits are light on dark; a photo or drawing is usually dark on light: turn it round
    border = np.concatenate([a[0], a[-1], a[:, 0], a[:, -1]])
    if border.mean() > 0.5:
        a = 1.0 - a
    _, mean, std = DATASETS[dataset]
    return (a - mean) / std


def cmd_predict(args):
    import ember
    from ember.nn import functional as F
    for path in args.images:
        _check_image(path)
    model, ckpt = _model_from_checkpoint(args.checkpoint)
    size = tuple(ckpt["input_size"])
    classes = _class_names(ckpt["dataset"])
    batch = np.stack([_read_image(p, size, ckpt["dataset"]) for p in args.images])[:, None]
    with ember.no_grad():
        probs = F.softmax(model(ember.from_numpy(batch)), dim=1)
    k = min(args.topk, probs.shape[1])
    top = probs.topk(k, dim=1)
    for path, vals, idx in zip(args.images, top.values.tolist(), top.indices.tolist()):
        ranked = ", ".join(f"{classes[i]} ({v:.1%})" for v, i in zip(vals, idx))
        print(f"{path}: {ranked}")
    return 0


def _class_names(dataset):
    from ember.vision import datasets
    return list(getattr(datasets, DATASETS[dataset][0]).classes)


def cmd_summary(args):
    import ember
    from ember.vision.models._tutorials import MODELS
    spec = MODELS[args.model]
    size = tuple(args.resize) if args.resize else spec.input_size
    _check_input_size(args.model, spec, size)
    model = spec.build(num_classes=10, in_channels=1)
    print(f"{args.model}: {spec.description}")
    ember.summary(model, (1,) + size)
    return 0


def cmd_models(args):
    from ember.vision.models._tutorials import MODELS
    width = max(len(n) for n in list(MODELS) + list(_lm_models()))
    for name, spec in MODELS.items():
        print(f"{name:<{width}}  input {spec.input_size[0]}x{spec.input_size[1]:<4} {spec.description}")
    for name, spec in _lm_models().items():
        print(f"{name:<{width}}  text  {spec.num_steps:<3} chars {spec.description}")
    # the '-d2l' names are the book's variants; torchvision's own architectures are a Python API, not zoo entries
    print("\ntorchvision's ImageNet architectures (resnet18, vgg16, densenet121, mobilenet_v2, ...) are in "
          "ember.vision.models")
    return 0


def _lm_models():
    from ember.text.models import LM_MODELS
    return LM_MODELS


def cmd_generate(args):
    from ember.text.train import cmd_generate as generate
    return generate(args)


def _parser():
    from ember.vision.models._tutorials import MODELS
    p = OneLineParser(prog="ember", description="Train and use the tutorials' networks with ember.")
    sub = p.add_subparsers(dest="command", required=True)

    t = sub.add_parser("train", help="train a model on MNIST or Fashion-MNIST, or a language model on text")
    models = list(MODELS) + list(_lm_models())
    t.add_argument("model", choices=models, metavar="MODEL", help="one of: " + ", ".join(models))
    t.add_argument("--text", metavar="FILE", type=readable_file,
                   help="language models: a UTF-8 text file (default: the built-in corpus, see README)")
    t.add_argument("--dataset", default="mnist", choices=list(DATASETS))
    t.add_argument("--epochs", type=positive_int)
    t.add_argument("--batch-size", type=positive_int)
    t.add_argument("--lr", type=non_negative_float)
    t.add_argument("--optimizer", choices=["sgd", "adam"])
    t.add_argument("--momentum", type=non_negative_float)
    t.add_argument("--weight-decay", type=non_negative_float)
    t.add_argument("--schedule", choices=["none", "cosine", "onecycle"],
                   help="learning-rate schedule over the epochs (default: the model's)")
    t.add_argument("--resize", type=positive_int, nargs=2, metavar=("H", "W"),
                   help="input size (default: the model's)")
    t.add_argument("--augment", nargs="?", const="shift", choices=["none", "shift", "affine"],
                   help="augment the training images: 'shift' (the default when given alone) moves each batch by "
                        "up to 2 pixels, 'affine' rotates, scales and shifts each image (default: the model's)")
    t.add_argument("--label-smoothing", type=non_negative_float, help="label smoothing of the loss (default: the "
                                                                        "model's)")
    t.add_argument("--holdout", type=positive_int, metavar="N",
                   help="for tuning: train without the training set's last N images and report the accuracy on "
                        "them instead of the test set's (which is then not read)")
    t.add_argument("--seed", type=seed, default=0)
    t.add_argument("--workers", type=non_negative_int, default=0, help="DataLoader worker processes")
    t.add_argument("--threads", type=positive_int, help="threads for ember's kernels and BLAS")
    t.add_argument("--nproc", type=positive_int, default=1,
                   help="processes training together (DistributedDataParallel over MPI; global batch unchanged)")
    t.add_argument("--out", type=output_dir, help="output folder (default runs/MODEL-DATASET)")
    t.add_argument("--resume", action="store_true", help="continue from the checkpoint in --out")
    _data_args(t)
    t.add_argument("--limit-train", type=positive_int, help=argparse.SUPPRESS)
    t.add_argument("--stop-after", type=positive_int, help=argparse.SUPPRESS)  # simulates an interruption (tests)
    t.add_argument("--quiet", action="store_true", help="no progress bars")
    t.set_defaults(fn=cmd_train)

    e = sub.add_parser("eval", help="test accuracy of a checkpoint")
    e.add_argument("checkpoint")
    e.add_argument("--text", metavar="FILE", type=readable_file,
                   help="language models: evaluate on this text's held-out part")
    _data_args(e)
    e.set_defaults(fn=cmd_eval)

    g = sub.add_parser("generate", help="sample text from a language-model checkpoint")
    g.add_argument("checkpoint")
    g.add_argument("--prefix", help="text to start from (its characters must be in the vocabulary; default: the "
                                    "training text's first characters)")
    g.add_argument("--length", type=non_negative_int, default=200, help="characters to generate")
    g.add_argument("--temperature", type=non_negative_float, default=1.0,
                   help="0 picks the most likely character each time")
    g.add_argument("--top-k", type=positive_int, help="sample only among the k most likely characters")
    g.add_argument("--seed", type=seed, default=0)
    g.set_defaults(fn=cmd_generate)

    pr = sub.add_parser("predict", help="classify image files with a checkpoint")
    pr.add_argument("checkpoint")
    pr.add_argument("images", nargs="+")
    pr.add_argument("--topk", type=positive_int, default=3)
    pr.set_defaults(fn=cmd_predict)

    s = sub.add_parser("summary", help="layer output shapes and parameter counts")
    s.add_argument("model", choices=list(MODELS), metavar="MODEL", help="one of: " + ", ".join(MODELS))
    s.add_argument("--resize", type=positive_int, nargs=2, metavar=("H", "W"))
    s.set_defaults(fn=cmd_summary)

    m = sub.add_parser("models", help="list the models")
    m.set_defaults(fn=cmd_models)
    return p


def _data_args(p):
    p.add_argument("--data-dir", default=os.environ.get("EMBER_DATA", "data"),
                   help="where the datasets live (default ./data or $EMBER_DATA)")
    p.add_argument("--no-download", action="store_true", help="fail instead of fetching missing data")
    p.add_argument("--limit-test", type=positive_int, help=argparse.SUPPRESS)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    args = _parser().parse_args(argv)
    args.argv = argv
    try:
        return args.fn(args)
    except CliError as e:
        message = " ".join(str(e).split("\n"))  # one line, as argparse's own errors
        print(f"ember {args.command}: error: {message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\ninterrupted; the last completed epoch's checkpoint is intact", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
