"""nbgrader itself accepts the course: generate_assignment on every notebook, and autograde
on notebook 00 (a submission with the reference answers scores full marks, an unanswered one
scores nothing)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from coursetools.exercise_metadata import read_exercises
from coursetools.notebooks import NOTEBOOK_DIR, cell_source, course_notebooks

pytest.importorskip("nbgrader")
BIN = Path(sys.executable).parent
ASSIGNMENT = "course"


def nbgrader(root: Path, *args: str, timeout: int = 600) -> subprocess.CompletedProcess:
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    result = subprocess.run([str(BIN / "nbgrader"), *args], cwd=root, env=env, timeout=timeout,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result


@pytest.fixture(scope="module")
def course(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("nbgrader")
    (root / "nbgrader_config.py").write_text(
        "c = get_config()\nc.CourseDirectory.course_id = 'dnn'\n"
        "c.ExecutePreprocessor.timeout = 300\n")
    source = root / "source" / ASSIGNMENT
    source.mkdir(parents=True)
    for path in course_notebooks():
        shutil.copy(path, source / path.name)
    nbgrader(root, "generate_assignment", ASSIGNMENT, "--force")
    return root


def test_generate_assignment_releases_every_notebook_without_solutions(course):
    released = sorted((course / "release" / ASSIGNMENT).glob("*.ipynb"))
    assert [p.name for p in released] == [p.name for p in course_notebooks()]
    for path in released:
        text = path.read_text(encoding="utf-8")
        assert "BEGIN SOLUTION" not in text and "BEGIN HIDDEN TESTS" not in text, path.name


def _score(course: Path, student: str, notebook: str) -> tuple[float, float]:
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        submitted = gradebook.find_submission_notebook(notebook, ASSIGNMENT, student)
        return submitted.score, submitted.max_score


def test_autograde_gives_full_marks_to_the_reference_answers_and_none_to_stubs(course):
    name = "00_getting_started.ipynb"
    released = nbformat.read(course / "release" / ASSIGNMENT / name, as_version=4)
    instructor = nbformat.read(NOTEBOOK_DIR / name, as_version=4)
    exercises = read_exercises(instructor, name)
    answered = nbformat.from_dict(released)
    for ex in exercises.exercises.values():
        for i in ex.solutions + ([ex.answer] if ex.answer is not None else []):
            answered.cells[i].source = "\n".join(
                line for line in cell_source(instructor.cells[i]).splitlines()
                if "BEGIN SOLUTION" not in line and "END SOLUTION" not in line)
    for student, nb in (("ada", answered), ("bob", released)):
        folder = course / "submitted" / student / ASSIGNMENT
        folder.mkdir(parents=True)
        nbformat.write(nb, folder / name)
    nbgrader(course, "autograde", ASSIGNMENT, "--force")  # both students, one nbgrader start
    score, maximum = _score(course, "ada", name.removesuffix(".ipynb"))
    written = sum(e.points for e in exercises.exercises.values() if e.written)
    assert maximum == exercises.max_points + written and maximum > 0
    assert score == exercises.max_points  # every autograded point; written ones wait for a human
    assert _score(course, "bob", name.removesuffix(".ipynb"))[0] == 0
