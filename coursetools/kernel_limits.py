"""Run a program under resource limits (the grader starts each kernel with it):

    python -m coursetools.kernel_limits [--memory MB] [--processes N] [--cpu-time S] -- PROG ARGS

The limits are ``setrlimit`` limits, inherited by everything the program starts, and a
program cannot raise them again:

- ``--memory``: RLIMIT_DATA, the private writable memory of each process (heap, anonymous
  mmaps, thread stacks). An allocation past it fails (``MemoryError`` in Python). Not
  RLIMIT_AS: TensorFlow, and CUDA above all, reserve far more address space than they use.
- ``--processes``: RLIMIT_NPROC, processes and threads. Inside the grader's sandbox it counts
  only the sandbox's own tasks (a user namespace of its own); outside one it counts all of the
  user's processes, so the grader does not set it there.
- ``--cpu-time``: RLIMIT_CPU, CPU seconds of each process (all its threads together): at the
  limit the process gets SIGXCPU, 5 s later SIGKILL.

Core dumps are turned off.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
from collections.abc import Sequence


def _set(which: int, soft: int, hard: int | None = None) -> None:
    _, old_hard = resource.getrlimit(which)
    hard = soft if hard is None else hard
    if old_hard != resource.RLIM_INFINITY:
        hard = min(hard, old_hard)
        soft = min(soft, hard)
    resource.setrlimit(which, (soft, hard))


def apply(memory_mb: int | None = None, processes: int | None = None,
          cpu_seconds: int | None = None) -> None:
    """Set the limits on this process (and so on what it starts from now on)."""
    _set(resource.RLIMIT_CORE, 0)
    if memory_mb:
        _set(resource.RLIMIT_DATA, int(memory_mb) << 20)
    if processes:
        _set(resource.RLIMIT_NPROC, int(processes))
    if cpu_seconds:
        _set(resource.RLIMIT_CPU, int(cpu_seconds), int(cpu_seconds) + 5)


def prefix(memory_mb: int | None = None, processes: int | None = None,
           cpu_seconds: int | None = None) -> list[str]:
    """The command line that runs what follows it under these limits."""
    argv = [sys.executable, "-m", "coursetools.kernel_limits"]
    for flag, value in (("--memory", memory_mb), ("--processes", processes),
                        ("--cpu-time", cpu_seconds)):
        if value:
            argv += [flag, str(int(value))]
    return argv + ["--"]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m coursetools.kernel_limits")
    parser.add_argument("--memory", type=int, help="MiB of private memory per process")
    parser.add_argument("--processes", type=int, help="processes and threads")
    parser.add_argument("--cpu-time", type=int, help="CPU seconds per process")
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("no command given")
    apply(args.memory, args.processes, args.cpu_time)
    os.execvp(command[0], command)
    return 127  # not reached


if __name__ == "__main__":
    sys.exit(main())
