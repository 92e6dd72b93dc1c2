"""Run a notebook cell by cell in a fresh kernel and record what each code cell did.

Unlike ``nbclient.execute`` it does not stop at the first error: every cell runs, and a
cell that runs past its timeout is interrupted and the run goes on. If the kernel dies, or
does not stop when interrupted, or the whole notebook runs past its time limit, the
remaining cells are marked "not run". The kernel can be started under resource limits
(:mod:`coursetools.kernel_limits`), and a cell's output can be capped.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
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
    kernels the machine has installed; nbval's --nbval-current-env does the same.
    ``prefix`` goes before the command (e.g. :func:`coursetools.kernel_limits.prefix`)."""

    def __init__(self, prefix: list[str] | None = None, **kwargs: Any):
        super().__init__(**kwargs)
        self._prefix = list(prefix or [])

    def get_kernel_spec(self, kernel_name: str, *args: Any, **kwargs: Any) -> KernelSpec:
        argv = self._prefix + [sys.executable, "-m", "ipykernel_launcher", "-f",
                               "{connection_file}"]
        return KernelSpec(argv=argv, display_name="Python 3 (course)", language="python",
                          resource_dir="")


class _CappedClient(NotebookClient):
    """A NotebookClient that keeps at most ``output_limit`` bytes of each cell's output
    (errors always kept), so a cell printing in a loop cannot fill the grader's memory."""

    output_limit: int | None = None
    _sizes: dict[int, int]

    def output(self, outs: list, msg: dict[str, Any], display_id: str | None,
               cell_index: int) -> Any:
        if self.output_limit and msg.get("msg_type") != "error":
            sizes = self.__dict__.setdefault("_sizes", {})
            size = len(repr(msg.get("content", "")))
            before = sizes.get(cell_index, 0)
            sizes[cell_index] = before + size
            if before + size > self.output_limit:
                if before <= self.output_limit:
                    outs.append(nbformat.v4.new_output(
                        "stream", name="stderr",
                        text=f"\n[output cut: more than {self.output_limit} bytes]\n"))
                return None
        return super().output(outs, msg, display_id, cell_index)


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
              startup_timeout: int = 120, interrupt_grace: float = 30,
              wall: float | None = None, limits: dict[str, int] | None = None,
              output_limit: int | None = None) -> list[CellResult]:
    """Execute every code cell of ``nb`` in order, in a fresh kernel; ``nb`` gets the outputs.

    ``timeout`` is per cell (seconds); ``wall`` (seconds from the call, kernel start
    included) for the whole notebook: the cell running when it is reached is interrupted and
    the rest are not run. The kernel's environment is this process's plus KERNEL_ENV plus
    ``env``; it runs in ``cwd``, under ``limits`` (``memory_mb``, ``processes``,
    ``cpu_seconds``: see :mod:`coursetools.kernel_limits`); its own stdout/stderr (not the
    cells' output) go to ``log``, or nowhere. A cell still running after an interrupt plus
    ``interrupt_grace`` seconds counts as hung. At most ``output_limit`` bytes of each cell's
    output are kept. KernelStartError if the kernel cannot start.
    """
    deadline = time.monotonic() + wall if wall else None
    prefix = None
    if limits:
        from coursetools.kernel_limits import prefix as limits_prefix

        prefix = limits_prefix(**limits)
    km = AsyncKernelManager(kernel_name="python3",
                            kernel_spec_manager=_CurrentPython(prefix=prefix))
    client = _CappedClient(
        nb, km=km, timeout=timeout, startup_timeout=startup_timeout, allow_errors=False,
        kernel_name="python3", interrupt_on_timeout=True,
        error_on_timeout={"ename": _TIMEOUT, "evalue": f"timed out after {timeout} s",
                          "traceback": []})
    client.output_limit = output_limit
    kernel_env = {**os.environ, **KERNEL_ENV, **(env or {})}
    sink = open(log, "ab") if log is not None else contextlib.nullcontext(subprocess.DEVNULL)
    with sink as output:
        return _run_all(client, nb, timeout, interrupt_grace, deadline, wall,
                        env=kernel_env, cwd=str(cwd or Path.cwd()), stdout=output,
                        stderr=output)


def _run_all(client: NotebookClient, nb: nbformat.NotebookNode, timeout: int, grace: float,
             deadline: float | None, wall: float | None, **kernel_args: Any
             ) -> list[CellResult]:
    results: list[CellResult] = []
    stopped = ""
    try:
        with client.setup_kernel(cleanup_kc=True, **kernel_args):
            for index, cell in enumerate(nb.cells):
                if cell.cell_type != "code" or not cell.source.strip():
                    continue
                left = deadline - time.monotonic() if deadline is not None else timeout
                if not stopped and left < 1:
                    stopped = f"not run: the notebook's time limit of {wall:.0f} s was reached"
                if stopped:
                    results.append(CellResult(index, "not run", evalue=stopped))
                    continue
                cut = left < timeout  # this cell gets less than the per-cell timeout
                limit = max(1, int(left)) if cut else timeout
                client.timeout = limit
                client.error_on_timeout = {"ename": _TIMEOUT, "evalue": (
                    f"stopped at the notebook's time limit of {wall:.0f} s" if cut
                    else f"timed out after {timeout} s"), "traceback": []}
                result, stopped = _run_one(client, cell, index, timeout, grace)
                if cut and result.status == "timeout":
                    result.evalue = (f"stopped at the notebook's time limit of {wall:.0f} s "
                                     "(interrupted)")
                    stopped = stopped or (f"not run: the notebook's time limit of {wall:.0f} s "
                                          "was reached")
                results.append(result)
    except (RuntimeError, TimeoutError, OSError) as exc:
        if not results:
            raise KernelStartError(f"could not start a Python kernel: {exc}") from exc
        raise
    return results


def _death(client: NotebookClient) -> str:
    """Why the kernel died, from its exit status when the process is still known."""
    process = getattr(getattr(client.km, "provisioner", None), "process", None)
    code = process.poll() if process is not None else None
    if code is None or code >= 0:
        return "the kernel died (out of memory, or the code crashed Python)"
    sig = -code
    if sig == signal.SIGXCPU:
        return "the kernel was stopped: it used up its CPU-time limit"
    name = signal.Signals(sig).name if sig in signal.valid_signals() else f"signal {sig}"
    if sig == signal.SIGKILL:
        return f"the kernel was killed ({name}: out of memory, or its CPU-time limit)"
    return f"the kernel died ({name}: out of memory, or the code crashed Python)"


def _run_one(client: NotebookClient, cell: nbformat.NotebookNode, index: int,
             timeout: int, grace: float) -> tuple[CellResult, str]:
    """Run one cell; the result and, if the kernel is gone or stuck, why the run stops."""
    start = time.monotonic()
    limit = client.timeout
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
        return (CellResult(index, "error", "DeadKernelError", _death(client),
                           seconds=time.monotonic() - start),
                f"not run: the kernel died in cell {index}")
    # timed out: nbclient has interrupted the kernel; is it listening again?
    if run_sync(_wait_until_idle)(client, grace):
        return CellResult(index, "timeout", "Timeout",
                          f"timed out after {limit} s (interrupted)", seconds=seconds), ""
    return (CellResult(index, "timeout", "Timeout", f"timed out after {limit} s and did "
                       "not stop when interrupted", seconds=seconds),
            f"not run: cell {index} hung (timed out, ignored the interrupt)")
