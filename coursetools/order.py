"""A pytest plugin: run the longest notebooks first, then the unit-test files.

Loaded by ``-p coursetools.order`` (see pyproject.toml). pytest-xdist (``make test``) hands
whole files to its workers in collection order, so a long notebook collected last keeps one
worker busy while the others idle. Longest first (from the last run's
``build/notebook-times.json``, else the notebook's budget) lets the short files fill the gaps.
The cells of a notebook, and the tests of a file, keep their order.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from coursetools.notebooks import ROOT, notebook_budget

TIMES = ROOT / "build" / "notebook-times.json"


def expected_seconds(times: Path = TIMES) -> dict[str, float]:
    """Notebook name -> its wall seconds in the last run that recorded it ({} if none)."""
    try:
        rows = json.loads(times.read_text(encoding="utf-8"))["notebooks"]
        return {Path(r["notebook"]).name: float(r["seconds"]) for r in rows}
    except (OSError, ValueError, KeyError, TypeError):
        return {}


def file_order(paths: list[Path], seconds: dict[str, float]) -> list[Path]:
    """``paths`` (files, each once) reordered: notebooks by expected time, longest first
    (last run's seconds, else budget, else 0), then the other files as they came."""
    def expected(path: Path) -> float:
        if path.name in seconds:
            return seconds[path.name]
        try:
            return float(notebook_budget(path) or 0)
        except (OSError, ValueError):
            return 0.0

    notebooks = [p for p in paths if p.suffix == ".ipynb"]
    others = [p for p in paths if p.suffix != ".ipynb"]
    return sorted(notebooks, key=expected, reverse=True) + others


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    files: dict[Path, list[pytest.Item]] = {}
    for item in items:
        files.setdefault(Path(item.path), []).append(item)
    order = file_order(list(files), expected_seconds())
    items[:] = [item for path in order for item in files[path]]
