"""Grading, on a tiny synthetic course (fast kernels, no TensorFlow): a correct submission, a
wrong one that also tampers with its tests, one that raises outside the exercises, one that is
not JSON, and one that hangs; graded in parallel, by shards merged afterwards, with a
feedback page each. In the bubblewrap sandbox where it can start, else explicitly without
(tests/test_grade_sandbox.py has the hostile submissions)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell as code
from nbformat.v4 import new_markdown_cell as md
from nbformat.v4 import new_notebook

from coursetools import grade, sandbox
from coursetools.exercise_metadata import read_exercises, stamp
from coursetools.sandbox import Isolation
from coursetools.student import student_notebook

ISOLATION = Isolation(sandbox=sandbox.available())
SANDBOX = "bwrap" if ISOLATION.sandbox else "none (--no-sandbox)"

CHECKS = """\
from helpers.exercises import Exercise, expect_close, expect_equal


class ex:  # this tiny course's checks, as helpers/exercises/nbNN.py would hold them
    q1 = Exercise(lambda v: expect_equal(v, 6, "six"), hint="", id="q1")
    q2 = Exercise(lambda f: expect_close(f(3.0), 9.0, "square(3.0)"), hint="", id="q2")"""


def tiny_course() -> nbformat.NotebookNode:
    """Three graded exercises (1 + 2 + 1 points) and a written one, with nbgrader metadata."""
    return stamp(new_notebook(cells=[
        md("# 00 · Tiny\n\n**Time budget:** 5 s"),
        code(CHECKS),
        md("### Exercise 1 (1 point)\nSet `six`."),
        code("### BEGIN SOLUTION\nsix = 2 * 3\n### END SOLUTION"),
        code("ex.q1.check(six)\nassert isinstance(six, int)\n"
             "### BEGIN HIDDEN TESTS\nassert six == 6\n### END HIDDEN TESTS"),
        md("### Exercise 2 (2 points)\nWrite `square(x)`."),
        code("def square(x):\n    ### BEGIN SOLUTION\n    return x * x\n    ### END SOLUTION"),
        code("ex.q2.check(square)\n### BEGIN HIDDEN TESTS\nassert square(-2) == 4\n"
             "### END HIDDEN TESTS"),
        md("### Exercise 3 (1 point)\nSet `greeting` to a greeting."),
        code("### BEGIN SOLUTION\ngreeting = 'hello'\n### END SOLUTION"),
        code("assert greeting.startswith('h')\n### BEGIN HIDDEN TESTS\nassert greeting == 'hello'\n"
             "### END HIDDEN TESTS"),
        md("### Exercise 4 (written)\nWhy?"),
        md("**Your answer:**\n<!-- BEGIN SOLUTION -->\nBecause.\n<!-- END SOLUTION -->"),
    ]), "00_tiny.ipynb")


GOOD = {3: "six = 6", 6: "def square(x):\n    return x ** 2", 9: "greeting = 'hello'",
        12: "**Your answer:**\nBecause squares are positive."}


def submission(answers: dict[int, str], insert: tuple[int, str] | None = None) -> str:
    """A student's copy of the tiny course with the given cells' sources replaced."""
    nb = student_notebook(tiny_course(), "00_tiny.ipynb")
    for index, source in answers.items():
        nb.cells[index].source = source
    if insert:
        nb.cells.insert(insert[0], code(insert[1]))
    return nbformat.writes(nb)


def digest(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def course(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("course")
    (root / "notebooks").mkdir()
    nbformat.write(tiny_course(), root / "notebooks" / "00_tiny.ipynb")
    hang = new_notebook(cells=[
        code("import time"),
        code("time.sleep(600)  # hangs"),
        md("### Exercise 1 (1 point)"),
        code("### BEGIN SOLUTION\nx = 1\n### END SOLUTION"),
        code("assert x == 1"),
        md("### Exercise 2 (1 point)"),
        md("<!-- BEGIN SOLUTION -->\nyes\n<!-- END SOLUTION -->"),
        md("### Exercise 3 (1 point)"),
        code("### BEGIN SOLUTION\ny = 1\n### END SOLUTION"),
        code("assert y == 1"),
    ])
    nbformat.write(stamp(hang, "01_hang.ipynb"), root / "notebooks" / "01_hang.ipynb")
    subs = root / "submissions"
    (subs / "alice").mkdir(parents=True)
    (subs / "alice" / "00_tiny.ipynb").write_text(submission(GOOD))
    # bob: q1 wrong, q2 not attempted, q3 passes the visible test but not the hidden one,
    # and he "fixed" q3's test cell to always pass.
    (subs / "bob__00_tiny.ipynb").write_text(
        submission({3: "six = 7", 9: "greeting = 'hi'", 10: "pass"}))
    (subs / "carol__00_tiny.ipynb").write_text(submission(GOOD, insert=(2, "1 / 0")))
    (subs / "dave__00_tiny.ipynb").write_text("{ this is not JSON")
    return root


@pytest.fixture(scope="module")
def graded(course) -> tuple[list[dict[str, str]], str, dict[str, str], dict[str, str]]:
    subs = course / "submissions"
    before = digest(subs)
    out = course / "build" / "grades"
    grade.grade_all(subs, out, notebooks=course / "notebooks", timeout=60, isolation=ISOLATION,
                    jobs=2)
    rows = grade.read_csv(out / "grades.csv")
    return rows, (out / "report.md").read_text(), before, digest(subs)


def by_student(rows, student):
    return {r["exercise"]: r for r in rows if r["student"] == student}


def test_submissions_are_not_modified(graded):
    _, _, before, after = graded
    assert before == after


def test_correct_submission_gets_every_point(graded):
    rows = by_student(graded[0], "alice")
    assert list(rows) == ["q1", "q2", "q3", "q4"]
    for ex_id, points in (("q1", "1"), ("q2", "2"), ("q3", "1")):
        assert rows[ex_id]["passed"] == "yes" and rows[ex_id]["points"] == points
        assert rows[ex_id]["max_points"] == points and rows[ex_id]["error"] == ""
    assert rows["q4"]["passed"] == "manual" and rows["q4"]["error"] == (
        "written answer: grade by hand")
    assert rows["q1"]["notebook"] == "00_tiny.ipynb"
    assert rows["q1"]["file"] == "alice/00_tiny.ipynb"


def test_wrong_submission_fails_with_reasons_and_hidden_tests(graded):
    rows = by_student(graded[0], "bob")
    assert {k: r["passed"] for k, r in rows.items()} == {
        "q1": "no", "q2": "no", "q3": "no", "q4": "manual"}
    assert all(rows[q]["points"] == "0" for q in ("q1", "q2", "q3"))
    assert rows["q1"]["error"] == "CheckFailed: six is 7, which is not right yet."
    assert rows["q2"]["error"].startswith("CheckFailed: no answer yet")
    # the tampered test cell was replaced by the instructor's, hidden test included
    assert rows["q3"]["error"] == "AssertionError at `assert greeting == 'hello'`"
    assert rows["q4"]["error"] == "no answer written"


def test_error_outside_exercises_is_reported_and_exercises_still_graded(graded):
    rows = by_student(graded[0], "carol")
    assert rows["(notebook)"]["passed"] == "no"
    assert rows["(notebook)"]["error"] == (
        "cell 2 (`1 / 0`): ZeroDivisionError: division by zero")
    assert [rows[q]["passed"] for q in ("q1", "q2", "q3")] == ["yes"] * 3


def test_invalid_json_is_one_row(graded):
    rows = [r for r in graded[0] if r["student"] == "dave"]
    assert len(rows) == 1
    assert rows[0]["exercise"] == "(notebook)" and rows[0]["points"] == "0"
    assert rows[0]["max_points"] == "4"
    assert rows[0]["error"].startswith("not a valid notebook: not valid JSON")


def test_sandbox_and_tamper_status_per_submission(graded):
    rows = graded[0]
    assert {(r["sandbox"], r["tamper"]) for r in rows if r["student"] != "dave"} == {
        (SANDBOX, "none found")}  # bob's edited test cell is replaced, not tampering
    assert {(r["sandbox"], r["tamper"]) for r in rows if r["student"] == "dave"} == {("", "")}


def test_report_table(graded):
    report = graded[1]
    assert "| alice | 00_tiny.ipynb | 4 | 4 | 1 written answer(s) to grade by hand |" in report
    assert "| bob | 00_tiny.ipynb | 0 | 4 | failed: q1, q2, q3;" in report
    assert "| dave | 00_tiny.ipynb | 0 | 4 | not a valid notebook: not valid JSON" in report
    assert "| bob | 00_tiny.ipynb | q1 | no | 0/1 | CheckFailed: six is 7" in report
    assert f"to grade by hand | {SANDBOX} | none found |" in report
    assert "4 submission(s) from `" in report and "per-cell timeout 60 s" in report


def test_feedback_page_per_submission(course, graded):
    feedback = course / "build" / "grades" / "feedback"
    assert sorted(p.relative_to(feedback).as_posix() for p in feedback.rglob("*.html")) == [
        "alice/00_tiny.html", "bob/00_tiny.html", "carol/00_tiny.html", "dave/00_tiny.html"]
    alice = (feedback / "alice" / "00_tiny.html").read_text()
    assert "<strong>4 of 4 points</strong>" in alice and alice.count(">passed<") == 3
    assert "graded by hand" in alice
    assert not any(word in alice for word in ("http://", "https://", "<script", "<link"))
    bob = (feedback / "bob" / "00_tiny.html").read_text()
    assert "six is 7, which is not right yet." in bob and bob.count(">not yet<") == 3
    assert "AssertionError in a hidden test" in bob  # the hidden test itself is not shown
    assert "greeting == " not in bob and "BEGIN HIDDEN" not in bob
    carol = (feedback / "carol" / "00_tiny.html").read_text()
    assert "cell 2 (<code>1 / 0</code>): ZeroDivisionError: division by zero" in carol
    assert "not a valid notebook" in (feedback / "dave" / "00_tiny.html").read_text()


def test_serial_shards_merge_to_the_parallel_full_run(course, graded):
    """2 shards, one submission at a time each, merged == the full run with 2 jobs."""
    subs, full = course / "submissions", course / "build" / "grades"
    parts = [course / "build" / f"part{k}" for k in (1, 2)]
    for k, part in enumerate(parts, 1):
        grade.grade_all(subs, part, notebooks=course / "notebooks", timeout=60,
                        isolation=ISOLATION, jobs=1, shard=(k, 2))
    files = [[r["file"] for r in grade.read_csv(p / "grades.csv")] for p in parts]
    assert set(files[0]).isdisjoint(files[1]) and files[0] and files[1]
    merged = course / "build" / "merged"
    assert grade.main(["merge", str(parts[1]), str(parts[0] / "grades.csv"), "--out",
                       str(merged)]) == 0
    assert (merged / "grades.csv").read_bytes() == (full / "grades.csv").read_bytes()
    assert (merged / "report.md").read_text() == (full / "report.md").read_text()
    assert digest(merged / "feedback") == digest(full / "feedback")
    with pytest.raises(ValueError, match="parts 2 of 2 are missing"):
        grade.merge([parts[0]], course / "build" / "merged-again")
    with pytest.raises(ValueError, match="is given twice"):
        grade.merge([parts[0], parts[0]], course / "build" / "merged-again")


def test_executed_copies_kept(course, graded):
    executed = course / "build" / "grades" / "executed"
    assert (executed / "alice" / "00_tiny.ipynb").is_file()
    assert (executed / "bob" / "00_tiny.ipynb").is_file()


def test_hanging_cell_is_interrupted_and_grading_goes_on(course, tmp_path):
    (tmp_path / "erin").mkdir()
    student = student_notebook(nbformat.read(course / "notebooks" / "01_hang.ipynb",
                                             as_version=4), "01_hang.ipynb")
    student.cells[3].source = "x = 1"
    nbformat.write(student, tmp_path / "erin" / "01_hang.ipynb")
    [sub] = grade.find_submissions(tmp_path)
    rows = {r.exercise: r for r in grade.grade_submission(sub, course / "notebooks",
                                                          timeout=3, isolation=ISOLATION)}
    assert rows["(notebook)"].error == (
        "cell 1 (`time.sleep(600)  # hangs`): timed out after 3 s (interrupted)")
    assert rows["q1"].passed == "yes"
    assert rows["q3"].passed == "no" and rows["q3"].error.startswith("no answer yet")
    assert rows["q2"].passed == "manual" and rows["q2"].max_points == 1


# --------------------------------------------------------------------------- no kernel


def test_find_submissions_layouts(tmp_path):
    for rel in ["alice/00_a.ipynb", "alice/week1/01_b.ipynb", "bob__00_a.ipynb",
                "orphan.ipynb", "alice/.ipynb_checkpoints/00_a-checkpoint.ipynb",
                ".hidden/00_a.ipynb", "carol/carol__00_a.ipynb", "notes.txt"]:
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("{}")
    found = [(s.student, s.name, s.file) for s in grade.find_submissions(tmp_path)]
    assert found == [("alice", "00_a.ipynb", "alice/00_a.ipynb"),
                     ("alice", "01_b.ipynb", "alice/week1/01_b.ipynb"),
                     ("bob", "00_a.ipynb", "bob__00_a.ipynb"),
                     ("carol", "00_a.ipynb", "carol/carol__00_a.ipynb"),
                     ("", "orphan.ipynb", "orphan.ipynb")]


def test_match_notebook(course):
    nbs = course / "notebooks"
    assert grade.match_notebook("00_tiny.ipynb", nbs) == nbs / "00_tiny.ipynb"
    assert grade.match_notebook("00_tiny-Copy1.ipynb", nbs) == nbs / "00_tiny.ipynb"
    assert grade.match_notebook("lab.ipynb", nbs, "01_hang.ipynb") == nbs / "01_hang.ipynb"
    assert grade.match_notebook("07_x.ipynb", nbs) is None
    assert grade.match_notebook("000_x.ipynb", nbs) is None


def test_assemble_restores_tests_and_survives_lost_metadata():
    instructor = tiny_course()
    exercises = read_exercises(instructor, "00_tiny.ipynb")
    student = nbformat.reads(submission({4: "pass"}), as_version=4)
    del student.cells[7]  # q2's test cell deleted
    student.cells.insert(10, nbformat.from_dict(dict(student.cells[9])))  # q3's test duplicated
    graded, origin = grade.assemble(student, instructor, exercises)
    sources = [c.source for c in graded.cells]
    assert sources.count(instructor.cells[4].source) == 1  # tampered q1 test replaced
    assert sources.count(instructor.cells[7].source) == 1  # deleted q2 test put back ...
    assert sources.index(instructor.cells[7].source) == 7  # ... right after its solution
    assert sources.count(instructor.cells[10].source) == 1  # duplicated test runs once
    assert origin[7] is None and origin[:7] == list(range(7))

    plain = nbformat.reads(submission({}), as_version=4)
    for cell in plain.cells:  # e.g. copied into a fresh notebook: metadata gone
        cell.metadata = {}
    assert grade.submission_roles(plain, exercises) == exercises.roles


def test_bad_submissions_without_running(course, tmp_path):
    renamed = nbformat.reads(submission(GOOD), as_version=4)
    del renamed.metadata["course"]  # nothing left to say which notebook it was
    nbformat.write(renamed, tmp_path / "frank__42_unknown.ipynb")
    (tmp_path / "nobody.ipynb").write_text(submission(GOOD))
    (tmp_path / "gina__00_tiny.ipynb").write_text('{"cells": 3}')
    rows = {s.path.name: grade.grade_submission(s, course / "notebooks")
            for s in grade.find_submissions(tmp_path)}
    [frank], [nobody], [gina] = (rows[n] for n in ("frank__42_unknown.ipynb",
                                                   "nobody.ipynb", "gina__00_tiny.ipynb"))
    assert frank.error.startswith("no instructor notebook matches '42_unknown.ipynb'")
    assert nobody.error.startswith("cannot tell whose submission this is")
    assert gina.error.startswith("not a valid notebook")


def test_shards_split_the_class_deterministically():
    subs = [grade.Submission(Path(f"s{i}.ipynb"), f"s{i}", "00_a.ipynb", f"s{i}__00_a.ipynb")
            for i in range(7)]
    parts = [grade.shard_of(subs, (k, 3)) for k in (1, 2, 3)]
    assert [len(p) for p in parts] == [3, 2, 2]
    assert sorted(s.file for p in parts for s in p) == sorted(s.file for s in subs)
    assert grade.shard_of(subs, (2, 3)) == parts[1]
    assert grade.parse_shard("2/8") == (2, 8)
    for bad in ("0/3", "4/3", "2", "a/b"):
        with pytest.raises(ValueError, match="K/N"):
            grade.parse_shard(bad)


def test_without_bubblewrap_it_says_how_to_install_or_needs_the_flag(course, tmp_path,
                                                                     monkeypatch, capsys):
    (tmp_path / "subs").mkdir()
    (tmp_path / "subs" / "dave__00_tiny.ipynb").write_text("{ this is not JSON")
    monkeypatch.setattr(sandbox, "bwrap", lambda: None)
    sandbox._probe.cache_clear()
    try:
        args = [str(tmp_path / "subs"), "--notebooks", str(course / "notebooks"), "--out",
                str(tmp_path / "out")]
        assert grade.main(args) == 2
        err = capsys.readouterr().err
        assert "bubblewrap (bwrap) is not installed" in err
        assert "apt-get install bubblewrap" in err and "--no-sandbox" in err
        assert not (tmp_path / "out").exists()
        assert grade.main(args + ["--no-sandbox", "--jobs", "1"]) == 0
        report = (tmp_path / "out" / "report.md").read_text()
        assert "NOT sandboxed (--no-sandbox)" in report
    finally:
        sandbox._probe.cache_clear()


def test_cli_errors(course, tmp_path, capsys):
    assert grade.main([str(tmp_path / "missing")]) == 2
    assert "is not a folder of submissions" in capsys.readouterr().err
    subs = course / "submissions"
    assert grade.main([str(subs), "--out", str(subs / "grades")]) == 2
    assert "inside the submissions folder" in capsys.readouterr().err
    assert not (subs / "grades").exists()
