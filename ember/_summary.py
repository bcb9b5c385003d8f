"""ember.summary: each layer's output shape and parameter count, as the tutorials tabulate them."""
from ember.autograd.grad_mode import no_grad


def _shape_text(out, batch_size):
    if hasattr(out, "shape"):
        return str([batch_size] + list(out.shape[1:]))
    if isinstance(out, (tuple, list)):
        return ", ".join(_shape_text(o, batch_size) for o in out)
    return "-"


def summary(model, input_size, batch_size=-1, dtype=None, print_fn=print):
    """Run one forward pass on zeros of `input_size` (C, H, W) and print a table of the leaf layers.

    Returns a dict with the rows and totals, so programs can check them."""
    from ember.creation import zeros
    if isinstance(input_size, int):
        input_size = (input_size,)
    rows, hooks = [], []
    counts = {}

    def hook(module, inputs, output):
        name = type(module).__name__
        counts[name] = counts.get(name, 0) + 1
        params = sum(p.numel() for p in module.parameters(recurse=False))
        trainable = sum(p.numel() for p in module.parameters(recurse=False) if p.requires_grad)
        rows.append((f"{name}-{len(rows) + 1}", _shape_text(output, batch_size), params, trainable))

    for m in model.modules():
        if m is not model and not list(m.children()):
            hooks.append(m.register_forward_hook(hook))
    was_training = model.training
    model.eval()
    try:
        with no_grad():
            model(zeros(2, *input_size, dtype=dtype))
    finally:
        for h in hooks:
            h.remove()
        model.train(was_training)

    total = sum(p.numel() for p in model.parameters())
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    line = "-" * 64
    print_fn(line)
    print_fn(f"{'Layer (type)':>20}  {'Output Shape':>25} {'Param #':>15}")
    print_fn("=" * 64)
    for name, shape, params, _ in rows:
        print_fn(f"{name:>20}  {shape:>25} {params:>15,}")
    print_fn("=" * 64)
    print_fn(f"Total params: {total:,}")
    print_fn(f"Trainable params: {trainable:,}")
    print_fn(f"Non-trainable params: {total - trainable:,}")
    print_fn(line)
    return {"rows": rows, "total_params": total, "trainable_params": trainable}
