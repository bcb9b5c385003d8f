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

import numpy as np

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
    from ember.vision import datasets
    cls = getattr(datasets, DATASETS[name][0])
    try:
        return cls(data_dir, train=train, download=download)
    except RuntimeError as e:
        raise CliError(f"{e}\n(data directory: {os.path.abspath(data_dir)}; run without --no-download to fetch "
                       f"the data)") from None


def _as_tensors(ds, dataset_name, limit=None):
    """The whole split as normalised float32 tensors N×1×28×28: no per-image work in the epoch loop."""
    import ember
    _, mean, std = DATASETS[dataset_name]
    images = ds.data._data if limit is None else ds.data._data[:limit]
    labels = ds.targets._data if limit is None else ds.targets._data[:limit]
    x = (images.astype(np.float32) / 255.0 - mean) / std
    return ember.from_numpy(x[:, None]), ember.from_numpy(labels.astype(np.int64))


def _loader(x, y, batch_size, shuffle, generator, resize, augment, workers):
    """Batches of (images, labels). Images are resized / augmented per batch when asked."""
    from ember.utils.data import DataLoader, TensorDataset
    ds = TensorDataset(x, y)
    collate = None
    if resize or augment:
        collate = _BatchTransform(resize, augment, generator)
    return DataLoader(ds, batch_size=batch_size, shuffle=shuffle, generator=generator, num_workers=workers,
                      collate_fn=collate)


class _BatchTransform:
    """Resize (bilinear, as transforms.Resize on tensors) and light augmentation, a whole batch at a time."""

    def __init__(self, size, augment, generator):
        self.size, self.augment, self.generator = size, augment, generator

    def __call__(self, samples):
        import ember
        from ember.nn import functional as F
        x = ember.stack([s[0] for s in samples])
        y = ember.stack([s[1] for s in samples])
        if self.augment:
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


def _progress(iterable, total, desc, enabled):
    if not enabled:
        return iterable
    try:
        from tqdm import tqdm
    except ImportError:
        return iterable
    return tqdm(iterable, total=total, desc=desc, unit="batch", leave=False, dynamic_ncols=True)


def _write_json(path, obj):
    tmp = f"{path}.tmp{os.getpid()}"
    with open(tmp, "w") as f:
        json.dump(obj, f, indent=2)
    os.replace(tmp, path)


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
    ax2.plot(epochs, [h["test_acc"] for h in history], "s-", label="test accuracy")
    ax2.set_xlabel("epoch")
    ax2.set_ylabel("accuracy")
    ax2.legend()
    from matplotlib.ticker import MaxNLocator
    for ax in (ax1, ax2):
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
    fig.tight_layout()
    tmp = f"{path}.tmp{os.getpid()}.png"
    fig.savefig(tmp, dpi=100)
    plt.close(fig)
    os.replace(tmp, path)
    return True


def cmd_train(args):
    if args.model in _lm_models():  # language models train on text: ember/text/train.py
        from ember.text.train import cmd_train_lm
        return cmd_train_lm(args)
    import ember
    from ember import nn
    from ember.vision.models import MODELS
    spec = MODELS[args.model]
    epochs = args.epochs if args.epochs is not None else spec.epochs
    batch_size = args.batch_size or spec.batch_size
    lr = args.lr if args.lr is not None else spec.lr
    opt_name = args.optimizer or spec.optimizer
    momentum = args.momentum if args.momentum is not None else spec.momentum
    weight_decay = args.weight_decay if args.weight_decay is not None else spec.weight_decay
    size = tuple(args.resize) if args.resize else spec.input_size
    resize = None if size == (28, 28) else size
    out = args.out or os.path.join("runs", f"{args.model}-{args.dataset}")
    ckpt_path = os.path.join(out, CHECKPOINT)
    if args.threads:
        ember.set_num_threads(args.threads)

    ember.manual_seed(args.seed)
    np.random.seed(args.seed)
    shuffle_gen = ember.Generator().manual_seed(args.seed)
    model = _build(spec)
    optimizer = _optimizer(model, opt_name, lr, momentum, weight_decay)
    schedule = args.schedule or spec.schedule
    scheduler = None
    if schedule == "cosine":  # anneal to zero over the run: the last epochs settle instead of jitter
        from ember.optim.lr_scheduler import CosineAnnealingLR
        scheduler = CosineAnnealingLR(optimizer, T_max=epochs)
    history, start_epoch = [], 0

    if args.resume:
        if not os.path.exists(ckpt_path):
            raise CliError(f"--resume: no checkpoint at {ckpt_path}")
        ckpt = _load_checkpoint(ckpt_path)
        if ckpt.get("model") != args.model or ckpt.get("dataset") != args.dataset:
            raise CliError(f"--resume: {ckpt_path} holds {ckpt.get('model')} trained on {ckpt.get('dataset')}, "
                           f"not {args.model} on {args.dataset}")
        model.load_state_dict(ckpt["state_dict"])
        optimizer.load_state_dict(ckpt["optimizer"])
        if scheduler is not None and ckpt.get("scheduler") is not None:
            scheduler.load_state_dict(ckpt["scheduler"])
        shuffle_gen.set_state(ckpt["shuffle_rng"])
        ember.set_rng_state(ckpt["global_rng"])
        history = ckpt["history"]
        start_epoch = ckpt["epoch"]
        print(f"resuming {args.model} on {args.dataset} after epoch {start_epoch} from {ckpt_path}")

    train_ds = _dataset(args.dataset, True, args.data_dir, not args.no_download)
    test_ds = _dataset(args.dataset, False, args.data_dir, not args.no_download)
    xtr, ytr = _as_tensors(train_ds, args.dataset, args.limit_train)
    xte, yte = _as_tensors(test_ds, args.dataset, args.limit_test)
    train_loader = _loader(xtr, ytr, batch_size, True, shuffle_gen, resize, args.augment, args.workers)
    test_loader = _loader(xte, yte, max(batch_size, 256), False, None, resize, False, args.workers)
    loss_fn = nn.CrossEntropyLoss()
    os.makedirs(out, exist_ok=True)
    print(f"training {args.model} on {args.dataset}: {len(xtr)} train / {len(xte)} test images of "
          f"{size[0]}x{size[1]}, {opt_name} lr={lr} batch={batch_size}, {epochs} epochs -> {out}")

    for epoch in range(start_epoch + 1, epochs + 1):
        model.train()
        t0 = time.perf_counter()
        seen = correct = 0
        loss_sum = 0.0
        bar = _progress(train_loader, len(train_loader), f"epoch {epoch}/{epochs}", not args.quiet)
        for x, y in bar:
            logits = model(x)
            loss = loss_fn(logits, y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            n = y.shape[0]
            seen += n
            loss_sum += float(loss) * n
            correct += int((logits.argmax(1) == y).sum())
            if bar is not train_loader and hasattr(bar, "set_postfix"):
                rate = seen / max(time.perf_counter() - t0, 1e-9)
                bar.set_postfix(loss=f"{loss_sum / seen:.4f}", acc=f"{correct / seen:.2%}", img_s=f"{rate:.0f}")
        if hasattr(bar, "close"):
            bar.close()
        train_time = time.perf_counter() - t0
        if scheduler is not None:
            scheduler.step()
        test_acc = _evaluate(model, test_loader)
        record = {"epoch": epoch, "train_loss": loss_sum / max(seen, 1), "train_acc": correct / max(seen, 1),
                  "test_acc": test_acc, "time_s": round(time.perf_counter() - t0, 3),
                  "images_per_s": round(seen / max(train_time, 1e-9), 1)}
        history.append(record)
        print(f"epoch {epoch:3d}/{epochs}  train loss {record['train_loss']:.4f}  train acc "
              f"{record['train_acc']:.2%}  test acc {test_acc:.2%}  {record['time_s']:.1f}s "
              f"({record['images_per_s']:.0f} img/s)", flush=True)
        ember.save({"format": "ember-checkpoint-1", "model": args.model, "dataset": args.dataset,
                    "input_size": list(size), "epoch": epoch, "state_dict": model.state_dict(),
                    "optimizer": optimizer.state_dict(),
                    "scheduler": scheduler.state_dict() if scheduler is not None else None,
                    "shuffle_rng": shuffle_gen.get_state(),
                    "global_rng": ember.get_rng_state(), "history": history}, ckpt_path)
        metrics = {"model": args.model, "dataset": args.dataset, "epochs": history,
                   "final_test_acc": test_acc, "settings": {"batch_size": batch_size, "lr": lr, "optimizer": opt_name,
                                                           "momentum": momentum, "weight_decay": weight_decay,
                                                           "seed": args.seed, "input_size": list(size),
                                                           "schedule": schedule}}
        _write_json(os.path.join(out, "metrics.json"), metrics)
        _plot(os.path.join(out, "curves.png"), history)
        if args.stop_after is not None and epoch >= args.stop_after:
            print(f"stopping after epoch {epoch} as asked; continue with --resume")
            return 0

    final = history[-1]["test_acc"] if history else float("nan")
    total = sum(h["time_s"] for h in history)
    print(f"test accuracy: {final:.2%}  ({len(history)} epochs, {total:.0f}s training; checkpoint {ckpt_path})")
    return 0


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
    from ember.vision.models import MODELS
    ckpt = _load_checkpoint(path)
    name = ckpt["model"]
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


def _read_image(path, size, dataset):
    try:
        from PIL import Image, UnidentifiedImageError
    except ImportError:
        raise CliError("predict needs Pillow: pip install 'ember[vision]'") from None
    try:
        with Image.open(path) as img:
            img = img.convert("L")
    except FileNotFoundError:
        raise CliError(f"no such image: {path}") from None
    except (UnidentifiedImageError, OSError) as e:
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
    from ember.vision.models import MODELS
    spec = MODELS[args.model]
    size = tuple(args.resize) if args.resize else spec.input_size
    model = spec.build(num_classes=10, in_channels=1)
    print(f"{args.model}: {spec.description}")
    ember.summary(model, (1,) + size)
    return 0


def cmd_models(args):
    from ember.vision.models import MODELS
    width = max(len(n) for n in list(MODELS) + list(_lm_models()))
    for name, spec in MODELS.items():
        print(f"{name:<{width}}  input {spec.input_size[0]}x{spec.input_size[1]:<4} {spec.description}")
    for name, spec in _lm_models().items():
        print(f"{name:<{width}}  text  {spec.num_steps:<3} chars {spec.description}")
    return 0


def _lm_models():
    from ember.text.models import LM_MODELS
    return LM_MODELS


def cmd_generate(args):
    from ember.text.train import cmd_generate as generate
    return generate(args)


def _parser():
    from ember.vision.models import MODELS
    p = argparse.ArgumentParser(prog="ember", description="Train and use the tutorials' networks with ember.")
    sub = p.add_subparsers(dest="command", required=True)

    t = sub.add_parser("train", help="train a model on MNIST or Fashion-MNIST, or a language model on text")
    models = list(MODELS) + list(_lm_models())
    t.add_argument("model", choices=models, metavar="MODEL", help="one of: " + ", ".join(models))
    t.add_argument("--text", metavar="FILE", help="language models: a UTF-8 text file (default: the built-in "
                                                   "corpus, see README)")
    t.add_argument("--dataset", default="mnist", choices=list(DATASETS))
    t.add_argument("--epochs", type=int)
    t.add_argument("--batch-size", type=int)
    t.add_argument("--lr", type=float)
    t.add_argument("--optimizer", choices=["sgd", "adam"])
    t.add_argument("--momentum", type=float)
    t.add_argument("--weight-decay", type=float)
    t.add_argument("--schedule", choices=["none", "cosine"], help="learning-rate schedule over the epochs")
    t.add_argument("--resize", type=int, nargs=2, metavar=("H", "W"), help="input size (default: the model's)")
    t.add_argument("--augment", action="store_true", help="random 2-pixel shifts of the training images")
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--workers", type=int, default=0, help="DataLoader worker processes")
    t.add_argument("--threads", type=int, help="BLAS threads")
    t.add_argument("--out", help="output folder (default runs/MODEL-DATASET)")
    t.add_argument("--resume", action="store_true", help="continue from the checkpoint in --out")
    _data_args(t)
    t.add_argument("--limit-train", type=int, help=argparse.SUPPRESS)
    t.add_argument("--stop-after", type=int, help=argparse.SUPPRESS)  # simulates an interruption (tests)
    t.add_argument("--quiet", action="store_true", help="no progress bars")
    t.set_defaults(fn=cmd_train)

    e = sub.add_parser("eval", help="test accuracy of a checkpoint")
    e.add_argument("checkpoint")
    e.add_argument("--text", metavar="FILE", help="language models: evaluate on this text's held-out part")
    _data_args(e)
    e.set_defaults(fn=cmd_eval)

    g = sub.add_parser("generate", help="sample text from a language-model checkpoint")
    g.add_argument("checkpoint")
    g.add_argument("--prefix", help="text to start from (its characters must be in the vocabulary; default: the "
                                    "training text's first characters)")
    g.add_argument("--length", type=int, default=200, help="characters to generate")
    g.add_argument("--temperature", type=float, default=1.0, help="0 picks the most likely character each time")
    g.add_argument("--top-k", type=int, help="sample only among the k most likely characters")
    g.add_argument("--seed", type=int, default=0)
    g.set_defaults(fn=cmd_generate)

    pr = sub.add_parser("predict", help="classify image files with a checkpoint")
    pr.add_argument("checkpoint")
    pr.add_argument("images", nargs="+")
    pr.add_argument("--topk", type=int, default=3)
    pr.set_defaults(fn=cmd_predict)

    s = sub.add_parser("summary", help="layer output shapes and parameter counts")
    s.add_argument("model", choices=list(MODELS), metavar="MODEL", help="one of: " + ", ".join(MODELS))
    s.add_argument("--resize", type=int, nargs=2, metavar=("H", "W"))
    s.set_defaults(fn=cmd_summary)

    m = sub.add_parser("models", help="list the models")
    m.set_defaults(fn=cmd_models)
    return p


def _data_args(p):
    p.add_argument("--data-dir", default=os.environ.get("EMBER_DATA", "data"),
                   help="where the datasets live (default ./data or $EMBER_DATA)")
    p.add_argument("--no-download", action="store_true", help="fail instead of fetching missing data")
    p.add_argument("--limit-test", type=int, help=argparse.SUPPRESS)


def main(argv=None):
    args = _parser().parse_args(argv)
    try:
        return args.fn(args)
    except CliError as e:
        print(f"ember {args.command}: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\ninterrupted; the last completed epoch's checkpoint is intact", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
