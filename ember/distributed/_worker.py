"""What mpiexec runs in each process: torchrun's environment from MPI's, then the user's script.
An exception in the script aborts the whole job (no rank is left waiting in a collective)."""
import os
import runpy
import sys
import traceback

_FROM_MPI = {"RANK": "OMPI_COMM_WORLD_RANK", "WORLD_SIZE": "OMPI_COMM_WORLD_SIZE",
             "LOCAL_RANK": "OMPI_COMM_WORLD_LOCAL_RANK", "LOCAL_WORLD_SIZE": "OMPI_COMM_WORLD_LOCAL_SIZE",
             "GROUP_RANK": "OMPI_COMM_WORLD_NODE_RANK"}


def main():
    for ours, mpi in _FROM_MPI.items():
        if mpi in os.environ:
            os.environ.setdefault(ours, os.environ[mpi])
    as_module = sys.argv[1] == "-m"
    target = sys.argv[2] if as_module else sys.argv[1]
    sys.argv = sys.argv[2:] if as_module else sys.argv[1:]
    if not as_module:
        sys.path.insert(0, os.path.dirname(os.path.abspath(target)))
    try:
        if as_module:
            runpy.run_module(target, run_name="__main__", alter_sys=True)
        else:
            runpy.run_path(target, run_name="__main__")
    except SystemExit as e:
        if e.code not in (None, 0) and int(os.environ.get("WORLD_SIZE", "1")) > 1:
            _abort(f"exited with status {e.code}", e.code if isinstance(e.code, int) else 1)
        raise
    except BaseException:
        traceback.print_exc()
        _abort("raised an exception (traceback above)", 1)


def _abort(why, code):
    rank = os.environ.get("RANK", "?")
    sys.stderr.write(f"[rank {rank}] {why}; aborting the job\n")
    sys.stderr.flush()
    sys.stdout.flush()
    try:
        from mpi4py import MPI
        MPI.COMM_WORLD.Abort(code)
    finally:
        os._exit(code)


if __name__ == "__main__":
    main()
