"""A pytest plugin: per-notebook wall time against the budget each notebook states.

Loaded by ``-p coursetools.timing`` (see pyproject.toml). It sums the setup, call and
teardown time of every nbval cell item of a notebook (the kernel start lands in the first
cell's setup), prints a table slowest first, and writes it to build/notebook-times.json.
It never fails a test: budgets are read from this table, not from a flaky timed test.
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

import pytest

from coursetools.notebooks import ROOT, notebook_budget

_times: dict[str, float] = defaultdict(float)
_failed: set[str] = set()
OUTPUT = ROOT / "build" / "notebook-times.json"


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    path = report.nodeid.split("::", 1)[0]
    if not path.endswith(".ipynb"):
        return
    _times[path] += report.duration
    if report.failed:
        _failed.add(path)


def timing_rows(times: dict[str, float], root: Path = ROOT) -> list[dict[str, object]]:
    """Rows of the timing table, slowest first."""
    rows = []
    for path, seconds in times.items():
        try:
            budget = notebook_budget(root / path)
        except (OSError, ValueError):
            budget = None
        status = "no budget" if budget is None else ("OVER" if seconds > budget else "under")
        rows.append({"notebook": path, "seconds": round(seconds, 1), "budget": budget,
                     "status": status, "failed": path in _failed})
    return sorted(rows, key=lambda r: -float(r["seconds"]))


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


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:  # noqa: ARG001
    if not _times:
        return
    rows = timing_rows(_times)
    terminalreporter.write_sep("=", "notebook timing (wall seconds, slowest first)")
    for line in format_table(rows):
        terminalreporter.write_line(line)
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    OUTPUT.write_text(json.dumps(rows, indent=2) + "\n", encoding="utf-8")
    terminalreporter.write_line(f"written to {OUTPUT.relative_to(ROOT)}")
