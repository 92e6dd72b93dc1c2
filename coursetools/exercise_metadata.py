"""nbgrader's cell metadata: the one place where an exercise cell's role and points live.

Every exercise cell of an instructor notebook carries ``metadata.nbgrader`` as nbgrader
(schema 3) reads it, so that ``nbgrader generate_assignment`` and ``nbgrader autograde`` work
on the course as it is, and ``coursetools.student`` and ``coursetools.grade`` read the same
metadata (the markers only delimit the regions inside a cell):

==========  =========================  =============================================
role        cell                       nbgrader metadata
==========  =========================  =============================================
task        the ``### Exercise N``     read-only (``locked``)
            heading (markdown)
solution    code with BEGIN/END        ``solution``
            SOLUTION markers
tests       the test cell after it     ``grade`` + ``locked`` + ``points``
            (``ex.qN.check``, asserts)  (autograder tests)
answer      markdown with              ``solution`` + ``grade`` + ``points``
            ``<!-- BEGIN SOLUTION -->``  (manually graded answer)
==========  =========================  =============================================

``grade_id`` names the exercise and role: ``q2_tests``, ``q2_solution`` (``q2_solution_2``
for a second solution cell). Points go on the graded cell (the test cell of a checked
exercise, the answer cell of a written one) and must equal the heading's "(P points)".

``python -m coursetools.exercise_metadata`` writes the metadata that the headings and markers
imply into the notebooks (only ``metadata.nbgrader`` is touched) and regenerates
``helpers/exercises/reference.json``, from which ``ex.qN.solution()`` shows the reference
solution; ``--check`` only reports what is missing or stale.
"""

from __future__ import annotations

import argparse
import copy
import json
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import nbformat

from coursetools.markers import (
    HEADING,
    HIDDEN,
    SOLUTION,
    ExerciseCells,
    MarkerError,
    NotebookExercises,
    find_blocks,
    find_exercises,
)
from coursetools.notebooks import NOTEBOOK_DIR, ROOT, cell_source, course_notebooks

SCHEMA_VERSION = 3
REFERENCE = ROOT / "helpers" / "exercises" / "reference.json"
COMMAND = "python -m coursetools.exercise_metadata"
GRADE_ID = re.compile(r"^q(\d+)_(task|solution|tests|answer)(?:_(\d+))?$")
_EXERCISE_MODULE = re.compile(r"^\s*from\s+helpers\.exercises\s+import\s+(nb\d+)\b",
                              re.MULTILINE)
_FLAGS = {  # role -> (solution, grade, locked)
    "task": (False, False, True),
    "solution": (True, False, False),
    "tests": (False, True, True),
    "answer": (True, True, False),
}


def cell_metadata(role: str, grade_id: str, points: int | None = None) -> dict[str, Any]:
    """The ``metadata.nbgrader`` of one exercise cell."""
    if role not in _FLAGS:
        raise ValueError(f"role must be one of {sorted(_FLAGS)}, got {role!r}")
    solution, grade, locked = _FLAGS[role]
    meta: dict[str, Any] = {"grade": grade, "grade_id": grade_id, "locked": locked,
                            "schema_version": SCHEMA_VERSION, "solution": solution,
                            "task": False}
    if grade:
        if points is None or points < 0:
            raise ValueError(f"a graded cell ({grade_id}) needs points >= 0, got {points}")
        meta["points"] = points
    return meta


def implied_metadata(nb: dict[str, Any], name: str = "notebook") -> dict[int, dict[str, Any]]:
    """Cell index -> the nbgrader metadata that the notebook's headings and markers imply."""
    found = find_exercises(nb, name)
    wanted: dict[int, dict[str, Any]] = {}
    for ex in found.exercises.values():
        if ex.heading is not None:
            wanted[ex.heading] = cell_metadata("task", f"{ex.id}_task")
        for k, i in enumerate(ex.solutions):
            suffix = "" if k == 0 else f"_{k + 1}"
            wanted[i] = cell_metadata("solution", f"{ex.id}_solution{suffix}")
        if ex.tests is not None:
            wanted[ex.tests] = cell_metadata("tests", f"{ex.id}_tests", ex.points)
        if ex.answer is not None:
            wanted[ex.answer] = cell_metadata("answer", f"{ex.id}_answer",
                                              0 if ex.solutions else ex.points)
    return wanted


def stamp(nb: nbformat.NotebookNode, name: str = "notebook") -> nbformat.NotebookNode:
    """A copy of ``nb`` whose cells carry exactly the nbgrader metadata that its headings and
    markers imply (other metadata and every source untouched)."""
    wanted = implied_metadata(nb, name)
    stamped = copy.deepcopy(nb)
    for i, cell in enumerate(stamped.cells):
        cell.metadata.pop("nbgrader", None)
        if i in wanted:
            cell.metadata["nbgrader"] = wanted[i]
    return stamped


def stale_metadata(nb: dict[str, Any], name: str = "notebook") -> list[str]:
    """What differs between the cells' nbgrader metadata and what the headings and markers
    imply: one line per cell, empty when they agree."""
    wanted = implied_metadata(nb, name)
    problems = []
    for i, cell in enumerate(nb.get("cells", [])):
        have = cell.get("metadata", {}).get("nbgrader")
        want = wanted.get(i)
        if have == want:
            continue
        if want is None:
            problems.append(f"{name}, cell {i}: has nbgrader metadata ({have.get('grade_id')}) "
                            "but is no exercise cell")
        elif have is None:
            problems.append(f"{name}, cell {i}: {want['grade_id']} has no nbgrader metadata")
        else:
            keys = sorted(k for k in set(have) | set(want) if have.get(k) != want.get(k))
            detail = ", ".join(f"{k}={have.get(k)!r} (should be {want.get(k)!r})" for k in keys)
            problems.append(f"{name}, cell {i}: {want['grade_id']}: {detail}")
    return problems


def read_exercises(nb: dict[str, Any], name: str = "notebook") -> NotebookExercises:
    """The exercises of an instructor notebook, roles and points read from its nbgrader
    metadata. MarkerError (naming the cell and the fix) when metadata is missing, malformed,
    or contradicts the markers."""
    exercises: dict[str, ExerciseCells] = {}
    roles: dict[int, tuple[str, str]] = {}
    fix = f"run `{COMMAND}` to write it from the headings and markers"
    cells = nb.get("cells", [])
    solution_regions = [  # first every cell's markers: malformed ones are reported first
        any(b.kind == SOLUTION for b in find_blocks(
            cell_source(cell), f"{name}, cell {i}",
            allowed=(SOLUTION,) if cell.get("cell_type") == "markdown" else (SOLUTION, HIDDEN)))
        if cell.get("cell_type") in ("markdown", "code") else False
        for i, cell in enumerate(cells)]
    for i, (cell, marked) in enumerate(zip(cells, solution_regions, strict=True)):
        where = f"{name}, cell {i}"
        source = cell_source(cell)
        markdown = cell.get("cell_type") == "markdown"
        meta = cell.get("metadata", {}).get("nbgrader")
        if meta is None:
            if marked:
                raise MarkerError(f"{where}: a solution region in a cell without nbgrader "
                                  f"metadata; {fix}.")
            if markdown and HEADING.search(source):
                raise MarkerError(f"{where}: an exercise heading without nbgrader metadata; "
                                  f"{fix}.")
            continue
        match = GRADE_ID.match(str(meta.get("grade_id", "")))
        if not match:
            raise MarkerError(f"{where}: grade_id {meta.get('grade_id')!r} is not "
                              f"qN_task/solution/tests/answer; {fix}.")
        number, role = int(match.group(1)), match.group(2)
        flags = (meta.get("solution"), meta.get("grade"), meta.get("locked"))
        if flags != _FLAGS[role] or markdown != (role in ("task", "answer")):
            raise MarkerError(f"{where}: metadata of {meta['grade_id']} does not fit its role "
                              f"(solution, grade, locked = {flags}); {fix}.")
        if marked != (role in ("solution", "answer")):
            raise MarkerError(f"{where}: {meta['grade_id']} "
                              + ("has no solution markers" if not marked
                                 else "holds a solution region but is no solution cell"))
        ex = exercises.setdefault(f"q{number}", ExerciseCells(f"q{number}", number, 0))
        if role == "task":
            ex.heading = i
        elif role == "solution":
            ex.solutions.append(i)
        elif role == "tests":
            ex.tests, ex.points = i, int(meta.get("points", 0))
        else:
            ex.answer = i
            if not ex.solutions:
                ex.points = int(meta.get("points", 0))
        if role != "task":
            roles[i] = (ex.id, role)
    for ex in exercises.values():
        if ex.solutions and ex.tests is None:
            raise MarkerError(f"{name}: {ex.title} has a solution cell but no tests cell; {fix}.")
        if not ex.solutions and ex.answer is None:
            raise MarkerError(f"{name}: {ex.title} has neither a solution nor an answer cell.")
    return NotebookExercises(dict(sorted(exercises.items(), key=lambda kv: kv[1].number)),
                             roles)


# --------------------------------------------------------------------------- reference file


def solution_text(source: str) -> str:
    """A solution cell as ``solution()`` shows it: the marker lines dropped."""
    lines = [line for line in source.splitlines() if "SOLUTION" not in line
             or not re.search(r"\b(BEGIN|END) SOLUTION\b", line)]
    return "\n".join(lines).strip("\n")


def exercise_module(nb: dict[str, Any]) -> str | None:
    """The exercise module a notebook imports (``from helpers.exercises import nb05``)."""
    text = "\n".join(cell_source(c) for c in nb.get("cells", []) if c.get("cell_type") == "code")
    match = _EXERCISE_MODULE.search(text)
    return match.group(1) if match else None


def reference_entries(nb: dict[str, Any], name: str = "notebook") -> dict[str, dict[str, Any]]:
    """Exercise id -> {title, points, written, solution} for ``reference.json``."""
    found = read_exercises(nb, name)
    cells = nb.get("cells", [])
    return {ex.id: {"title": ex.title, "points": ex.points, "written": ex.written,
                    "solution": "\n\n".join(solution_text(cell_source(cells[i]))
                                            for i in ex.solutions)}
            for ex in found.exercises.values()}


def build_reference(notebooks: dict[str, nbformat.NotebookNode]) -> dict[str, dict[str, Any]]:
    """The content of ``reference.json`` for these notebooks (file name -> notebook):
    module -> {"notebook", "exercises"}."""
    reference: dict[str, dict[str, Any]] = {}
    for name, nb in notebooks.items():
        module = exercise_module(nb)
        if module:
            reference[module] = {"notebook": name, "exercises": reference_entries(nb, name)}
    return reference


def course_reference(directory: Path = NOTEBOOK_DIR) -> str:
    """``reference.json`` as the notebooks in ``directory`` imply it."""
    return reference_json(build_reference({p.name: nbformat.read(p, as_version=4)
                                           for p in course_notebooks(directory)}))


def reference_json(reference: dict[str, Any]) -> str:
    return json.dumps(reference, indent=1, ensure_ascii=False, sort_keys=True) + "\n"


# --------------------------------------------------------------------------- command


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m coursetools.exercise_metadata",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true",
                        help="write nothing; exit 1 when metadata or reference.json is stale")
    parser.add_argument("--notebooks", type=Path, default=NOTEBOOK_DIR,
                        help="the folder of the course notebooks (default: notebooks/)")
    parser.add_argument("only", nargs="*", type=Path, metavar="NOTEBOOK",
                        help="write metadata into these notebooks only (reference.json is always "
                             "built from every notebook)")
    args = parser.parse_args(argv)
    only = {p.name for p in args.only}
    unknown = only - {p.name for p in course_notebooks(args.notebooks)}
    if unknown:
        print(f"error: not course notebooks in {args.notebooks}: {', '.join(sorted(unknown))}",
              file=sys.stderr)
        return 2
    stale = False
    stamped = {}
    for path in course_notebooks(args.notebooks):
        nb = nbformat.read(path, as_version=4)
        try:
            problems = stale_metadata(nb, path.name)
            stamped[path.name] = stamp(nb, path.name)
        except MarkerError as err:
            print(f"error: {err}", file=sys.stderr)
            return 2
        if not problems or (only and path.name not in only):
            continue
        stale = True
        if args.check:
            print("\n".join(problems))
            continue
        nbformat.write(stamped[path.name], path)
        print(f"{path.name}: nbgrader metadata written ({len(problems)} cells)")
    text = reference_json(build_reference(stamped))
    if not REFERENCE.is_file() or REFERENCE.read_text(encoding="utf-8") != text:
        stale = True
        if args.check:
            print(f"{REFERENCE.relative_to(ROOT)} is stale")
        else:
            REFERENCE.write_text(text, encoding="utf-8")
            print(f"{REFERENCE.relative_to(ROOT)} written")
    if args.check and stale:
        print(f"run `{COMMAND}` to update", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
