"""Train each case of ddp_models.CASES with DistributedDataParallel, each rank on its half of every batch."""
import sys

import numpy as np

import ember
import ember.distributed as dist
from ember.nn import functional as F
from ember.nn.parallel import DistributedDataParallel as DDP

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from ddp_models import CASES, STEPS, batch, build  # noqa: E402

out_dir = sys.argv[1]
dist.init_process_group("gloo")
rank, world = dist.get_rank(), dist.get_world_size()
for case in CASES:
    model, opt, micro, unused = build(case)
    if rank:
        with ember.no_grad():  # a different start on rank 1: DDP must copy rank 0's weights
            for p in model.parameters():
                p.add_(1.0)
    ddp = DDP(model, find_unused_parameters=unused)
    for step in range(STEPS):
        x, y = batch(case, step)
        half = x.shape[0] // world
        x, y = x[rank * half:(rank + 1) * half], y[rank * half:(rank + 1) * half]
        opt.zero_grad()
        parts = np.array_split(np.arange(half), micro)
        for k, idx in enumerate(parts):
            idx = ember.from_numpy(idx)
            scale = len(idx) / half
            if k < micro - 1:
                with ddp.no_sync():
                    (F.cross_entropy(ddp(x[idx]), y[idx]) * scale).backward()
            else:
                (F.cross_entropy(ddp(x[idx]), y[idx]) * scale).backward()
        opt.step()
    state = {k: v.numpy() for k, v in model.state_dict().items()}
    np.savez(f"{out_dir}/{case}_rank{rank}.npz", **state)
    assert list(ddp.state_dict())[0].startswith("module.")
dist.destroy_process_group()
with open(f"{out_dir}/rank{rank}.json", "w") as f:
    f.write("{}")
