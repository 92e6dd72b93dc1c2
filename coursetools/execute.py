"""Run a notebook cell by cell in a fresh kernel and record what each code cell did.

Unlike ``nbclient.execute`` it does not stop at the first error: every cell runs, and a
cell that runs past its timeout is interrupted and the run goes on. If the kernel dies, or
does not stop when interrupted, the remaining cells are marked "not run".
"""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from queue import Empty
from typing import Any

import nbformat
from jupyter_client.kernelspec import KernelSpec, KernelSpecManager
from jupyter_client.manager import AsyncKernelManager
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, DeadKernelError
from nbclient.util import run_sync

KERNEL_ENV = {"COURSE_OFFLINE": "1", "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONHASHSEED": "0"}
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_ARROW = re.compile(r"^-*>\s*(\d+)\s(.*)$")
_TIMEOUT = "CellTimeout"  # the error nbclient reports for a cell it interrupted


@dataclass
class CellResult:
    """What one code cell did: status "ok", "error", "timeout" or "not run"."""

    index: int
    status: str
    ename: str = ""
    evalue: str = ""
    line: str = ""  # the source line that raised, when the traceback shows it
    seconds: float = 0.0

    @property
    def summary(self) -> str:
        """One line for a report: the exception and its message."""
        if self.status == "ok":
            return ""
        if self.status == "not run":
            return self.evalue or "not run"
        if self.status == "timeout":
            return self.evalue
        first = self.evalue.strip().splitlines()[0] if self.evalue.strip() else ""
        if first:
            return f"{self.ename}: {first}"
        return f"{self.ename} at `{self.line}`" if self.line else self.ename


class KernelStartError(RuntimeError):
    """The kernel could not be started."""


class _CurrentPython(KernelSpecManager):
    """Kernel specs that always run this Python (the course's environment), whatever
    kernels the machine has installed; nbval's --nbval-current-env does the same."""

    def get_kernel_spec(self, kernel_name: str, *args: Any, **kwargs: Any) -> KernelSpec:
        argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
        return KernelSpec(argv=argv, display_name="Python 3 (course)", language="python",
                          resource_dir="")


def failing_line(traceback: list[str]) -> str:
    """The source line IPython's traceback points at (``----> 3 assert x``), or ''."""
    line = ""
    for chunk in traceback:
        for text in _ANSI.sub("", chunk).splitlines():
            match = _ARROW.match(text.strip())
            if match:
                line = match.group(2).strip()
    return line


def _error_output(cell: nbformat.NotebookNode) -> dict[str, Any]:
    for output in cell.get("outputs", []):
        if output.get("output_type") == "error":
            return output
    return {}


async def _wait_until_idle(client: NotebookClient, seconds: float) -> bool:
    """After an interrupt: True when the kernel answers a trivial request within seconds."""
    kc = client.kc
    msg_id = kc.execute("pass", store_history=False)
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        try:
            msg = await kc.shell_channel.get_msg(timeout=left)
        except Empty:
            return False
        if msg.get("parent_header", {}).get("msg_id") == msg_id:
            return True
    return False


def run_cells(nb: nbformat.NotebookNode, *, timeout: int = 120, cwd: Path | None = None,
              env: dict[str, str] | None = None, log: Path | None = None,
              startup_timeout: int = 120, interrupt_grace: float = 30) -> list[CellResult]:
    """Execute every code cell of ``nb`` in order, in a fresh kernel; ``nb`` gets the outputs.

    ``timeout`` is per cell (seconds). The kernel's environment is this process's plus
    KERNEL_ENV plus ``env``; it runs in ``cwd``; its own stdout/stderr (not the cells'
    output) go to ``log``, or nowhere. A cell still running after an interrupt plus
    ``interrupt_grace`` seconds counts as hung. KernelStartError if it cannot start.
    """
    km = AsyncKernelManager(kernel_name="python3", kernel_spec_manager=_CurrentPython())
    client = NotebookClient(
        nb, km=km, timeout=timeout, startup_timeout=startup_timeout, allow_errors=False,
        kernel_name="python3", interrupt_on_timeout=True,
        error_on_timeout={"ename": _TIMEOUT, "evalue": f"timed out after {timeout} s",
                          "traceback": []})
    kernel_env = {**os.environ, **KERNEL_ENV, **(env or {})}
    sink = open(log, "ab") if log is not None else contextlib.nullcontext(subprocess.DEVNULL)
    with sink as output:
        return _run_all(client, nb, timeout, interrupt_grace, env=kernel_env,
                        cwd=str(cwd or Path.cwd()), stdout=output, stderr=output)


def _run_all(client: NotebookClient, nb: nbformat.NotebookNode, timeout: int, grace: float,
             **kernel_args: Any) -> list[CellResult]:
    results: list[CellResult] = []
    stopped = ""
    try:
        with client.setup_kernel(cleanup_kc=True, **kernel_args):
            for index, cell in enumerate(nb.cells):
                if cell.cell_type != "code" or not cell.source.strip():
                    continue
                if stopped:
                    results.append(CellResult(index, "not run", evalue=stopped))
                    continue
                result, stopped = _run_one(client, cell, index, timeout, grace)
                results.append(result)
    except (RuntimeError, TimeoutError, OSError) as exc:
        if not results:
            raise KernelStartError(f"could not start a Python kernel: {exc}") from exc
        raise
    return results


def _run_one(client: NotebookClient, cell: nbformat.NotebookNode, index: int,
             timeout: int, grace: float) -> tuple[CellResult, str]:
    """Run one cell; the result and, if the kernel is gone or stuck, why the run stops."""
    start = time.monotonic()
    try:
        client.execute_cell(cell, index)
        return CellResult(index, "ok", seconds=time.monotonic() - start), ""
    except CellExecutionError as exc:
        seconds = time.monotonic() - start
        if exc.ename != _TIMEOUT:
            output = _error_output(cell)
            return CellResult(index, "error", exc.ename, exc.evalue,
                              failing_line(output.get("traceback", [])), seconds), ""
    except DeadKernelError:
        return (CellResult(index, "error", "DeadKernelError", "the kernel died (out of "
                           "memory, or the code crashed Python)",
                           seconds=time.monotonic() - start),
                f"not run: the kernel died in cell {index}")
    # timed out: nbclient has interrupted the kernel; is it listening again?
    if run_sync(_wait_until_idle)(client, grace):
        return CellResult(index, "timeout", "Timeout",
                          f"timed out after {timeout} s (interrupted)", seconds=seconds), ""
    return (CellResult(index, "timeout", "Timeout", f"timed out after {timeout} s and did "
                       "not stop when interrupted", seconds=seconds),
            f"not run: cell {index} hung (timed out, ignored the interrupt)")
