"""Run one notebook for the grader, in its own process (inside the sandbox when there is one):

    python -m coursetools.execute_one  < job.json  > result.json

The job (stdin, one JSON document) holds the notebook to run and the settings of
:func:`coursetools.execute.run_cells`, plus a ``nonce`` chosen by the grader. The result
(stdout) holds the same nonce, every code cell's :class:`~coursetools.execute.CellResult`,
the executed notebook and the kernel's log. The kernel runs in this process's working
directory.

The nonce makes a result hard to forge from the kernel, which runs the student's code as the
same user: this process reads the job before the kernel starts and makes itself
non-dumpable first, so the kernel can read neither its memory nor its pipes
(``/proc/<pid>/mem``, ``/proc/<pid>/fd``), and the kernel does not inherit the pipe to the
grader. (Inside bubblewrap, the sandbox's init process is protected the same way.)
"""

from __future__ import annotations

import ctypes
import json
import os
import sys
import tempfile
import traceback
from dataclasses import asdict
from pathlib import Path

LOG_LIMIT = 64_000  # characters of the kernel's own log sent back
PR_SET_DUMPABLE = 4


def _not_dumpable() -> None:
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)
    except (OSError, AttributeError):  # not Linux: nothing to protect the same way
        pass


def main() -> int:
    _not_dumpable()
    result_fd = os.dup(1)
    os.dup2(2, 1)  # anything else printed here goes to stderr, not into the result
    job = json.loads(sys.stdin.buffer.read().decode("utf-8"))
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    answer: dict = {"nonce": job.get("nonce", ""), "results": [], "notebook": None, "log": "",
                    "error": ""}
    # jsonschema (under nbformat) builds an IRI grammar at import when rfc3987-syntax is
    # installed, seconds for each run; notebooks never need it.
    sys.modules.setdefault("rfc3987_syntax", None)
    try:
        import nbformat

        from coursetools.execute import KernelStartError, run_cells

        nb = nbformat.from_dict(job["notebook"])
        with tempfile.TemporaryDirectory(prefix="kernel-log-") as logs:
            log = Path(logs) / "kernel.log"
            try:
                results = run_cells(nb, timeout=job["timeout"], cwd=Path.cwd(), log=log,
                                    env=job.get("env") or None,
                                    startup_timeout=job.get("startup_timeout", 120),
                                    interrupt_grace=job.get("interrupt_grace", 30),
                                    wall=job.get("wall"), limits=job.get("limits") or None,
                                    output_limit=job.get("output_limit"))
                answer["results"] = [asdict(r) for r in results]
            except KernelStartError as exc:
                answer["error"] = str(exc)
            if log.exists():
                answer["log"] = log.read_text(encoding="utf-8", errors="replace")[-LOG_LIMIT:]
        answer["notebook"] = nb
    except Exception as exc:  # report, so the grader can say what went wrong
        answer["error"] = (f"the grader's runner failed ({type(exc).__name__}: {exc})\n"
                           + traceback.format_exc()[-2000:])
    with os.fdopen(result_fd, "w", encoding="utf-8") as out:
        json.dump(answer, out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
