"""A pytest plugin: per-notebook wall time against the budget each notebook states.

Loaded by ``-p coursetools.timing`` (see pyproject.toml). It sums the setup, call and
teardown time of every nbval cell item of a notebook (the kernel start lands in the first
cell's setup), prints a table slowest first, and writes it to build/notebook-times.json,
with how it was measured: serially or by N parallel workers (pytest-xdist, ``make test``),
and on which device (as each notebook's ``helpers.setup()`` reported it).

A budget is the wall time of the notebook run alone on a 2-core CPU. A serial run
(``make timing``) compares the two directly. Under N parallel workers a notebook's wall time
is inflated by its neighbours, by at most N times when the CPU is shared fairly, so a
parallel run can say "under" (wall <= budget: under alone too) and "OVER" (wall > N x budget:
over alone too) for sure, and says "check serially" in between. It never fails a test:
budgets are read from this table, not from a flaky timed test.

The JSON also lists each notebook's slowest code cells (nbval's ``Cell N`` counts code cells
from 0; cell 0's time includes the kernel's start), and the table is followed by one line per
notebook naming its slowest cell: where to look first when a notebook gets slow.
"""

from __future__ import annotations

import json
import os
from collections import defaultdict
from pathlib import Path

import pytest

from coursetools.notebooks import ROOT, cell_source, notebook_budget, read_notebook

_times: dict[str, float] = defaultdict(float)
_cells: dict[str, dict[int, float]] = defaultdict(lambda: defaultdict(float))
_failed: set[str] = set()
BUILD = Path(os.environ.get("COURSE_TIMING_DIR", ROOT / "build"))  # tests point it elsewhere
OUTPUT = BUILD / "notebook-times.json"
RUNTIME_LOG = BUILD / "runtime-log.jsonl"
UNSURE = "check serially (make timing)"
SLOWEST = 5  # cells per notebook in the JSON


def budget_status(seconds: float, budget: int | None, workers: int = 0) -> str:
    """"under", "OVER", "no budget", or (parallel runs only) ``UNSURE``."""
    if budget is None:
        return "no budget"
    if seconds <= budget:
        return "under"
    if workers <= 1 or seconds > workers * budget:
        return "OVER"
    return UNSURE


def workers_of(config: pytest.Config) -> int:
    """The number of pytest-xdist workers of this run (0: serial)."""
    if getattr(config.option, "dist", "no") == "no":
        return 0
    return int(getattr(config.option, "numprocesses", 0) or 0)


def _is_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")


def pytest_configure(config: pytest.Config) -> None:
    """Ask every notebook's ``helpers.setup()`` to log its device line (kernels inherit it)."""
    if _is_worker(config):
        return
    RUNTIME_LOG.parent.mkdir(parents=True, exist_ok=True)
    RUNTIME_LOG.write_text("", encoding="utf-8")
    os.environ["COURSE_RUNTIME_LOG"] = str(RUNTIME_LOG)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    path = report.nodeid.split("::", 1)[0]
    if not path.endswith(".ipynb"):
        return
    _times[path] += report.duration
    cell = cell_number(report.nodeid)
    if cell is not None:
        _cells[path][cell] += report.duration
    if report.failed:
        _failed.add(path)


def cell_number(nodeid: str) -> int | None:
    """N of an nbval item ``path.ipynb::Cell N``; None for any other node id."""
    _, _, name = nodeid.partition("::")
    kind, _, number = name.partition(" ")
    return int(number) if kind == "Cell" and number.isdigit() else None


def code_cell_first_lines(path: Path) -> list[str]:
    """The first non-blank source line of each code cell, in nbval's order (empty on error)."""
    try:
        cells = read_notebook(path).get("cells", [])
    except (OSError, ValueError):
        return []
    lines = []
    for cell in cells:
        if cell.get("cell_type") == "code":
            text = [line.strip() for line in cell_source(cell).splitlines() if line.strip()]
            lines.append(text[0] if text else "")
    return lines


def slowest_cells(cells: dict[int, float], first_lines: list[str], n: int = SLOWEST
                  ) -> list[dict[str, object]]:
    """The ``n`` slowest cells, slowest first: cell number, seconds, first source line."""
    top = sorted(cells.items(), key=lambda item: (-item[1], item[0]))[:n]
    return [{"cell": cell, "seconds": round(seconds, 1),
             "first_line": first_lines[cell] if cell < len(first_lines) else ""}
            for cell, seconds in top]


def timing_rows(times: dict[str, float], root: Path = ROOT, workers: int = 0,
                cells: dict[str, dict[int, float]] | None = None
                ) -> list[dict[str, object]]:
    """Rows of the timing table, slowest first, each with its slowest cells (of ``cells``:
    seconds per nbval cell number, per notebook)."""
    rows = []
    for path, seconds in times.items():
        try:
            budget = notebook_budget(root / path)
        except (OSError, ValueError):
            budget = None
        per_cell = (cells or {}).get(path, {})
        rows.append({"notebook": path, "seconds": round(seconds, 1), "budget": budget,
                     "status": budget_status(seconds, budget, workers),
                     "failed": path in _failed,
                     "slowest_cells": slowest_cells(per_cell, code_cell_first_lines(root / path))
                     if per_cell else []})
    return sorted(rows, key=lambda r: -float(r["seconds"]))


def devices(log: Path = RUNTIME_LOG) -> list[str]:
    """The devices the notebooks' ``helpers.setup()`` reported, in order, without repeats."""
    try:
        lines = log.read_text(encoding="utf-8").splitlines()
    except OSError:
        return []
    found: list[str] = []
    for line in lines:
        try:
            device = str(json.loads(line)["device"])
        except (ValueError, KeyError, TypeError):
            continue
        if device not in found:
            found.append(device)
    return found


def describe_run(workers: int, seen: list[str]) -> str:
    """How the times were measured, for the table's header and the JSON."""
    mode = f"{workers} parallel workers" if workers > 1 else "serial"
    return f"{mode}; device: {', '.join(seen) if seen else 'not reported'}"


def format_table(rows: list[dict[str, object]]) -> list[str]:
    width = max([len("notebook")] + [len(str(r["notebook"])) for r in rows])
    lines = [f"{'notebook':<{width}}  {'wall s':>7}  {'budget':>6}  status"]
    for r in rows:
        budget = "-" if r["budget"] is None else f"{r['budget']}"
        note = str(r["status"]) + (" (failed)" if r["failed"] else "")
        lines.append(f"{r['notebook']:<{width}}  {r['seconds']:>7.1f}  {budget:>6}  {note}")
    total = sum(float(r["seconds"]) for r in rows)
    lines.append(f"{'total':<{width}}  {total:>7.1f}")
    return lines


def format_slowest(rows: list[dict[str, object]], width: int = 100) -> list[str]:
    """One line per notebook (in the table's order) naming its slowest cell."""
    lines = []
    for r in rows:
        top = r.get("slowest_cells") or []
        if top:
            cell = top[0]
            line = (f"slowest cell of {Path(str(r['notebook'])).name}: Cell {cell['cell']}, "
                    f"{cell['seconds']:.1f} s: {cell['first_line']}")
            lines.append(line if len(line) <= width else line[:width - 3] + "...")
    return lines


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:  # noqa: ARG001
    if not _times or _is_worker(config):
        return
    workers = workers_of(config)
    rows = timing_rows(_times, workers=workers, cells=_cells)
    how = describe_run(workers, devices())
    terminalreporter.write_sep("=", f"notebook timing (wall seconds, slowest first; {how})")
    for line in format_table(rows) + format_slowest(rows):
        terminalreporter.write_line(line)
    if workers > 1:
        terminalreporter.write_line(
            f"Budgets are for a notebook run alone. With {workers} workers sharing the CPU a "
            f"wall time can be up to {workers}x its time alone: 'under' and 'OVER' hold for "
            f"a run alone too; '{UNSURE}' needs a serial run.")
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    OUTPUT.write_text(json.dumps({"measured": how, "workers": workers, "devices": devices(),
                                  "notebooks": rows}, indent=2) + "\n", encoding="utf-8")
    terminalreporter.write_line(f"written to {OUTPUT}")
