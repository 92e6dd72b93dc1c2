"""The timing table and the budget reader."""

from __future__ import annotations

import json

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
