"""Student versions: every course notebook's (checked without executing it), the
transformation on small synthetic notebooks, the manifest's protection of edited copies,
and one real run of notebook 00's student version."""

from __future__ import annotations

import json
import re
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell as code
from nbformat.v4 import new_markdown_cell as md
from nbformat.v4 import new_notebook

from coursetools import student as student_mod
from coursetools.execute import run_cells
from coursetools.exercise_metadata import GRADE_ID, read_exercises, stamp
from coursetools.markers import (
    HIDDEN,
    HIDDEN_NOTE,
    SOLUTION,
    STUB,
    MarkerError,
    find_blocks,
    find_exercises,
)
from coursetools.notebooks import NOTEBOOK_DIR, cell_source, course_notebooks
from coursetools.student import (
    UsageError,
    check_out_dir,
    student_notebook,
    student_source,
    write_student_versions,
)

MARKER_WORDS = re.compile(r"BEGIN SOLUTION|END SOLUTION|HIDDEN TESTS")


def _secret_lines(nb: nbformat.NotebookNode) -> set[str]:
    """Lines of the notebook's solution and hidden-test blocks that appear nowhere else in it."""
    secret, public = set(), set()
    for i, cell in enumerate(nb.cells):
        source = cell_source(cell)
        markdown = cell.cell_type == "markdown"
        blocks = find_blocks(source, f"cell {i}", (SOLUTION,) if markdown else (SOLUTION, HIDDEN))
        lines = source.splitlines()
        inside = {n for b in blocks for n in range(b.begin, b.end + 1)}
        for n, line in enumerate(lines):
            (secret if n in inside else public).add(line.strip())
    return {line for line in secret - public
            if len(line) > 3 and not MARKER_WORDS.search(line)}


def _compilable(source: str) -> str:
    """The source with IPython magics and shell escapes blanked (they are not Python)."""
    return "\n".join("" if line.lstrip().startswith(("%", "!")) else line
                     for line in source.splitlines())


@pytest.fixture(scope="module", params=course_notebooks(), ids=lambda p: p.name)
def versions(request):
    path: Path = request.param
    instructor = nbformat.read(path, as_version=4)
    return path, instructor, student_notebook(instructor, path.name)


def test_student_version_is_valid_and_has_no_solutions(versions):
    path, instructor, student = versions
    nbformat.validate(student)
    text = json.dumps(student)
    assert not MARKER_WORDS.search(text), f"{path.name}: a marker survived"
    student_lines = {line.strip() for cell in student.cells
                     for line in cell_source(cell).splitlines()}
    leaked = _secret_lines(instructor) & student_lines
    assert not leaked, f"{path.name}: solution/hidden-test lines in the student version: {leaked}"
    for cell in student.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None


def test_student_code_cells_compile(versions):
    path, _, student = versions
    for i, cell in enumerate(student.cells):
        if cell.cell_type == "code":
            compile(_compilable(cell_source(cell)), f"{path.name}, cell {i}", "exec")


def _role(cell) -> tuple[str, str] | None:
    """(exercise id, role) from a cell's nbgrader grade_id, None for other cells and tasks."""
    match = GRADE_ID.match(cell.metadata.get("nbgrader", {}).get("grade_id", ""))
    return (f"q{match.group(1)}", match.group(2)) if match and match.group(2) != "task" else None


def test_solution_cells_are_stubs_and_exercises_keep_their_metadata(versions):
    path, instructor, student = versions
    exercises = read_exercises(instructor, path.name)
    assert len(exercises.exercises) >= 3, f"{path.name} needs at least 3 exercises"
    roles = {}
    for i, (before, cell) in enumerate(zip(instructor.cells, student.cells, strict=True)):
        assert cell.metadata.get("nbgrader") == before.metadata.get("nbgrader")
        role = _role(cell)
        if role:
            roles[i] = role
            assert cell.metadata["deletable"] is False
        if role and role[1] == "solution":
            assert cell_source(cell) == "\n".join(STUB), f"{path.name}, cell {i} is not a stub"
        if role and role[1] == "tests":
            assert cell.metadata["editable"] is False
    assert roles == exercises.roles
    assert all(e.solutions or e.answer is not None for e in exercises.exercises.values())


def test_student_version_of_00_runs_and_fails_every_exercise(tmp_path):
    """The one notebook executed for real: everything outside the exercises runs, every
    exercise's test cell fails unsolved."""
    path = NOTEBOOK_DIR / "00_getting_started.ipynb"
    student = student_notebook(nbformat.read(path, as_version=4), path.name)
    results = run_cells(student, timeout=300, cwd=tmp_path)
    tests = 0
    for result in results:
        role = (_role(student.cells[result.index]) or ("", ""))[1]
        if role == "tests":
            tests += 1
            assert result.status == "error", f"cell {result.index} passes unsolved"
        elif role == "solution":
            assert result.ename == "NotImplementedError"
        else:
            assert result.status == "ok", f"cell {result.index}: {result.summary}"
    assert tests >= 3


# --------------------------------------------------------------------------- transformation


def test_indented_solution_keeps_its_indentation():
    source = ("def area(w, h):\n    ### BEGIN SOLUTION\n    a = w * h\n    return a\n"
              "    ### END SOLUTION\n\n\nfor i in range(2):\n    if i:\n"
              "        ### BEGIN SOLUTION\n        print(i)\n        ### END SOLUTION\n"
              "    print('after')")
    out = student_source(source, "nb, cell 1")
    assert out == ("def area(w, h):\n    # YOUR CODE HERE\n    raise NotImplementedError()\n"
                   "\n\nfor i in range(2):\n    if i:\n        # YOUR CODE HERE\n"
                   "        raise NotImplementedError()\n    print('after')")
    compile(out, "stub", "exec")


def test_hidden_tests_removed():
    source = ("ex.q1.check(x)\nassert len(x) == 3\n### BEGIN HIDDEN TESTS\nassert x == [1, 2, 3]\n"
              "### END HIDDEN TESTS")
    assert student_source(source, "c") == "ex.q1.check(x)\nassert len(x) == 3"
    only_hidden = "### BEGIN HIDDEN TESTS\nassert x == 3\n### END HIDDEN TESTS\n"
    assert student_source(only_hidden, "c") == HIDDEN_NOTE


def test_markdown_answer_replaced():
    source = "**Your answer:**\n<!-- BEGIN SOLUTION -->\nBecause of X.\n<!-- END SOLUTION -->"
    assert student_source(source, "c", markdown=True) == "**Your answer:**\nYOUR ANSWER HERE"


@pytest.mark.parametrize("source,message", [
    ("### BEGIN SOLUTION\nx = 1", "line 1: BEGIN SOLUTION is never closed"),
    ("x = 1\n### END SOLUTION", "line 2 .*END SOLUTION does not match \\(no BEGIN"),
    ("### BEGIN SOLUTION\n### BEGIN SOLUTION\nx = 1\n### END SOLUTION\n### END SOLUTION",
     "line 2 .*inside an open BEGIN SOLUTION.*do not nest"),
    ("### BEGIN SOLUTION\nx = 1\n### END HIDDEN TESTS", "line 3 .*END HIDDEN TESTS does not match"),
    ("### BEGIN SOLUTION ### END SOLUTION", "line 1 .*each marker on a line of its own"),
])
def test_malformed_markers_name_notebook_and_cell(source, message):
    nb = new_notebook(cells=[md("### Exercise 1 (1 point)"), code(source), code("assert x")])
    with pytest.raises(MarkerError, match=f"^lab.ipynb, cell 1 \\(Exercise 1\\), {message}"):
        stamp(nb, "lab.ipynb")
    with pytest.raises(MarkerError, match=f"^lab.ipynb, cell 1, {message}"):
        student_notebook(nb, "lab.ipynb")


def test_exercise_structure_errors():
    def nb(*cells):
        return new_notebook(cells=list(cells))

    solution = code("### BEGIN SOLUTION\nx = 1\n### END SOLUTION")
    both = code("### BEGIN SOLUTION\nx = 1\n### END SOLUTION\n"
                "### BEGIN HIDDEN TESTS\nassert x\n### END HIDDEN TESTS")
    cases = [
        (nb(md("### Exercise 1"), solution, code("print(x)")), "cell 1: .*no test cell"),
        (nb(md("### Exercise 1"), solution), "cell 1: .*no test cell"),
        (nb(md("### Exercise 1"), both), "cell 1 .*a solution and hidden tests in one cell"),
        (nb(md("### Exercise 1"), solution, code("ex.q2.check(x)")),
         "cell 2 .*checks q2; call ex.q1.check"),
        (nb(md("### Exercise 1"), md("### Exercise 1")), "a second 'Exercise 1'"),
        (nb(md("### Exercise 1")), "Exercise 1 has neither a solution cell"),
        (nb(md("<!-- BEGIN SOLUTION -->\nx\n<!-- END SOLUTION -->")),
         "cell 0: an answer cell before any"),
        (nb(md("### HIDDEN TESTS? <!-- BEGIN HIDDEN TESTS -->")), "does not belong"),
        (nb(solution, code("assert x == 1")), "cannot tell which exercise"),
    ]
    for notebook, message in cases:
        with pytest.raises(MarkerError, match=message):
            find_exercises(notebook, "lab.ipynb")


def test_exercises_from_headings_and_check_calls():
    nb = new_notebook(cells=[
        md("# Lab"),
        code("### BEGIN SOLUTION\nx = 1\n### END SOLUTION"),  # no heading: named by its check
        code("ex.q1.check(x)"),
        md("## Exercise 2 (3 points)\nWrite y."),
        code("### BEGIN SOLUTION\ny = 2\n### END SOLUTION"),
        code("assert y == 2"),
        md("### Exercise 3 (written)\nWhy?"),
        md("**Your answer:**\n<!-- BEGIN SOLUTION -->\nSo.\n<!-- END SOLUTION -->"),
    ])
    found = find_exercises(nb, "lab.ipynb", default_points={"q1": 4})
    q1, q2, q3 = found.exercises.values()
    assert (q1.id, q1.points, q1.solutions, q1.tests, q1.heading) == ("q1", 4, [1], 2, None)
    assert (q2.id, q2.points, q2.solutions, q2.tests) == ("q2", 3, [4], 5)
    assert (q3.id, q3.points, q3.written, q3.answer) == ("q3", 0, True, 7)
    assert found.max_points == 7
    assert found.roles == {1: ("q1", "solution"), 2: ("q1", "tests"), 4: ("q2", "solution"),
                           5: ("q2", "tests"), 7: ("q3", "answer")}


# --------------------------------------------------------------------------- writing


def _lab(tmp_path: Path) -> Path:
    path = tmp_path / "notebooks" / "00_lab.ipynb"
    path.parent.mkdir()
    nb = new_notebook(cells=[md("### Exercise 1 (1 point)"),
                             code("### BEGIN SOLUTION\nx = 1\n### END SOLUTION"),
                             code("assert x == 1"), md("### Exercise 2 (1 point)"),
                             code("### BEGIN SOLUTION\ny = 1\n### END SOLUTION"),
                             code("assert y == 1")])
    nb.cells[1].outputs = [nbformat.v4.new_output("stream", text="old output\n")]
    nb.cells[1].execution_count = 3
    nbformat.write(stamp(nb, path.name), path)
    return path


def test_write_then_refuse_an_edited_copy_then_force(tmp_path):
    source, build = _lab(tmp_path), tmp_path / "build"
    out = build / "student"
    [first] = write_student_versions([source], out, build_dir=build)
    assert first.status == "written"
    copy = out / source.name
    written = copy.read_bytes()
    manifest = json.loads((out / ".manifest.json").read_text())
    assert manifest["files"][source.name]["sha256"] == student_mod.sha256(written)
    assert nbformat.read(copy, as_version=4).cells[1].outputs == []

    [again] = write_student_versions([source], out, build_dir=build)
    assert again.status == "unchanged"

    edited = written.replace(b"# YOUR CODE HERE", b"x = 1  # my answer")
    copy.write_bytes(edited)
    [refused] = write_student_versions([source], out, build_dir=build)
    assert refused.status == "refused" and not refused.ok
    assert "edited after it was generated" in refused.message
    assert "make student FORCE=1" in refused.message and "--force" in refused.message
    assert copy.read_bytes() == edited  # the student's work is untouched

    [forced] = write_student_versions([source], out, force=True, build_dir=build)
    assert forced.status == "written" and ".backup" in forced.message
    assert copy.read_bytes() == written
    [backup] = (out / ".backup").iterdir()
    assert backup.read_bytes() == edited  # forced, but nothing lost


def test_source_change_updates_an_unedited_copy(tmp_path):
    source, build = _lab(tmp_path), tmp_path / "build"
    out = build / "student"
    write_student_versions([source], out, build_dir=build)
    nb = nbformat.read(source, as_version=4)
    nb.cells.append(md("A new closing remark."))
    nbformat.write(nb, source)
    [outcome] = write_student_versions([source], out, build_dir=build)
    assert outcome.status == "written"
    assert "closing remark" in (out / source.name).read_text()


def test_unknown_copy_is_refused(tmp_path):
    source, build = _lab(tmp_path), tmp_path / "build"
    (build / "student").mkdir(parents=True)
    (build / "student" / source.name).write_text("{}")
    [outcome] = write_student_versions([source], build / "student", build_dir=build)
    assert outcome.status == "refused" and "not in the manifest" in outcome.message
    assert (build / "student" / source.name).read_text() == "{}"


def test_malformed_notebook_is_reported_and_others_written(tmp_path):
    good, build = _lab(tmp_path), tmp_path / "build"
    bad = tmp_path / "notebooks" / "01_bad.ipynb"
    nbformat.write(new_notebook(cells=[md("### Exercise 1"), code("### BEGIN SOLUTION")]), bad)
    # (malformed markers: no metadata can be written for it, and the tools say where)
    outcomes = write_student_versions([good, bad], build / "student", build_dir=build)
    assert [o.status for o in outcomes] == ["written", "error"]
    assert "01_bad.ipynb, cell 1" in outcomes[1].message
    assert not (build / "student" / bad.name).exists()


@pytest.mark.parametrize("out", ["elsewhere", "build", "build/../elsewhere", "/tmp"])
def test_refuses_to_write_outside_build(tmp_path, out):
    build = tmp_path / "build"
    target = Path(out) if out.startswith("/") else tmp_path / out
    with pytest.raises(UsageError, match="must be inside"):
        check_out_dir(target, build)
    with pytest.raises(UsageError):
        write_student_versions([_lab(tmp_path)], target, build_dir=build)
    assert not (tmp_path / "elsewhere").exists()


def test_refuses_a_symlink_out_of_build(tmp_path):
    source, build = _lab(tmp_path), tmp_path / "build"
    (build / "student").mkdir(parents=True)
    outside = tmp_path / "outside.ipynb"
    outside.write_text("precious")
    (build / "student" / source.name).symlink_to(outside)
    [outcome] = write_student_versions([source], build / "student", force=True,
                                       build_dir=build)
    assert outcome.status == "error" and "outside" in outcome.message
    assert outside.read_text() == "precious"


def test_cli_exit_codes(tmp_path, monkeypatch, capsys):
    source, build = _lab(tmp_path), tmp_path / "build"
    monkeypatch.setattr(student_mod, "BUILD_DIR", build)
    out = str(build / "student")
    assert student_mod.main(["--out", out, str(source)]) == 0
    copy = build / "student" / source.name
    copy.write_text(copy.read_text().replace("YOUR CODE HERE", "my work"))
    assert student_mod.main(["--out", out, str(source)]) == 1
    assert "was edited" in capsys.readouterr().err
    assert student_mod.main(["--out", out, "--force", str(source)]) == 0
    assert student_mod.main(["--out", str(tmp_path / "nope"), str(source)]) == 2
    assert "must be inside" in capsys.readouterr().err


def test_student_tools_refuse_a_notebook_without_metadata():
    nb = new_notebook(cells=[md("### Exercise 1 (1 point)"),
                             code("### BEGIN SOLUTION\nx = 1\n### END SOLUTION"),
                             code("assert x == 1")])
    with pytest.raises(MarkerError, match="cell 0: an exercise heading without nbgrader metadata"
                                          ".*coursetools.exercise_metadata"):
        student_notebook(nb, "lab.ipynb")
    student = student_notebook(stamp(nb, "lab.ipynb"), "lab.ipynb")
    assert student.cells[1].metadata["nbgrader"]["grade_id"] == "q1_solution"
