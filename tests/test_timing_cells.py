"""The timing table's slowest cells: node ids, first lines, the JSON rows and the summary."""

from __future__ import annotations

import json

import pytest

from coursetools import timing


def write_nb(path, cells):
    path.write_text(json.dumps({"cells": cells, "metadata": {}, "nbformat": 4,
                                "nbformat_minor": 5}))


def code(source):
    return {"cell_type": "code", "metadata": {}, "source": source, "outputs": [],
            "execution_count": None}


@pytest.mark.parametrize("nodeid,number", [
    ("notebooks/09_regularization.ipynb::Cell 12", 12), ("nb/a.ipynb::Cell 0", 0),
    ("nb/a.ipynb::Cell x", None), ("tests/test_x.py::test_cell", None),
    ("tests/test_x.py::Cell 3::sub", None), ("nb/a.ipynb", None)])
def test_cell_number(nodeid, number):
    assert timing.cell_number(nodeid) == number


def test_first_lines_count_code_cells_only(tmp_path):
    nb = tmp_path / "a.ipynb"
    write_nb(nb, [{"cell_type": "markdown", "metadata": {}, "source": "# Title"},
                  code(["\n", "  x = 1  \n", "y = 2"]), code(""),
                  {"cell_type": "markdown", "metadata": {}, "source": "text"},
                  code("model.fit(x, y)")])
    assert timing.code_cell_first_lines(nb) == ["x = 1", "", "model.fit(x, y)"]
    assert timing.code_cell_first_lines(tmp_path / "missing.ipynb") == []
    (tmp_path / "bad.ipynb").write_text("{not json")
    assert timing.code_cell_first_lines(tmp_path / "bad.ipynb") == []


def test_slowest_cells_sorted_and_cut():
    cells = {0: 9.0, 1: 0.2, 2: 30.04, 3: 9.0, 4: 1.5}
    top = timing.slowest_cells(cells, ["a", "b", "c"], n=3)
    assert top == [{"cell": 2, "seconds": 30.0, "first_line": "c"},
                   {"cell": 0, "seconds": 9.0, "first_line": "a"},
                   {"cell": 3, "seconds": 9.0, "first_line": ""}]  # ties: lower cell first
    assert len(timing.slowest_cells(cells, [])) == min(timing.SLOWEST, len(cells))


def test_rows_carry_slowest_cells_and_summary_names_them(tmp_path):
    (tmp_path / "nb").mkdir()
    write_nb(tmp_path / "nb" / "a.ipynb", [
        {"cell_type": "markdown", "metadata": {}, "source": "# A\nTime budget: 10 s"},
        code("import helpers"), code("# train the model\nmodel.fit(x, y, epochs=3)")])
    write_nb(tmp_path / "nb" / "b.ipynb", [code("pass")])
    rows = timing.timing_rows({"nb/a.ipynb": 7.0, "nb/b.ipynb": 1.0}, root=tmp_path,
                              cells={"nb/a.ipynb": {0: 2.0, 1: 5.0}})
    assert rows[0]["slowest_cells"] == [
        {"cell": 1, "seconds": 5.0, "first_line": "# train the model"},
        {"cell": 0, "seconds": 2.0, "first_line": "import helpers"}]
    assert rows[1]["slowest_cells"] == []  # no cell times: nothing to name
    assert rows[0]["status"] == "under" and rows[0]["seconds"] == 7.0  # the table as before
    assert timing.format_slowest(rows) == [
        "slowest cell of a.ipynb: Cell 1, 5.0 s: # train the model"]
    long = timing.format_slowest(rows, width=30)[0]
    assert len(long) == 30 and long.endswith("...")


def test_logreport_sums_phases_per_cell(monkeypatch):
    monkeypatch.setattr(timing, "_times", timing.defaultdict(float))
    monkeypatch.setattr(timing, "_cells", timing.defaultdict(lambda: timing.defaultdict(float)))
    monkeypatch.setattr(timing, "_failed", set())

    class Report:
        def __init__(self, nodeid, duration, failed=False):
            self.nodeid, self.duration, self.failed = nodeid, duration, failed

    for nodeid, duration in [("nb/a.ipynb::Cell 0", 3.0), ("nb/a.ipynb::Cell 0", 0.5),
                             ("nb/a.ipynb::Cell 1", 1.0), ("tests/test_x.py::test_y", 9.0)]:
        timing.pytest_runtest_logreport(Report(nodeid, duration))
    assert dict(timing._times) == {"nb/a.ipynb": 4.5}
    assert {k: dict(v) for k, v in timing._cells.items()} == {"nb/a.ipynb": {0: 3.5, 1: 1.0}}
