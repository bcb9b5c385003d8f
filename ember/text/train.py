"""Training, sampling and evaluating the character language models: `ember train char-lstm`, `ember generate`,
`ember eval` on a language-model checkpoint. ember/cli.py only dispatches here.

The corpus (a UTF-8 file, or the default corpus of ember/text/_corpus.py) is split in order: the first 90 % of
its characters train, the last 10 % are held out. Training follows the book's concise models (D2L 6.5): consecutive
minibatches of (batch, 35) characters with the state carried over (detached), cross-entropy over every step, Adam,
gradients clipped by their global norm. After each epoch: held-out perplexity, a sampled line of text, and the
checkpoint -- weights, optimizer, vocabulary and random states in one file, written whole or not at all.
"""
import json
import math
import os
import time

import numpy as np

CHECKPOINT = "checkpoint.pt"
FORMAT = "ember-lm-1"
VALID_FRACTION = 0.1


def _cli():
    from ember import cli
    return cli


def _error(msg):
    return _cli().CliError(msg)


# -- the corpus -----------------------------------------------------------------------------------

def read_corpus(path, data_dir=None):
    """The text of --text FILE (or the default corpus, cached in data_dir, when path is None), and a name for it."""
    from ember.text.vocab import read_text
    if path is None:
        from ember.text._corpus import default_corpus
        return default_corpus(data_dir), "default (Python's documentation prose, see ember/text/_corpus.py)"
    try:
        return read_text(path), os.path.abspath(path)
    except FileNotFoundError:
        raise _error(f"--text: no such file: {path}") from None
    except IsADirectoryError:
        raise _error(f"--text: {path} is a directory, not a text file") from None
    except ValueError as e:
        raise _error(f"--text: {e}") from None


def split_corpus(ids):
    """(train ids, held-out ids): the last VALID_FRACTION of the corpus is held out."""
    cut = int(len(ids) * (1 - VALID_FRACTION))
    return ids[:cut], ids[cut:]


def _min_tokens(batch_size, num_steps):
    return batch_size * num_steps + 1


# -- running a model ------------------------------------------------------------------------------

def _detach(state):
    if state is None:
        return None
    return tuple(s.detach() for s in state) if isinstance(state, tuple) else state.detach()


def _step(model, spec, X, Y, state):
    """(mean cross-entropy over the minibatch, next state)."""
    from ember.nn import functional as F
    if spec.stateful:
        output, state = model(X, _detach(state))
        y = Y.t().reshape(-1)
    else:
        logits = model(X)
        output = logits.reshape(-1, logits.shape[-1])
        y = Y.reshape(-1)
    return F.cross_entropy(output, y), state


def perplexity(model, spec, ids, batch_size, num_steps):
    """exp(mean cross-entropy) over consecutive minibatches of `ids` (state carried, as in training)."""
    import ember
    from ember.text.data import data_iter_consecutive
    batch_size = max(1, min(batch_size, (len(ids) - 1) // num_steps))
    if len(ids) < _min_tokens(batch_size, num_steps):
        num_steps = max(1, (len(ids) - 1) // batch_size)
    model.eval()
    total, count, state = 0.0, 0, None
    with ember.no_grad():
        for X, Y in data_iter_consecutive(ids, batch_size, num_steps, random_offset=False):
            loss, state = _step(model, spec, X, Y, state)
            n = Y.numel()
            total += float(loss) * n
            count += n
    model.train()
    return math.exp(total / max(count, 1))


def sample(model, spec, vocab, prefix, length, temperature=1.0, top_k=None, generator=None):
    """prefix + `length` sampled characters. temperature 0 picks the most likely character each time."""
    import ember
    from ember.nn import functional as F
    ids = list(vocab[list(prefix)])
    model.eval()
    out = []
    with ember.no_grad():
        state = None
        if spec.stateful:
            logits, state = model(ember.tensor([ids]), None)
            last = logits[-1]
        for _ in range(length):
            if not spec.stateful:
                context = (ids + out)[-spec.num_steps:]
                last = model(ember.tensor([context]))[0, -1]
            if temperature == 0:
                nxt = int(last.argmax())
            else:
                scores = last / temperature
                if top_k is not None and top_k < scores.shape[0]:
                    kth = scores.topk(top_k).values[-1]
                    scores = scores.masked_fill(scores < kth, float("-inf"))
                nxt = int(F.softmax(scores, dim=0).multinomial(1, generator=generator))
            out.append(nxt)
            if spec.stateful:
                logits, state = model(ember.tensor([[nxt]]), state)
                last = logits[-1]
    model.train()
    return prefix + "".join(vocab.to_tokens(out))


# -- checkpoints ----------------------------------------------------------------------------------

def _save_atomic(obj, path):
    """Write to a temporary file beside `path`, then rename: an interrupted save leaves the old file whole."""
    import ember
    tmp = path + ".part"
    ember.save(obj, tmp)
    os.replace(tmp, path)


def _write_json_atomic(path, obj):
    tmp = path + ".part"
    with open(tmp, "w") as f:
        json.dump(obj, f, indent=2)
    os.replace(tmp, path)


def load_lm_checkpoint(path):
    import ember
    try:
        ckpt = ember.load(path)
    except FileNotFoundError:
        raise _error(f"no such checkpoint: {path}") from None
    except Exception as e:
        raise _error(f"{path} is not an ember checkpoint: {e}") from None
    if not isinstance(ckpt, dict) or ckpt.get("format") != FORMAT:
        raise _error(f"{path} is not a language-model checkpoint written by `ember train char-...`")
    return ckpt


def is_lm_checkpoint(path):
    import ember
    try:
        ckpt = ember.load(path)
    except Exception:
        return False
    return isinstance(ckpt, dict) and ckpt.get("format") == FORMAT


def model_from_checkpoint(ckpt, path):
    from ember.text.models import LM_MODELS
    from ember.text.vocab import Vocab
    name = ckpt["model"]
    if name not in LM_MODELS:
        raise _error(f"{path} was trained with model '{name}', which this ember does not know")
    vocab = Vocab.from_state_dict(ckpt["vocab"])
    spec = LM_MODELS[name]
    model = spec.build(len(vocab))
    try:
        model.load_state_dict(ckpt["state_dict"])
    except RuntimeError as e:
        raise _error(f"{path} does not match model '{name}': {e}") from None
    model.eval()
    return model, spec, vocab


def _plot(path, history):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return
    epochs = [h["epoch"] for h in history]
    fig, ax = plt.subplots(figsize=(5, 3.5))
    ax.plot(epochs, [h["train_perplexity"] for h in history], "o-", label="train")
    ax.plot(epochs, [h["valid_perplexity"] for h in history], "s-", label="held-out")
    ax.set_xlabel("epoch")
    ax.set_ylabel("perplexity")
    ax.set_yscale("log")
    ax.legend()
    fig.tight_layout()
    tmp = path + ".part.png"
    fig.savefig(tmp, dpi=100)
    plt.close(fig)
    os.replace(tmp, path)


# -- the commands ---------------------------------------------------------------------------------

def _settings(args, spec):
    return {"epochs": args.epochs if args.epochs is not None else spec.epochs,
            "batch_size": args.batch_size or spec.batch_size,
            "num_steps": getattr(args, "num_steps", None) or spec.num_steps,
            "lr": args.lr if args.lr is not None else spec.lr,
            "clip": spec.clip, "seed": args.seed}


def _optimizer(model, name, lr):
    import ember
    if name == "sgd":
        return ember.optim.SGD(model.parameters(), lr=lr)
    return ember.optim.Adam(model.parameters(), lr=lr)


def cmd_train_lm(args):
    import ember
    from ember.nn.utils import clip_grad_norm_
    from ember.text.data import data_iter_consecutive
    from ember.text.models import LM_MODELS
    from ember.text.vocab import load_corpus, Vocab
    cli = _cli()
    spec = LM_MODELS[args.model]
    if getattr(args, "nproc", 1) > 1:
        raise _error("--nproc: language models train in one process")
    s = _settings(args, spec)
    opt_name = args.optimizer or spec.optimizer
    source = getattr(args, "text", None)
    out = args.out or os.path.join("runs", args.model)
    ckpt_path = os.path.join(out, CHECKPOINT)
    if args.threads:
        ember.set_num_threads(args.threads)

    resume = None
    if args.resume:
        if not os.path.exists(ckpt_path):
            raise _error(f"--resume: no checkpoint at {ckpt_path}")
        resume = load_lm_checkpoint(ckpt_path)
        if resume["model"] != args.model:
            raise _error(f"--resume: {ckpt_path} holds {resume['model']}, not {args.model}")
        source = resume["text"]
        s = resume["settings"] | {"epochs": s["epochs"]}

    text, source_name = read_corpus(source, getattr(args, "data_dir", None))
    vocab = Vocab.from_state_dict(resume["vocab"]) if resume else None
    ids, vocab = load_corpus(text, "char", vocab=vocab)
    train_ids, valid_ids = split_corpus(ids)
    if len(train_ids) < _min_tokens(s["batch_size"], s["num_steps"]):
        raise _error(f"--text: {len(ids)} characters are too few for one minibatch of {s['batch_size']} x "
                     f"{s['num_steps']} (plus the held-out {VALID_FRACTION:.0%}); use a longer text or a smaller "
                     f"--batch-size")

    ember.manual_seed(s["seed"])
    try:
        model = spec.build(len(vocab))
    except ImportError as e:
        raise _error(str(e)) from None
    optimizer = _optimizer(model, opt_name, s["lr"])
    rng = np.random.default_rng(s["seed"])
    sample_gen = ember.Generator().manual_seed(s["seed"])
    history, start_epoch = [], 0
    if resume:
        model.load_state_dict(resume["state_dict"])
        optimizer.load_state_dict(resume["optimizer"])
        rng.bit_generator.state = resume["sampler_rng"]
        sample_gen.set_state(resume["sample_rng"])
        ember.set_rng_state(resume["global_rng"])
        history, start_epoch = resume["history"], resume["epoch"]
        print(f"resuming {args.model} after epoch {start_epoch} from {ckpt_path}")

    os.makedirs(out, exist_ok=True)
    epochs = s["epochs"]
    print(f"training {args.model} on {source_name}: {len(train_ids)} train / {len(valid_ids)} held-out characters, "
          f"vocabulary {len(vocab)}, {opt_name} lr={s['lr']} batch={s['batch_size']} steps={s['num_steps']}, "
          f"{epochs} epochs -> {out}")
    if not resume:
        _print_baselines(train_ids, valid_ids, len(vocab))
    prefix = text.lstrip()[:4] or vocab.idx_to_token[1]
    batches_per_epoch = ((len(train_ids) - 1) // s["batch_size"]) // s["num_steps"]

    for epoch in range(start_epoch + 1, epochs + 1):
        model.train()
        t0 = time.perf_counter()
        loss_sum, tokens, state = 0.0, 0, None
        batches = data_iter_consecutive(train_ids, s["batch_size"], s["num_steps"], generator=rng)
        bar = cli._progress(batches, batches_per_epoch, f"epoch {epoch}/{epochs}", not args.quiet)
        for X, Y in bar:
            loss, state = _step(model, spec, X, Y, state)
            optimizer.zero_grad()
            loss.backward()
            clip_grad_norm_(model.parameters(), s["clip"])
            optimizer.step()
            n = Y.numel()
            loss_sum += float(loss) * n
            tokens += n
            if bar is not batches and hasattr(bar, "set_postfix"):
                rate = tokens / max(time.perf_counter() - t0, 1e-9)
                bar.set_postfix(ppl=f"{math.exp(loss_sum / tokens):.2f}", tok_s=f"{rate:.0f}")
        if hasattr(bar, "close"):
            bar.close()
        train_time = time.perf_counter() - t0
        valid_ppl = perplexity(model, spec, valid_ids, s["batch_size"], s["num_steps"])
        line = sample(model, spec, vocab, prefix, 60, temperature=0.8, top_k=None, generator=sample_gen)
        record = {"epoch": epoch, "train_perplexity": math.exp(loss_sum / max(tokens, 1)),
                  "valid_perplexity": valid_ppl, "time_s": round(time.perf_counter() - t0, 3),
                  "tokens_per_s": round(tokens / max(train_time, 1e-9), 1)}
        history.append(record)
        print(f"epoch {epoch:3d}/{epochs}  train perplexity {record['train_perplexity']:.2f}  held-out perplexity "
              f"{valid_ppl:.2f}  {record['time_s']:.1f}s ({record['tokens_per_s']:.0f} tok/s)", flush=True)
        print(f"  sample: {line!r}", flush=True)
        _save_atomic({"format": FORMAT, "model": args.model, "text": source, "vocab": vocab.state_dict(),
                      "prefix": prefix,
                      "settings": s, "epoch": epoch, "state_dict": model.state_dict(),
                      "optimizer": optimizer.state_dict(), "sampler_rng": rng.bit_generator.state,
                      "sample_rng": sample_gen.get_state(), "global_rng": ember.get_rng_state(),
                      "history": history}, ckpt_path)
        _write_json_atomic(os.path.join(out, "metrics.json"),
                           {"model": args.model, "text": source_name, "vocab_size": len(vocab), "epochs": history,
                            "final_valid_perplexity": valid_ppl, "settings": s | {"optimizer": opt_name}})
        _plot(os.path.join(out, "curves.png"), history)
        if args.stop_after is not None and epoch >= args.stop_after:
            print(f"stopping after epoch {epoch} as asked; continue with --resume")
            return 0

    final = history[-1]["valid_perplexity"] if history else float("nan")
    total = sum(h["time_s"] for h in history)
    print(f"held-out perplexity: {final:.2f}  ({len(history)} epochs, {total:.0f}s; checkpoint {ckpt_path})")
    return 0


def _print_baselines(train_ids, valid_ids, vocab_size, k=1.0):
    """Add-k smoothed bigram and trigram perplexity on the same split: the numbers a neural model must beat."""
    from ember.text.ngram import NGramModel
    parts = []
    for n, name in ((2, "bigram"), (3, "trigram")):
        ppl = NGramModel(n, vocab_size, k).fit(train_ids).perplexity(valid_ids)
        parts.append(f"{name} {ppl:.2f}")
    print(f"baseline held-out perplexity (add-{k:g} smoothing): " + ", ".join(parts), flush=True)


def cmd_generate(args):
    import ember
    ckpt = load_lm_checkpoint(args.checkpoint)
    model, spec, vocab = model_from_checkpoint(ckpt, args.checkpoint)
    if args.length < 0:
        raise _error(f"--length must be >= 0, got {args.length}")
    if args.temperature < 0:
        raise _error(f"--temperature must be >= 0, got {args.temperature}")
    if args.top_k is not None and args.top_k < 1:
        raise _error(f"--top-k must be >= 1, got {args.top_k}")
    prefix = args.prefix if args.prefix is not None else ckpt.get("prefix", "")
    if not prefix:
        raise _error("--prefix must hold at least one character")
    unknown = sorted({c for c in prefix if c not in vocab})
    if unknown:
        raise _error(f"--prefix has characters that are not in the checkpoint's vocabulary: "
                     f"{', '.join(repr(c) for c in unknown)}")
    gen = ember.Generator().manual_seed(args.seed)
    print(sample(model, spec, vocab, prefix, args.length, args.temperature, args.top_k, gen))
    return 0


def cmd_eval_lm(args):
    ckpt = load_lm_checkpoint(args.checkpoint)
    model, spec, vocab = model_from_checkpoint(ckpt, args.checkpoint)
    from ember.text.vocab import load_corpus
    source = getattr(args, "text", None) or ckpt["text"]
    text, source_name = read_corpus(source, getattr(args, "data_dir", None))
    ids, _ = load_corpus(text, "char", vocab=vocab)
    train_ids, valid_ids = split_corpus(ids)
    s = ckpt["settings"]
    if len(valid_ids) < 2:
        raise _error(f"the held-out part of {source_name} is too short to evaluate")
    ppl = perplexity(model, spec, valid_ids, s["batch_size"], s["num_steps"])
    print(f"{ckpt['model']} (epoch {ckpt['epoch']}) on the held-out {VALID_FRACTION:.0%} of {source_name} "
          f"({len(valid_ids)} characters): perplexity {ppl:.2f}")
    _print_baselines(train_ids, valid_ids, len(vocab))
    return 0
