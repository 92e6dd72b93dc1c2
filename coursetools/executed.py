"""A pytest plugin: keep every notebook the suite executes, with its outputs, in build/executed/.

Loaded by ``-p coursetools.executed`` (see pyproject.toml). nbval runs a notebook as one
pytest item per code cell and keeps each cell's outputs; after the last cell of a notebook
this plugin writes the notebook with those outputs to ``build/executed/<name>.ipynb``
(``COURSE_EXECUTED_DIR`` overrides the folder). The committed notebooks stay output-free.

The copy's ``metadata.course`` says what it was made from (:func:`source_hash` of the
notebook and of the ``helpers`` package), whether every cell ran and passed, and how long it
took, so ``make html`` (:mod:`coursetools.site`) can tell a fresh copy from a stale one.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from pathlib import Path
from typing import Any

import nbformat
import pytest

from coursetools.notebooks import ROOT, atomic_write, cell_source, notebook_bytes, read_notebook

EXECUTED_DIR = Path(os.environ.get("COURSE_EXECUTED_DIR", ROOT / "build" / "executed"))
HELPERS_DIR = ROOT / "helpers"

# per notebook path: the cells run, how many failed, and the seconds spent
_runs: dict[str, dict[str, Any]] = {}


def source_hash(notebook: Path, helpers_dir: Path = HELPERS_DIR) -> str:
    """A content hash of what an executed copy depends on: the notebook's cells (type and
    source; not outputs or metadata) and every ``.py`` file of the helpers package."""
    digest = hashlib.sha256()
    for cell in read_notebook(Path(notebook)).get("cells", []):
        digest.update(json.dumps([cell.get("cell_type"), cell_source(cell)]).encode("utf-8"))
    for path in sorted(Path(helpers_dir).rglob("*.py")):
        digest.update(str(path.relative_to(helpers_dir)).encode("utf-8"))
        digest.update(path.read_bytes())
    return digest.hexdigest()


def executed_path(notebook: Path, directory: Path | None = None) -> Path:
    """Where the executed copy of ``notebook`` lives."""
    return Path(directory or EXECUTED_DIR) / Path(notebook).name


def write_executed(nb: nbformat.NotebookNode, notebook: Path, *, passed: bool, complete: bool,
                   seconds: float, executed_by: str, directory: Path | None = None) -> Path:
    """Write ``nb`` (with outputs) as the executed copy of ``notebook``, atomically."""
    nb.metadata["course"] = {
        "source": Path(notebook).name,
        "source_sha256": source_hash(notebook),
        "passed": bool(passed),
        "complete": bool(complete),
        "seconds": round(float(seconds), 1),
        "executed_by": executed_by,
        "executed_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    target = executed_path(notebook, directory)
    target.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(target, notebook_bytes(nb))
    return target


def _is_cell(item: pytest.Item) -> bool:
    return hasattr(item, "cell") and hasattr(item, "test_outputs") and hasattr(item, "cell_num")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    """Record each nbval cell's outputs, failure and time on the notebook it came from."""
    outcome = yield
    if not _is_cell(item):
        return
    report = outcome.get_result()
    path = str(item.path)
    if call.when == "teardown" and path not in _runs:  # after the copy was written
        return
    run = _runs.setdefault(path, {"cells": set(), "failed": 0, "seconds": 0.0})
    run["seconds"] += report.duration
    if report.failed:
        run["failed"] += 1
    if call.when == "call":
        run["cells"].add(item.cell_num)
        item.cell.outputs = [nbformat.from_dict(o) for o in (item.test_outputs or [])]
        item.cell.execution_count = len(run["cells"])
        for output in item.cell.outputs:
            if output.get("output_type") == "execute_result":
                output["execution_count"] = item.cell.execution_count


def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> None:
    """After a notebook's last cell, write its executed copy."""
    if not _is_cell(item) or (nextitem is not None and nextitem.parent is item.parent):
        return
    path = str(item.path)
    run = _runs.pop(path, None)
    if run is None:
        return
    nb = item.parent.nb
    code_cells = sum(1 for c in nb.cells if c.cell_type == "code")
    complete = len(run["cells"]) == code_cells
    write_executed(nb, Path(path), passed=complete and run["failed"] == 0, complete=complete,
                   seconds=run["seconds"], executed_by="pytest + nbval")
