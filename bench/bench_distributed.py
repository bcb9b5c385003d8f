"""ember.distributed on this machine: all-reduce bandwidth against MPI's own, and a LeNet epoch on 2 processes.

    .venv/bin/python bench/bench_distributed.py            # both parts; prints tables, writes bench/results/distributed.json

Part 1 (2 processes under mpiexec): for each message size, the time of ember's `dist.all_reduce` on a float32
tensor and of mpi4py's `Allreduce(IN_PLACE, array)` on the same NumPy buffer (the floor: what MPI itself
costs), median of repeats; bus bandwidth = 2 (n - 1) / n x bytes / time, as nccl-tests reports it.

Part 2: one training epoch of the tutorials' LeNet (sigmoid, batch 256, SGD) on 60,000 MNIST-shaped images:
1 process with 2 threads against 2 processes with 1 thread each under DistributedDataParallel (each with half
of every batch, so the global batch and the arithmetic are the same). The DDP run also reports the
all-reduce time per step and the share of it that overlapped the backward pass (from the bucket's start to
the end of backward, over the start-to-done time of all reductions).
"""
import json
import os
import pathlib
import statistics
import subprocess
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"


def _launch(*args, nproc=2, threads=1):
    env = dict(os.environ, PYTHONPATH=str(ROOT), OMP_NUM_THREADS=str(threads))
    cmd = [sys.executable, "-m", "ember.distributed.run", "--nproc-per-node", str(nproc), __file__, *args]
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=1800)
    if out.returncode:
        raise SystemExit(out.stderr)
    return [json.loads(line) for line in out.stdout.splitlines() if line.startswith("{")]


def worker_allreduce():
    import numpy as np
    from mpi4py import MPI

    import ember
    import ember.distributed as dist
    dist.init_process_group("mpi")
    comm, n, rows = MPI.COMM_WORLD, dist.get_world_size(), []
    for size in [4 << 10, 64 << 10, 1 << 20, 4 << 20, 16 << 20, 64 << 20]:
        count = size // 4
        # zeros: repeated sums of ones would grow to inf, and MPI's reduction slows down on such values
        t = ember.zeros(count)
        a = t.numpy()   # the same memory: where a buffer lands (heap or mmap, page backing) moved either side by 20 %
        assert isinstance(a, np.ndarray) and a.dtype == np.float32
        reps = max(40, min(400, (1 << 30) // size))
        times = {"ember": [], "mpi": []}
        for i in range(reps):
            # alternate which goes first: the second of a fixed pair ran measurably slower at 4-16 MB
            for name in (("mpi", "ember") if i % 2 else ("ember", "mpi")):
                comm.Barrier()
                start = time.perf_counter()
                if name == "mpi":
                    comm.Allreduce(MPI.IN_PLACE, a, op=MPI.SUM)
                else:
                    dist.all_reduce(t)
                times[name].append(time.perf_counter() - start)
        row = {"bytes": size}
        for name, ts in times.items():
            med = statistics.median(ts)
            row[name + "_s"] = med
            row[name + "_busbw_GBps"] = 2 * (n - 1) / n * size / med / 1e9
        row["ratio"] = row["ember_s"] / row["mpi_s"]
        rows.append(row)
    if dist.get_rank() == 0:
        for row in rows:
            print(json.dumps(row))


def _lenet():
    from ember import nn
    return nn.Sequential(
        nn.Conv2d(1, 6, kernel_size=5, padding=2), nn.Sigmoid(), nn.AvgPool2d(kernel_size=2, stride=2),
        nn.Conv2d(6, 16, kernel_size=5), nn.Sigmoid(), nn.AvgPool2d(kernel_size=2, stride=2),
        nn.Flatten(), nn.Linear(16 * 5 * 5, 120), nn.Sigmoid(), nn.Linear(120, 84), nn.Sigmoid(), nn.Linear(84, 10))


def worker_epoch(distributed):
    import numpy as np

    import ember
    from ember.nn import functional as F
    threads = int(os.environ.get("OMP_NUM_THREADS", "2"))
    ember.set_num_threads(threads)
    rank, world = 0, 1
    ember.manual_seed(0)
    model = _lenet()
    if distributed:
        import ember.distributed as dist
        from ember.nn.parallel import DistributedDataParallel as DDP
        dist.init_process_group("mpi")
        rank, world = dist.get_rank(), dist.get_world_size()
        net = DDP(model)
    else:
        net = model
    opt = ember.optim.SGD(model.parameters(), lr=0.9)
    g = np.random.default_rng(0)
    images = g.random((60000, 1, 28, 28), dtype=np.float32)
    labels = g.integers(0, 10, 60000)
    batch = 256
    comm, overlap = [], []
    start = time.perf_counter()
    for i in range(0, 60000, batch):
        lo, hi = i, min(i + batch, 60000)
        per = (hi - lo) // world
        x = ember.from_numpy(images[lo + rank * per:lo + (rank + 1) * per])
        y = ember.from_numpy(labels[lo + rank * per:lo + (rank + 1) * per])
        opt.zero_grad()
        F.cross_entropy(net(x), y).backward()
        opt.step()
        if distributed:
            t = net._timing
            if t.get("first_launch") is not None:
                total = t["reduced"] - t["first_launch"]
                comm.append(total)
                overlap.append(min(1.0, (t["backward_end"] - t["first_launch"]) / total) if total > 0 else 1.0)
    took = time.perf_counter() - start
    if rank == 0:
        row = {"mode": f"{world} process(es) x {threads} thread(s)", "epoch_s": took}
        if distributed:
            row["allreduce_ms_per_step"] = 1e3 * statistics.median(comm)
            row["overlap_share"] = statistics.median(overlap)
        print(json.dumps(row))


def main():
    from bench.harness import machine_info
    machine = machine_info()
    print("machine:", json.dumps(machine))
    print("all-reduce, 2 processes (float32 SUM); ember vs mpi4py Allreduce on the same buffer")
    rows = _launch("allreduce")
    print(f"{'size':>8} {'ember ms':>9} {'MPI ms':>9} {'ember GB/s':>11} {'MPI GB/s':>9} {'ratio':>6}")
    for r in rows:
        size = r["bytes"]
        label = f"{size >> 20} MB" if size >= 1 << 20 else f"{size >> 10} KB"
        print(f"{label:>8} {1e3 * r['ember_s']:9.3f} {1e3 * r['mpi_s']:9.3f} {r['ember_busbw_GBps']:11.2f} "
              f"{r['mpi_busbw_GBps']:9.2f} {r['ratio']:6.2f}")
    if "--allreduce-only" in sys.argv:
        return
    print("\nLeNet epoch (60,000 images of 28x28, batch 256)")
    single = json.loads(subprocess.run([sys.executable, __file__, "epoch-single"], capture_output=True, text=True,
                                       env=dict(os.environ, PYTHONPATH=str(ROOT), OMP_NUM_THREADS="2"),
                                       check=True).stdout.strip().splitlines()[-1])
    ddp = _launch("epoch-ddp")[0]
    for r in (single, ddp):
        extra = ""
        if "overlap_share" in r:
            extra = f"  all-reduce {r['allreduce_ms_per_step']:.2f} ms/step, overlapped {100 * r['overlap_share']:.0f} %"
        print(f"{r['mode']:>26}: {r['epoch_s']:.2f} s{extra}")
    print(f"ratio (2 x 1 DDP / 1 x 2): {ddp['epoch_s'] / single['epoch_s']:.2f}")
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "distributed.json").write_text(json.dumps({"machine": machine, "allreduce": rows,
                                                          "epoch": [single, ddp]}, indent=1))


if __name__ == "__main__":
    what = sys.argv[1] if len(sys.argv) > 1 else "main"
    if what == "allreduce":
        worker_allreduce()
    elif what == "epoch-single":
        worker_epoch(False)
    elif what == "epoch-ddp":
        worker_epoch(True)
    else:
        sys.path.insert(0, str(ROOT))
        main()
