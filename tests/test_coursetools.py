"""The timing table and the budget reader."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from coursetools import timing
from coursetools.notebooks import budget_from_text, notebook_budget, read_notebook


@pytest.mark.parametrize("text,seconds", [
    ("**Time budget:** 60 s", 60), ("Time budget: 2 min (CI)", 120),
    ("time budget 90 seconds", 90), ("no budget here", None)])
def test_budget_from_text(text, seconds):
    assert budget_from_text(text) == seconds


def write_nb(path, first_cell):
    path.write_text(json.dumps({"cells": [{"cell_type": "markdown", "source": first_cell,
                                           "metadata": {}}],
                                "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))


def test_timing_rows_sorted_with_status(tmp_path):
    (tmp_path / "nb").mkdir()
    write_nb(tmp_path / "nb" / "a.ipynb", "# A\nTime budget: 10 s")
    write_nb(tmp_path / "nb" / "b.ipynb", "# B\nTime budget: 100 s")
    write_nb(tmp_path / "nb" / "c.ipynb", "# C")
    rows = timing.timing_rows({"nb/a.ipynb": 12.34, "nb/b.ipynb": 50.0, "nb/c.ipynb": 1.0},
                              root=tmp_path)
    assert [r["notebook"] for r in rows] == ["nb/b.ipynb", "nb/a.ipynb", "nb/c.ipynb"]
    assert [r["status"] for r in rows] == ["under", "OVER", "no budget"]
    assert rows[1]["seconds"] == 12.3 and rows[1]["budget"] == 10
    lines = timing.format_table(rows)
    assert lines[0].split()[:2] == ["notebook", "wall"]
    assert "OVER" in lines[2] and lines[-1].split() == ["total", "63.3"]


def test_bad_notebook_json_is_named(tmp_path):
    bad = tmp_path / "x.ipynb"
    bad.write_text("{not json")
    with pytest.raises(ValueError, match="x.ipynb is not valid notebook JSON"):
        read_notebook(bad)
    with pytest.raises(ValueError):
        notebook_budget(bad)


@pytest.mark.parametrize("seconds,budget,workers,status", [
    (50, 60, 0, "under"), (61, 60, 0, "OVER"), (61, 60, 1, "OVER"),
    (60, 60, 2, "under"), (100, 60, 2, timing.UNSURE), (121, 60, 2, "OVER"),
    (170, 60, 3, timing.UNSURE), (5, None, 2, "no budget"),
])
def test_budget_status_is_sure_only_where_concurrency_cannot_explain_it(seconds, budget,
                                                                        workers, status):
    assert timing.budget_status(seconds, budget, workers) == status


def test_devices_and_run_description(tmp_path):
    log = tmp_path / "log.jsonl"
    log.write_text('{"device": "CPU"}\nnot json\n{"device": "GPU: A"}\n{"device": "CPU"}\n')
    assert timing.devices(log) == ["CPU", "GPU: A"]
    assert timing.devices(tmp_path / "missing") == []
    assert timing.describe_run(2, ["CPU"]) == "2 parallel workers; device: CPU"
    assert timing.describe_run(0, []) == "serial; device: not reported"


def test_parallel_run_reports_timing_json(tmp_path):
    """A real pytest-xdist run of two tiny notebooks: the controller writes one table whose
    header and JSON say how it was measured, and the device each notebook's setup() logged."""
    pytest.importorskip("xdist")
    import subprocess
    import sys

    from coursetools.notebooks import ROOT

    folder = tmp_path / "nbs"
    folder.mkdir()
    for name in ("00_a.ipynb", "01_b.ipynb"):
        cells = [{"cell_type": "markdown", "metadata": {}, "source": "# A\nTime budget: 60 s"},
                 {"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [],
                  "source": "import helpers.runtime as r, os\n"
                            "open(os.environ['COURSE_RUNTIME_LOG'], 'a').write("
                            "'{\"device\": \"CPU\"}\\n')"}]
        (folder / name).write_text(json.dumps({
            "cells": cells, "nbformat": 4, "nbformat_minor": 5,
            "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3",
                                        "language": "python"}}}))
    import os

    env = {**os.environ, "COURSE_TIMING_DIR": str(tmp_path / "build"),
           "COURSE_EXECUTED_DIR": str(tmp_path / "executed")}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-c", str(ROOT / "pyproject.toml"), str(folder),
         "-n", "2", "--dist", "loadfile", "-p", "no:cacheprovider", "-q"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:]
    assert "2 parallel workers; device: CPU" in result.stdout
    report = json.loads((tmp_path / "build" / "notebook-times.json").read_text())
    assert report["workers"] == 2 and report["devices"] == ["CPU"]
    assert {Path(r["notebook"]).name for r in report["notebooks"]} == {"00_a.ipynb", "01_b.ipynb"}


def test_notebook_file_helpers(tmp_path):
    import nbformat

    from coursetools.notebooks import ROOT, atomic_write, display_path, notebook_bytes

    nb = nbformat.v4.new_notebook()
    data = notebook_bytes(nb)
    assert data.endswith(b"}\n") and nbformat.reads(data.decode(), as_version=4) == nb
    target = tmp_path / "a.ipynb"
    target.write_text("old")
    atomic_write(target, data)
    assert target.read_bytes() == data and [p.name for p in tmp_path.iterdir()] == ["a.ipynb"]
    assert display_path(ROOT / "build" / "site") == "build/site"
    assert display_path(tmp_path) == str(tmp_path)
