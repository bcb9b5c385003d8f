"""Every collective against NumPy on data each rank can recompute; writes the failures to OUT/rank<r>.json."""
import json
import sys
import traceback

import numpy as np

import ember
import ember.distributed as dist
from ember.distributed import ReduceOp

out_dir = sys.argv[1]
dist.init_process_group("gloo")
rank, world = dist.get_rank(), dist.get_world_size()
failures, checks = [], [0]

DTYPES = ["float32", "float64", "float16", "int8", "int16", "int32", "int64", "uint8", "bool"]
SHAPES = [(), (1,), (7,), (3, 5), (0,), (1025, 3)]


def data(r, shape, dtype, salt=0):
    g = np.random.default_rng(1000 * r + 17 * salt + len(shape))
    if dtype == "bool":
        return np.asarray(g.random(shape) > 0.5)
    if dtype.startswith(("int", "uint")):
        return np.asarray(g.integers(1, 4, size=shape).astype(dtype))
    return np.asarray((g.random(shape) * 4 - 2).astype(dtype))


def check(name, fn):
    checks[0] += 1
    try:
        fn()
    except Exception:
        failures.append(f"{name}: {traceback.format_exc()}")


def expect_equal(got, want, dtype):
    got = np.asarray(got)
    assert got.dtype == np.dtype(want.dtype) or dtype == "bool", (got.dtype, want.dtype)
    if dtype == "float16":
        np.testing.assert_allclose(got.astype(np.float32), want.astype(np.float32), rtol=2e-3, atol=2e-3)
    elif dtype.startswith("float"):
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6)
    else:
        np.testing.assert_array_equal(got, want)


def reduce_numpy(arrays, op, dtype):
    stack = np.stack(arrays)
    if dtype == "bool":
        return {ReduceOp.SUM: stack.any(0), ReduceOp.MAX: stack.any(0), ReduceOp.BOR: stack.any(0),
                ReduceOp.PRODUCT: stack.all(0), ReduceOp.MIN: stack.all(0), ReduceOp.BAND: stack.all(0),
                ReduceOp.BXOR: np.logical_xor.reduce(stack, 0)}[op]
    wide = stack.astype(np.float64) if dtype == "float16" else stack
    r = {ReduceOp.SUM: lambda: wide.sum(0), ReduceOp.AVG: lambda: wide.sum(0) / len(arrays),
         ReduceOp.PRODUCT: lambda: wide.prod(0), ReduceOp.MIN: lambda: wide.min(0), ReduceOp.MAX: lambda: wide.max(0),
         ReduceOp.BAND: lambda: np.bitwise_and.reduce(stack, 0), ReduceOp.BOR: lambda: np.bitwise_or.reduce(stack, 0),
         ReduceOp.BXOR: lambda: np.bitwise_xor.reduce(stack, 0)}[op]()
    return np.asarray(r).astype(dtype)


def valid(op, dtype):
    if op == ReduceOp.AVG:
        return dtype.startswith("float")
    if op in (ReduceOp.BAND, ReduceOp.BOR, ReduceOp.BXOR):
        return not dtype.startswith("float")
    return True


OPS = [ReduceOp.SUM, ReduceOp.AVG, ReduceOp.PRODUCT, ReduceOp.MIN, ReduceOp.MAX, ReduceOp.BAND, ReduceOp.BOR,
       ReduceOp.BXOR]

for dtype in DTYPES:
    for shape in SHAPES:
        for op in OPS:
            def all_reduce_case(dtype=dtype, shape=shape, op=op):
                t = ember.from_numpy(data(rank, shape, dtype).copy())
                if not valid(op, dtype):
                    try:
                        dist.all_reduce(t, op=op)
                    except ValueError:
                        return
                    raise AssertionError("no ValueError")
                work = dist.all_reduce(t, op=op, async_op=(shape == (7,)))
                if work is not None:
                    assert work.wait() is True and work.is_completed()
                expect_equal(t.numpy(), reduce_numpy([data(r, shape, dtype) for r in range(world)], op, dtype), dtype)
            check(f"all_reduce {dtype} {shape} {op}", all_reduce_case)

        def reduce_case(dtype=dtype, shape=shape):
            mine = data(rank, shape, dtype)
            t = ember.from_numpy(mine.copy())
            dist.reduce(t, dst=1, op=ReduceOp.MAX)
            want = reduce_numpy([data(r, shape, dtype) for r in range(world)], ReduceOp.MAX, dtype) if rank == 1 else mine
            expect_equal(t.numpy(), want, dtype)
        check(f"reduce {dtype} {shape}", reduce_case)

        def broadcast_case(dtype=dtype, shape=shape):
            t = ember.from_numpy(data(rank, shape, dtype).copy())
            dist.broadcast(t, src=1)
            expect_equal(t.numpy(), data(1, shape, dtype), dtype)
        check(f"broadcast {dtype} {shape}", broadcast_case)

        def all_gather_case(dtype=dtype, shape=shape):
            out = [ember.from_numpy(np.zeros(shape, dtype)) for _ in range(world)]
            dist.all_gather(out, ember.from_numpy(data(rank, shape, dtype).copy()))
            for r in range(world):
                expect_equal(out[r].numpy(), data(r, shape, dtype), dtype)
        check(f"all_gather {dtype} {shape}", all_gather_case)

        def gather_scatter_case(dtype=dtype, shape=shape):
            lst = [ember.from_numpy(np.zeros(shape, dtype)) for _ in range(world)] if rank == 0 else None
            dist.gather(ember.from_numpy(data(rank, shape, dtype).copy()), lst, dst=0)
            if rank == 0:
                for r in range(world):
                    expect_equal(lst[r].numpy(), data(r, shape, dtype), dtype)
            got = ember.from_numpy(np.zeros(shape, dtype))
            src = [ember.from_numpy(data(r, shape, dtype, salt=5).copy()) for r in range(world)] if rank == 1 else None
            dist.scatter(got, src, src=1)
            expect_equal(got.numpy(), data(rank, shape, dtype, salt=5), dtype)
        check(f"gather/scatter {dtype} {shape}", gather_scatter_case)


def into_tensor_case():
    for dtype in ["float32", "int64", "float16"]:
        x = data(rank, (3, 4), dtype)
        out = ember.from_numpy(np.zeros((3 * world, 4), dtype))
        dist.all_gather_into_tensor(out, ember.from_numpy(x.copy()))
        expect_equal(out.numpy(), np.concatenate([data(r, (3, 4), dtype) for r in range(world)]), dtype)
        big = data(rank, (2 * world, 3), dtype)
        part = ember.from_numpy(np.zeros((2, 3), dtype))
        op = ReduceOp.AVG if dtype.startswith("float") else ReduceOp.SUM
        dist.reduce_scatter_tensor(part, ember.from_numpy(big.copy()), op=op)
        full = reduce_numpy([data(r, (2 * world, 3), dtype) for r in range(world)], op, dtype)
        expect_equal(part.numpy(), full[2 * rank:2 * rank + 2], dtype)


check("all_gather_into_tensor / reduce_scatter_tensor", into_tensor_case)


def noncontiguous_case():
    base = ember.from_numpy(np.arange(12, dtype=np.float32).reshape(3, 4) * (rank + 1))
    view = base.t()  # a strided view: reduced in place through a contiguous copy
    dist.all_reduce(view)
    expect_equal(base.numpy(), np.arange(12, dtype=np.float32).reshape(3, 4) * sum(range(1, world + 1)), "float32")


check("non-contiguous", noncontiguous_case)


def p2p_case():
    if rank == 0:
        dist.send(ember.tensor([1.5, 2.5]), dst=1, tag=3)
        w = dist.isend(ember.arange(5), dst=1)
        w.wait()
        got = ember.zeros(3)
        assert dist.recv(got) == 1
        expect_equal(got.numpy(), np.array([7, 8, 9], np.float32), "float32")
    else:
        a = ember.zeros(2)
        assert dist.recv(a, src=0, tag=3) == 0
        expect_equal(a.numpy(), np.array([1.5, 2.5], np.float32), "float32")
        b = ember.zeros(5, dtype=ember.int64)
        w = dist.irecv(b, src=0)
        assert w.wait()
        expect_equal(b.numpy(), np.arange(5), "int64")
        dist.send(ember.tensor([7.0, 8.0, 9.0]), dst=0)


check("send/recv/isend/irecv", p2p_case)


def p2p_size_mismatch_case():
    if rank == 0:
        dist.send(ember.zeros(4), dst=1)
        dist.send(ember.zeros(2), dst=1)
    else:
        try:
            dist.recv(ember.zeros(3), src=0)
        except RuntimeError as e:
            assert "longer than the receiving tensor ([3], torch.float32, 12 bytes)" in str(e), str(e)
        else:
            raise AssertionError("no error for a longer message")
        try:
            dist.recv(ember.zeros(3), src=0)
        except RuntimeError as e:
            assert "sent 8 bytes" in str(e) and "holds 12" in str(e), str(e)
        else:
            raise AssertionError("no error for a shorter message")


check("recv size mismatch", p2p_size_mismatch_case)


def objects_case():
    objs = [None] * world
    dist.all_gather_object(objs, {"rank": rank, "name": f"r{rank}"})
    assert objs == [{"rank": r, "name": f"r{r}"} for r in range(world)], objs
    lst = [rank, "x"] if rank == 1 else [None, None]
    dist.broadcast_object_list(lst, src=1)
    assert lst == [1, "x"], lst


check("objects", objects_case)


def mismatch_case():
    try:
        dist.all_reduce(ember.zeros(2 + rank))
    except RuntimeError as e:
        assert "rank 0: all_reduce([2] float32" in str(e) and "rank 1: all_reduce([3] float32" in str(e), str(e)
    else:
        raise AssertionError("no error")
    try:
        dist.broadcast(ember.zeros(2, dtype=ember.float64 if rank else ember.float32), src=0)
    except RuntimeError as e:
        assert "float64" in str(e) and "float32" in str(e)
    else:
        raise AssertionError("no error")


check("mismatched shapes", mismatch_case)


def group_case():
    g = dist.new_group([1])
    if rank == 1:
        assert dist.get_world_size(g) == 1 and dist.get_rank(g) == 1
        t = ember.tensor([3.0])
        dist.all_reduce(t, group=g)
        expect_equal(t.numpy(), np.array([3.0], np.float32), "float32")
    else:
        assert g is dist.GroupMember.NON_GROUP_MEMBER and dist.get_rank(g) == -1
        assert dist.all_reduce(ember.tensor([3.0]), group=g) is None
    whole = dist.new_group()
    t = ember.tensor([float(rank)])
    dist.all_reduce(t, group=whole)
    expect_equal(t.numpy(), np.array([sum(range(world))], np.float32), "float32")
    dist.barrier(group=whole)


check("new_group", group_case)


def checkpoint_case():
    import os
    path = os.path.join(out_dir, "ckpt.pt")
    state = {"w": ember.arange(6.0).reshape(2, 3), "step": 4}
    if rank == 0:
        ember.save(state, path)
    dist.barrier()
    loaded = ember.load(path)
    assert loaded["step"] == 4 and np.array_equal(loaded["w"].numpy(), state["w"].numpy())


check("checkpoint: rank 0 writes, every rank loads", checkpoint_case)

import os  # noqa: E402
env = {k: os.environ.get(k) for k in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "LOCAL_WORLD_SIZE", "MASTER_ADDR")}
dist.barrier()
dist.destroy_process_group()
with open(f"{out_dir}/rank{rank}.json", "w") as f:
    json.dump({"checks": checks[0], "failures": failures, "env": env, "backend_initialized": dist.is_initialized()}, f)
