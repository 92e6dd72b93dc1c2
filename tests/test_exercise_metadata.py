"""nbgrader metadata as the one source of exercise roles and points, and reference.json."""

from __future__ import annotations

import json

import nbformat
import pytest
from nbformat.v4 import new_code_cell as code
from nbformat.v4 import new_markdown_cell as md
from nbformat.v4 import new_notebook

from coursetools import exercise_metadata as em
from coursetools.markers import MarkerError


def lab() -> nbformat.NotebookNode:
    return new_notebook(cells=[
        md("# Lab"),
        code("from helpers.exercises import nb42 as ex"),
        md("### Exercise 1 (3 points)\nSet x."),
        code("### BEGIN SOLUTION\nx = 1\n### END SOLUTION"),
        code("def f():\n    ### BEGIN SOLUTION\n    return 2\n    ### END SOLUTION"),
        code("ex.q1.check(x)\n### BEGIN HIDDEN TESTS\nassert x == 1\n### END HIDDEN TESTS"),
        md("### Exercise 2 (written, 2 points)\nWhy?"),
        md("**Your answer:**\n<!-- BEGIN SOLUTION -->\nBecause.\n<!-- END SOLUTION -->"),
    ])


def test_cell_metadata_per_role():
    assert em.cell_metadata("tests", "q1_tests", 3) == {
        "grade": True, "grade_id": "q1_tests", "locked": True, "points": 3,
        "schema_version": 3, "solution": False, "task": False}
    assert em.cell_metadata("solution", "q1_solution")["solution"] is True
    assert "points" not in em.cell_metadata("task", "q1_task")
    with pytest.raises(ValueError, match="role must be one of"):
        em.cell_metadata("test", "q1_test")
    with pytest.raises(ValueError, match="needs points >= 0"):
        em.cell_metadata("answer", "q2_answer")


def test_stamp_writes_what_headings_and_markers_imply_and_nothing_else():
    nb = lab()
    nb.cells[0].metadata["nbgrader"] = {"grade_id": "stray"}  # not an exercise cell
    nb.cells[3].metadata["tags"] = ["keep-me"]
    stamped = em.stamp(nb, "lab.ipynb")
    ids = [c.metadata.get("nbgrader", {}).get("grade_id") for c in stamped.cells]
    assert ids == [None, None, "q1_task", "q1_solution", "q1_solution_2", "q1_tests",
                   "q2_task", "q2_answer"]
    assert stamped.cells[5].metadata["nbgrader"]["points"] == 3
    assert stamped.cells[7].metadata["nbgrader"]["points"] == 2
    assert stamped.cells[3].metadata["tags"] == ["keep-me"]
    assert [c.source for c in stamped.cells] == [c.source for c in nb.cells]
    assert nb.cells[0].metadata["nbgrader"] == {"grade_id": "stray"}  # the input is untouched
    assert em.stale_metadata(stamped, "lab.ipynb") == []


def test_stale_metadata_names_the_cell_and_the_difference():
    nb = em.stamp(lab(), "lab.ipynb")
    nb.cells[2].source = "### Exercise 1 (4 points)\nSet x."   # heading changed, metadata not
    del nb.cells[7].metadata["nbgrader"]
    nb.cells[0].metadata["nbgrader"] = em.cell_metadata("task", "q9_task")
    problems = em.stale_metadata(nb, "lab.ipynb")
    assert problems == [
        "lab.ipynb, cell 0: has nbgrader metadata (q9_task) but is no exercise cell",
        "lab.ipynb, cell 5: q1_tests: points=3 (should be 4)",
        "lab.ipynb, cell 7: q2_answer has no nbgrader metadata",
    ]


def test_read_exercises_from_metadata():
    found = em.read_exercises(em.stamp(lab(), "lab.ipynb"), "lab.ipynb")
    q1, q2 = found.exercises.values()
    assert (q1.points, q1.heading, q1.solutions, q1.tests) == (3, 2, [3, 4], 5)
    assert (q2.points, q2.written, q2.answer) == (2, True, 7)
    assert found.roles == {3: ("q1", "solution"), 4: ("q1", "solution"), 5: ("q1", "tests"),
                           7: ("q2", "answer")}


def test_read_exercises_reads_points_from_metadata_not_the_heading():
    nb = em.stamp(lab(), "lab.ipynb")
    nb.cells[5].metadata["nbgrader"]["points"] = 5
    assert em.read_exercises(nb, "lab.ipynb").exercises["q1"].points == 5


@pytest.mark.parametrize("change,message", [
    (lambda nb: nb.cells[3].metadata.pop("nbgrader"),
     "cell 3: a solution region in a cell without nbgrader metadata; run `python -m "
     "coursetools.exercise_metadata`"),
    (lambda nb: nb.cells[2].metadata.pop("nbgrader"), "cell 2: an exercise heading without"),
    (lambda nb: nb.cells[5].metadata["nbgrader"].update(grade_id="tests_1"),
     "grade_id 'tests_1' is not qN_task/solution/tests/answer"),
    (lambda nb: nb.cells[5].metadata["nbgrader"].update(locked=False),
     "metadata of q1_tests does not fit its role"),
    (lambda nb: nb.cells[5].metadata.update(nbgrader=em.cell_metadata("solution", "q1_solution_3")),
     "q1_solution_3 has no solution markers"),
    (lambda nb: nb.cells[5].metadata.pop("nbgrader"),
     "Exercise 1 has a solution cell but no tests cell"),
])
def test_read_exercises_errors_say_where_and_how_to_fix(change, message):
    nb = em.stamp(lab(), "lab.ipynb")
    change(nb)
    with pytest.raises(MarkerError, match=message.replace("(", r"\(").replace(")", r"\)")):
        em.read_exercises(nb, "lab.ipynb")


def test_solution_text_and_reference_entries():
    assert em.solution_text("def f():\n    ### BEGIN SOLUTION\n    return 2\n"
                            "    ### END SOLUTION\n") == "def f():\n    return 2"
    nb = em.stamp(lab(), "lab.ipynb")
    assert em.exercise_module(nb) == "nb42"
    assert em.exercise_module(new_notebook(cells=[code("import helpers")])) is None
    entries = em.reference_entries(nb, "lab.ipynb")
    assert entries["q1"] == {"title": "Exercise 1", "points": 3, "written": False,
                             "solution": "x = 1\n\ndef f():\n    return 2"}
    assert entries["q2"]["written"] and entries["q2"]["solution"] == ""


def test_main_checks_writes_and_then_is_clean(tmp_path, monkeypatch, capsys):
    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    path = notebooks / "42_lab.ipynb"
    nbformat.write(lab(), path)
    monkeypatch.setattr(em, "REFERENCE", tmp_path / "reference.json")
    monkeypatch.setattr(em, "ROOT", tmp_path)
    assert em.main(["--check", "--notebooks", str(notebooks)]) == 1
    out = capsys.readouterr()
    assert "q1_task has no nbgrader metadata" in out.out and "reference.json is stale" in out.out
    assert "nbgrader" not in path.read_text()  # --check writes nothing
    assert em.main(["--notebooks", str(notebooks)]) == 0
    assert em.main(["--check", "--notebooks", str(notebooks)]) == 0
    reference = json.loads((tmp_path / "reference.json").read_text())
    assert reference["nb42"]["notebook"] == "42_lab.ipynb"
    assert reference["nb42"]["exercises"]["q1"]["points"] == 3


def test_main_reports_malformed_markers(tmp_path, capsys):
    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    nbformat.write(new_notebook(cells=[md("### Exercise 1"), code("### BEGIN SOLUTION")]),
                   notebooks / "00_bad.ipynb")
    assert em.main(["--check", "--notebooks", str(notebooks)]) == 2
    assert "00_bad.ipynb, cell 1" in capsys.readouterr().err


def test_reference_json_ships_with_the_package(tmp_path):
    """A wheel of the course holds reference.json, so solution() works outside the repo."""
    import shutil
    import subprocess
    import sys
    import zipfile

    from coursetools.notebooks import ROOT

    source = tmp_path / "src"  # a copy, so that setuptools' build/ stays out of the repo
    for name in ("helpers", "coursetools"):
        shutil.copytree(ROOT / name, source / name,
                        ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    result = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps",
                             "--no-build-isolation", "-q", "-w", str(tmp_path), str(source)],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    [wheel] = tmp_path.glob("*.whl")
    assert "helpers/exercises/reference.json" in zipfile.ZipFile(wheel).namelist()


def test_main_writes_only_the_notebooks_named(tmp_path, monkeypatch, capsys):
    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    for name in ("41_a.ipynb", "42_lab.ipynb"):
        nbformat.write(lab(), notebooks / name)
    monkeypatch.setattr(em, "REFERENCE", tmp_path / "reference.json")
    monkeypatch.setattr(em, "ROOT", tmp_path)
    assert em.main(["--notebooks", str(notebooks), "42_lab.ipynb"]) == 0
    assert "nbgrader" in (notebooks / "42_lab.ipynb").read_text()
    assert "nbgrader" not in (notebooks / "41_a.ipynb").read_text()
    assert em.main(["--notebooks", str(notebooks), "99_none.ipynb"]) == 2
    assert "not course notebooks" in capsys.readouterr().err
