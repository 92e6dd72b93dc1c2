"""coursetools.order: the longest notebooks first, then the unit-test files."""

from __future__ import annotations

import json
from pathlib import Path

from coursetools import order


def notebook(path: Path, budget: int) -> Path:
    path.write_text(json.dumps({"cells": [{"cell_type": "markdown", "metadata": {},
                                           "source": f"# X\nTime budget: {budget} s"}],
                                "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    return path


def test_longest_notebooks_first_then_other_files(tmp_path):
    a, b, c = (notebook(tmp_path / f"0{i}_x.ipynb", budget) for i, budget in
               enumerate((60, 240, 120)))
    tests = [tmp_path / "test_z.py", tmp_path / "test_a.py"]
    # no record of a run: by budget
    assert order.file_order([tests[0], a, b, tests[1], c], {}) == [b, c, a, *tests]
    # the last run's seconds win over budgets
    seconds = {"00_x.ipynb": 90.0, "01_x.ipynb": 10.0, "02_x.ipynb": 50.0}
    assert order.file_order([a, b, c], seconds) == [a, c, b]


def test_expected_seconds_reads_the_timing_json(tmp_path):
    times = tmp_path / "notebook-times.json"
    assert order.expected_seconds(times) == {}
    times.write_text(json.dumps({"notebooks": [
        {"notebook": "notebooks/09_r.ipynb", "seconds": 93.9}]}))
    assert order.expected_seconds(times) == {"09_r.ipynb": 93.9}
    times.write_text("{broken")
    assert order.expected_seconds(times) == {}
