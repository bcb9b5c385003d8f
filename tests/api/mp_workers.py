"""Functions the multiprocessing tests run in child processes (importable by name under 'spawn')."""
import ember


def write_row(i, shared):
    shared[i] = float(i + 1)           # each process fills its own row of the parent's tensor


def fail_in_one(i):
    if i == 1:
        raise ValueError("boom in child 1")


def exit_with_code(i):
    import os
    os._exit(3)


def add_one_from_queue(inbox, outbox):
    t = inbox.get()
    t += 1                              # in place, in the shared memory the parent sees
    outbox.put(ember.full((2,), 7.0))   # a tensor made here travels back through shared memory too
    inbox.get()                         # as with PyTorch, the sender stays alive until it has been received


def hogwild_step(i, model):
    with ember.no_grad():
        for p in model.parameters():
            p.add_(1.0)
