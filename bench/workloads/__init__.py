"""Workload groups. Importing this package registers them (in this order) in registry.GROUPS.

To add a group, write a module here (see tiny.py for a minimal one) and import it below.
"""
from . import tiny, ops, imports, train_step, epoch, dataloader, memory, rnn  # noqa: F401
