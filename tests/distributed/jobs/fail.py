"""Rank 1 raises while rank 0 waits in a collective: the job must end, not hang."""
import ember
import ember.distributed as dist

dist.init_process_group("gloo")
if dist.get_rank() == 1:
    raise ZeroDivisionError("rank 1 divides by zero")
dist.all_reduce(ember.ones(3))   # rank 0 waits here until the abort
