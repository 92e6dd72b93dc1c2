"""Exercises in course notebooks, worked out from their headings and nbgrader's markers.

The format (see README, "For instructors")::

    ### Exercise 2 (3 points)          <- markdown heading: id ``q2``, 3 points
    ### BEGIN SOLUTION / ### END SOLUTION          <- solution cell (code)
    ex.q2.check(...); assert ...                    <- test cell, right after it
    ### BEGIN HIDDEN TESTS / ### END HIDDEN TESTS   <- inside the test cell
    <!-- BEGIN SOLUTION --> / <!-- END SOLUTION -->  <- markdown answer cell (written)

As in nbgrader, a line is a marker when it contains the marker's words (``BEGIN SOLUTION``,
``END SOLUTION``, ``BEGIN HIDDEN TESTS``, ``END HIDDEN TESTS``); the rest of the line is
decoration. This module finds the marked blocks and rewrites them; ``find_exercises`` infers
each cell's role and points from the headings and markers, which
``coursetools.exercise_metadata`` writes into the cells' nbgrader metadata, the source that the
course tools then read. It never executes.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from coursetools.notebooks import cell_source

SOLUTION, HIDDEN = "SOLUTION", "HIDDEN TESTS"
STUB = ("# YOUR CODE HERE", "raise NotImplementedError()")
ANSWER_STUB = "YOUR ANSWER HERE"
HIDDEN_NOTE = "# (hidden tests run when your notebook is graded)"

_MARKER = re.compile(r"\b(BEGIN|END) (SOLUTION|HIDDEN TESTS)\b")
HEADING = re.compile(r"^\s{0,3}#{1,6}\s*Exercise\s+(\d+)\b(.*)$", re.MULTILINE)
_POINTS = re.compile(r"(\d+)\s*points?\b", re.IGNORECASE)
_CHECK_CALL = re.compile(r"\b[A-Za-z_]\w*\.(q\d+)\.check\s*\(")


class MarkerError(ValueError):
    """A notebook's exercise markers are malformed; the message says where and how to fix."""


@dataclass(frozen=True)
class Block:
    """A marked block: lines ``begin``..``end`` (the marker lines, inclusive)."""

    kind: str  # SOLUTION or HIDDEN
    begin: int
    end: int
    indent: str


@dataclass
class ExerciseCells:
    """One exercise of a notebook and the indices of its cells."""

    id: str  # "q1": the Exercise object ``ex.q1`` and the heading "Exercise 1"
    number: int
    points: int
    heading: int | None = None
    solutions: list[int] = field(default_factory=list)
    tests: int | None = None
    answer: int | None = None

    @property
    def title(self) -> str:
        return f"Exercise {self.number}"

    @property
    def written(self) -> bool:
        """A written-answer exercise: graded by hand, not by tests."""
        return not self.solutions and self.answer is not None


@dataclass
class NotebookExercises:
    """The exercises of one notebook, in order, and the role of each exercise cell."""

    exercises: dict[str, ExerciseCells]
    roles: dict[int, tuple[str, str]]  # cell index -> (exercise id, "solution"|"tests"|"answer")

    @property
    def max_points(self) -> int:
        return sum(e.points for e in self.exercises.values() if not e.written)


# --------------------------------------------------------------------------- blocks


def find_blocks(source: str, where: str, allowed: tuple[str, ...] = (SOLUTION, HIDDEN)
                ) -> list[Block]:
    """The marked blocks of a cell's source; MarkerError when unbalanced, nested or unknown."""
    blocks: list[Block] = []
    open_kind, open_line, open_indent = None, 0, ""
    for number, line in enumerate(source.splitlines()):
        found = _MARKER.findall(line)
        if not found:
            continue
        place = f"{where}, line {number + 1} ({line.strip()!r})"
        if len(found) > 1:
            raise MarkerError(f"{place}: put each marker on a line of its own.")
        action, kind = found[0]
        if kind not in allowed:
            raise MarkerError(f"{place}: a {kind} marker does not belong in this cell; "
                              "hidden tests go in a code test cell, solutions in a code "
                              "solution cell or a markdown answer cell.")
        if action == "BEGIN":
            if open_kind is not None:
                raise MarkerError(f"{place}: BEGIN {kind} inside an open BEGIN {open_kind} "
                                  f"(line {open_line + 1}); close it with END {open_kind} "
                                  "first, markers do not nest.")
            open_kind, open_line = kind, number
            open_indent = line[:len(line) - len(line.lstrip())]
        else:
            if open_kind != kind:
                opened = f"the open BEGIN {open_kind}" if open_kind else "no BEGIN before it"
                raise MarkerError(f"{place}: END {kind} does not match ({opened}).")
            blocks.append(Block(kind, open_line, number, open_indent))
            open_kind = None
    if open_kind is not None:
        raise MarkerError(f"{where}, line {open_line + 1}: BEGIN {open_kind} is never closed; "
                          f"add a line `### END {open_kind}` after the block.")
    return blocks


def rewrite_blocks(source: str, blocks: list[Block],
                   replace: dict[str, Callable[[Block], list[str]]]) -> str:
    """``source`` with each block of a kind in ``replace`` swapped for
    ``replace[kind](block) -> list of lines`` (markers included in what is replaced)."""
    lines = source.splitlines()
    out: list[str] = []
    position = 0
    for block in blocks:
        if block.kind not in replace:
            continue
        out.extend(lines[position:block.begin])
        out.extend(replace[block.kind](block))
        position = block.end + 1
    out.extend(lines[position:])
    return "\n".join(out)


# --------------------------------------------------------------------------- exercises


def find_exercises(nb: dict[str, Any], name: str = "notebook",
                   default_points: dict[str, int] | None = None) -> NotebookExercises:
    """The exercises of a notebook (a dict or NotebookNode), from its headings and markers.

    ``default_points`` (by id) is used where a heading states no points, else 1.
    Raises MarkerError, naming ``name`` and the cell, when the markers are malformed or an
    exercise's cells do not follow the format.
    """
    exercises: dict[str, ExerciseCells] = {}
    roles: dict[int, tuple[str, str]] = {}
    current: ExerciseCells | None = None  # the exercise of the last heading
    unowned: list[int] = []  # solution cells seen before any heading
    open_solution: int | None = None  # the last solution cell, until its test cell comes
    defaults = default_points or {}

    def where(i: int) -> str:
        return f"{name}, cell {i}" + (f" ({current.title})" if current else "")

    def no_test_cell(i: int) -> MarkerError:
        return MarkerError(f"{name}, cell {i}: this solution cell has no test cell after it; "
                           "follow it with a code cell that calls ex.qN.check(...) and/or "
                           "asserts.")

    def new_exercise(number: int, points: int | None, i: int) -> ExerciseCells:
        ex_id = f"q{number}"
        if ex_id in exercises:
            raise MarkerError(f"{where(i)}: a second 'Exercise {number}'; number the "
                              "exercises of a notebook uniquely.")
        exercise = ExerciseCells(ex_id, number, defaults.get(ex_id, 1) if points is None
                                 else points)
        exercises[ex_id] = exercise
        return exercise

    for i, cell in enumerate(nb.get("cells", [])):
        source = cell_source(cell)
        if cell.get("cell_type") == "markdown":
            headings = HEADING.findall(source)
            if len(headings) > 1:
                raise MarkerError(f"{where(i)}: {len(headings)} exercise headings in one cell; "
                                  "give each exercise a markdown cell of its own.")
            if headings:
                if open_solution is not None:
                    raise no_test_cell(open_solution)
                number, rest = headings[0]
                points = _POINTS.search(rest)
                stated = int(points.group(1)) if points else None
                if stated is None and re.search(r"\bwritten\b", rest, re.IGNORECASE):
                    stated = 0  # "(written)": graded by hand, no points stated
                current = new_exercise(int(number), stated, i)
                current.heading = i
            if find_blocks(source, where(i), allowed=(SOLUTION,)):
                if current is None:
                    raise MarkerError(f"{where(i)}: an answer cell before any '### Exercise N' "
                                      "heading; put the heading in a markdown cell above it.")
                if current.answer is not None:
                    raise MarkerError(f"{where(i)}: {current.title} has a second answer cell "
                                      f"(the first is cell {current.answer}).")
                current.answer = i
                roles[i] = (current.id, "answer")
            continue
        if cell.get("cell_type") != "code":
            continue
        blocks = find_blocks(source, where(i))
        kinds = {b.kind for b in blocks}
        if SOLUTION in kinds and HIDDEN in kinds:
            raise MarkerError(f"{where(i)}: a solution and hidden tests in one cell; put the "
                              "hidden tests in the test cell after the solution cell.")
        if SOLUTION in kinds:
            if current is None:
                unowned.append(i)
            else:
                current.solutions.append(i)
                roles[i] = (current.id, "solution")
            open_solution = i
            continue
        checks = sorted(set(_CHECK_CALL.findall(source)))
        is_test = bool(HIDDEN in kinds or checks
                       or (open_solution is not None and "assert" in source))
        if not is_test:
            if open_solution is not None:
                raise no_test_cell(open_solution)
            continue
        open_solution = None
        if len(checks) > 1:
            raise MarkerError(f"{where(i)}: checks of several exercises ({', '.join(checks)}) "
                              "in one test cell; give each exercise its own test cell.")
        owner = current
        if unowned or owner is None:  # no heading: the check call names the exercise
            if not checks:
                raise MarkerError(f"{where(i)}: cannot tell which exercise this test cell "
                                  "belongs to; put a markdown heading '### Exercise N "
                                  "(P points)' above the exercise's cells.")
            owner = new_exercise(int(checks[0][1:]), None, i)
            owner.solutions.extend(unowned)
            roles.update({s: (owner.id, "solution") for s in unowned})
            unowned.clear()
        if checks and owner.id != checks[0]:
            raise MarkerError(f"{where(i)}: this test cell of {owner.title} checks "
                              f"{checks[0]}; call ex.{owner.id}.check(...) or renumber the "
                              "heading.")
        if owner.tests is not None:
            raise MarkerError(f"{where(i)}: {owner.title} has a second test cell (the first is "
                              f"cell {owner.tests}); merge them.")
        owner.tests = i
        roles[i] = (owner.id, "tests")

    if open_solution is not None:
        raise no_test_cell(open_solution)
    for exercise in exercises.values():
        if not exercise.solutions and exercise.answer is None:
            raise MarkerError(f"{name}, cell {exercise.heading}: {exercise.title} has neither a "
                              "solution cell (### BEGIN SOLUTION) nor an answer cell "
                              "(<!-- BEGIN SOLUTION -->).")
        if exercise.solutions and exercise.tests is None:
            raise MarkerError(f"{name}, cell {exercise.solutions[-1]}: {exercise.title} has no "
                              "test cell; follow its solution cell with one.")
    return NotebookExercises(exercises, roles)
