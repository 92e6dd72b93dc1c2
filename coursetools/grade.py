"""Grade submitted notebooks: ``make grade SUBMISSIONS=dir`` / ``python -m coursetools.grade``.

Submissions are either ``DIR/<student>__<notebook>.ipynb`` or ``DIR/<student>/<notebook>.ipynb``
(deeper folders under a student's folder work too). For each one the grader

1. matches it to an instructor notebook (same file name, else the same two-digit number),
2. builds a copy in which every exercise's test cell is the instructor's (visible and hidden
   tests; whatever the student did to the test cells is ignored),
3. runs that copy in a fresh kernel, cell by cell, with a per-cell timeout, and
4. records, per exercise, whether its test cell passed, and any cell outside the exercises
   that raised or timed out.

Submission files are only read. Results go to ``OUT/grades.csv`` and ``OUT/report.md``
(also printed); the executed copies to ``OUT/executed/<student>/``.
"""

from __future__ import annotations

import argparse
import copy
import csv
import io
import json
import re
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import astuple, dataclass, fields
from pathlib import Path

import nbformat

from coursetools.execute import CellResult, KernelStartError, run_cells
from coursetools.markers import (
    ANSWER_STUB,
    HEADING,
    MarkerError,
    NotebookExercises,
    exercise_module_points,
    find_exercises,
)
from coursetools.notebooks import NOTEBOOK_DIR, ROOT, cell_source

DEFAULT_OUT = ROOT / "build" / "grades"
NOTEBOOK_ROW = "(notebook)"
_NOT_YET = re.compile(r"^✗\s*(?:Exercise \d+: )?not yet\.\s*")


@dataclass
class Row:
    """One line of the grade report."""

    student: str
    notebook: str
    exercise: str  # "q1", "q4 (written)", or NOTEBOOK_ROW for the notebook as a whole
    passed: str  # "yes", "no", "manual" (written answer, graded by hand)
    points: int | str
    max_points: int | str
    error: str = ""
    file: str = ""  # the submission, relative to the submissions folder


@dataclass
class Submission:
    """A submitted notebook and whose it is."""

    path: Path
    student: str  # "" when the file name does not say
    name: str  # the file name without the student prefix
    file: str  # path relative to the submissions folder


# --------------------------------------------------------------------------- finding


def find_submissions(folder: Path) -> list[Submission]:
    """Every .ipynb under ``folder`` (checkpoints and hidden files skipped), with its student:
    the first folder below ``folder``, else the part of the file name before ``__``."""
    found = []
    for path in sorted(Path(folder).rglob("*.ipynb")):
        rel = path.relative_to(folder)
        if any(part.startswith(".") for part in rel.parts) or not path.is_file():
            continue
        prefix, sep, rest = path.name.partition("__")
        name = rest if sep else path.name
        student = rel.parts[0] if len(rel.parts) > 1 else (prefix if sep else "")
        found.append(Submission(path, student, name, rel.as_posix()))
    return found


def match_notebook(name: str, notebooks: Path, metadata_name: str = "") -> Path | None:
    """The instructor notebook for a submitted file name: same name, else the same
    two-digit number, else the name the student version recorded in its metadata."""
    for candidate in (name, metadata_name):
        if candidate and (Path(notebooks) / Path(candidate).name).is_file():
            return Path(notebooks) / Path(candidate).name
    number = re.match(r"(\d{2})(?!\d)", name)
    matches = sorted(Path(notebooks).glob(f"{number.group(1)}_*.ipynb")) if number else []
    return matches[0] if len(matches) == 1 else None


def read_instructor(path: Path) -> tuple[nbformat.NotebookNode, NotebookExercises]:
    """An instructor notebook and its exercises (points from its exercise module)."""
    nb = nbformat.read(path, as_version=4)
    return nb, find_exercises(nb, path.name, exercise_module_points(nb))


# --------------------------------------------------------------------------- assembling


def submission_roles(nb: nbformat.NotebookNode, exercises: NotebookExercises
                     ) -> dict[int, tuple[str, str]]:
    """Exercise cells of a submission: from the metadata the student version put on them,
    else (metadata lost) by position: after heading 'Exercise N', the exercise's first code
    cell is its solution, the next its test cell, and its first markdown cell its answer."""
    roles = {}
    for i, cell in enumerate(nb.cells):
        tag = cell.get("metadata", {}).get("course", {})
        if isinstance(tag, dict) and tag.get("exercise") and tag.get("role"):
            roles[i] = (str(tag["exercise"]), str(tag["role"]))
    if roles:
        return roles
    current = None
    for i, cell in enumerate(nb.cells):
        heading = HEADING.search(cell_source(cell)) if cell.cell_type == "markdown" else None
        if heading:
            current = exercises.exercises.get(f"q{heading.group(1)}")
            wanted = (["solution", "tests"] if current and current.solutions else []) + (
                ["answer"] if current and current.answer is not None else [])
            continue
        if current is None:
            continue
        for role in wanted:
            if (role == "answer") == (cell.cell_type == "markdown"):
                roles[i] = (current.id, role)
                wanted.remove(role)
                break
    return roles


def assemble(submission: nbformat.NotebookNode, instructor: nbformat.NotebookNode,
             exercises: NotebookExercises) -> tuple[nbformat.NotebookNode, list[int | None]]:
    """The notebook to execute: the submission's cells (outputs cleared) with every test
    cell replaced by the instructor's; a missing test cell is put back after its solution
    cell (or at the end). Also, for each cell, its index in the submission (None if added).
    Exercise cells carry ``metadata.course = {"exercise", "role"}``."""
    roles = submission_roles(submission, exercises)
    cells, origin = [], []
    placed: set[str] = set()
    for i, cell in enumerate(submission.cells):
        ex_id, role = roles.get(i, ("", ""))
        if ex_id and ex_id not in exercises.exercises:
            ex_id, role = "", ""  # an exercise the course no longer has
        if role == "tests":
            if ex_id in placed:
                continue  # a duplicated test cell: the tests run once
            cell = _instructor_tests(instructor, exercises, ex_id)
            placed.add(ex_id)
        else:
            cell = copy.deepcopy(cell)
            cell.metadata.pop("course", None)
            if cell.cell_type == "code":
                cell.outputs, cell.execution_count = [], None
            if role:
                cell.metadata["course"] = {"exercise": ex_id, "role": role}
        cells.append(cell)
        origin.append(i)
    for ex_id, exercise in exercises.exercises.items():
        if exercise.tests is None or ex_id in placed:
            continue
        position = len(cells)
        for j, cell in enumerate(cells):
            if cell.metadata.get("course", {}).get("exercise") == ex_id:
                position = j + 1
        cells.insert(position, _instructor_tests(instructor, exercises, ex_id))
        origin.insert(position, None)
    graded = nbformat.v4.new_notebook(cells=cells, metadata=dict(submission.metadata))
    return graded, origin


def _instructor_tests(instructor: nbformat.NotebookNode, exercises: NotebookExercises,
                      ex_id: str) -> nbformat.NotebookNode:
    index = exercises.exercises[ex_id].tests
    assert index is not None
    cell = nbformat.v4.new_code_cell(cell_source(instructor.cells[index]))
    cell.metadata["course"] = {"exercise": ex_id, "role": "tests"}
    return cell


# --------------------------------------------------------------------------- grading


def _summary(result: CellResult | None) -> str:
    if result is None:
        return "not run"
    text = result.summary
    if result.ename == "CheckFailed":
        text = "CheckFailed: " + _NOT_YET.sub("", result.evalue.strip().splitlines()[0])
    return text[:300]


def exercise_rows(graded: nbformat.NotebookNode, results: dict[int, CellResult],
                  exercises: NotebookExercises, base: Row) -> list[Row]:
    """One row per exercise: passed when its test cell ran without error."""
    cells_of: dict[tuple[str, str], list[int]] = {}
    for j, cell in enumerate(graded.cells):
        tag = cell.metadata.get("course", {})
        if tag:
            cells_of.setdefault((tag["exercise"], tag["role"]), []).append(j)
    rows = []
    for ex_id, exercise in exercises.exercises.items():
        if exercise.solutions:
            test = results.get(cells_of.get((ex_id, "tests"), [-1])[0])
            answers = [results[j] for j in cells_of.get((ex_id, "solution"), [])
                       if j in results and results[j].status != "ok"]
            passed = test is not None and test.status == "ok"
            error = "" if passed else _summary(test)
            if not passed and answers:
                if answers[0].ename == "NotImplementedError":
                    error = "no answer yet (the answer cell still raises NotImplementedError)"
                else:
                    error = f"answer cell: {_summary(answers[0])} | tests: {error}"
            rows.append(_row(base, ex_id, "yes" if passed else "no",
                             exercise.points if passed else 0, exercise.points, error))
        if exercise.answer is not None:
            answer = "".join(cell_source(graded.cells[j])
                             for j in cells_of.get((ex_id, "answer"), []))
            text = answer.replace(ANSWER_STUB, "").replace("**Your answer:**", "").strip()
            label = ex_id if not exercise.solutions else f"{ex_id} (written)"
            rows.append(_row(base, label, "manual", "",
                             (exercise.points or "") if exercise.written else "",
                             "written answer: grade by hand" if text else "no answer written"))
    return rows


def _row(base: Row, exercise: str, passed: str, points: int | str, max_points: int | str,
         error: str) -> Row:
    return Row(base.student, base.notebook, exercise, passed, points, max_points, error,
               base.file)


def notebook_problems(graded: nbformat.NotebookNode, results: dict[int, CellResult],
                      origin: list[int | None]) -> str:
    """What went wrong outside the exercises (cells that raised, timed out or did not run)."""
    problems = []
    for j, result in sorted(results.items()):
        if result.status == "ok" or graded.cells[j].metadata.get("course"):
            continue
        first = cell_source(graded.cells[j]).strip().splitlines()[0][:60]
        where = f"cell {origin[j]}" if origin[j] is not None else "an added cell"
        problems.append(f"{where} (`{first}`): {_summary(result)}")
    not_run = [r for r in results.values() if r.status == "not run"]
    if not_run and not any("not run" in p for p in problems):
        problems.append(not_run[0].evalue)
    if not problems:
        return ""
    more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
    return problems[0] + more


def grade_submission(sub: Submission, notebooks: Path = NOTEBOOK_DIR, *, timeout: int = 120,
                     executed_dir: Path | None = None) -> list[Row]:
    """The report rows of one submission. Never raises for a bad submission: problems become
    a row whose exercise is NOTEBOOK_ROW. The submission file is only read."""
    base = Row(sub.student, sub.name, NOTEBOOK_ROW, "no", 0, "", "", sub.file)

    def problem(message: str, max_points: int | str = "") -> list[Row]:
        return [_row(base, NOTEBOOK_ROW, "no", 0, max_points, message)]

    if not sub.student:
        return problem("cannot tell whose submission this is: name the file "
                       "<student>__<notebook>.ipynb or put it in a folder named after the "
                       "student")
    try:
        text = sub.path.read_bytes().decode("utf-8")
        json.loads(text)  # to say "not valid JSON" apart from other notebook errors
    except (ValueError, UnicodeDecodeError) as exc:
        instructor = match_notebook(sub.name, notebooks)
        base.notebook = instructor.name if instructor else sub.name
        return problem(f"not a valid notebook: not valid JSON ({_first_line(exc)})",
                       _max_points(instructor) if instructor else "")
    except OSError as exc:
        return problem(f"cannot read the file: {exc}")
    try:
        submission = nbformat.reads(text, as_version=4)
        if not isinstance(submission.get("cells"), list):
            raise ValueError("it has no list of cells")
        recorded = submission.metadata.get("course", {})
        recorded = str(recorded.get("notebook", "")) if isinstance(recorded, dict) else ""
    except Exception as exc:  # nbformat raises many kinds for JSON that is not a notebook
        return problem(f"not a valid notebook: {_first_line(exc)}")
    instructor_path = match_notebook(sub.name, notebooks, recorded)
    if instructor_path is None:
        return problem(f"no instructor notebook matches {sub.name!r} in {notebooks}: name the "
                       "file like the course notebook, e.g. <student>__00_getting_started.ipynb")
    base.notebook = instructor_path.name
    try:
        instructor, exercises = read_instructor(instructor_path)
    except (MarkerError, ValueError, OSError) as exc:
        return problem(f"cannot read the instructor notebook {instructor_path.name}: {exc}")
    try:
        graded, origin = assemble(submission, instructor, exercises)
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        return problem(f"not a valid notebook: {_first_line(exc)}", exercises.max_points)
    try:
        with tempfile.TemporaryDirectory(prefix="grade-") as workdir:
            log = None
            if executed_dir is not None:
                executed_dir.mkdir(parents=True, exist_ok=True)
                log = executed_dir / f"{Path(sub.name).stem}.kernel.log"
                log.unlink(missing_ok=True)
            results = {r.index: r for r in run_cells(graded, timeout=timeout,
                                                     cwd=Path(workdir), log=log)}
    except KernelStartError as exc:
        return problem(str(exc), exercises.max_points)
    if executed_dir is not None:
        nbformat.write(graded, executed_dir / sub.name)
        _drop_if_quiet(log)
    rows = exercise_rows(graded, results, exercises, base)
    trouble = notebook_problems(graded, results, origin)
    if trouble:
        rows.insert(0, _row(base, NOTEBOOK_ROW, "no", 0, 0, trouble))
    return rows


def _drop_if_quiet(log: Path | None) -> None:
    """Delete a kernel log that holds only the kernel's routine start-up warning."""
    if log is None or not log.exists():
        return
    lines = log.read_text(encoding="utf-8", errors="replace").splitlines()
    if all(not line.strip() or "running over TCP without encryption" in line for line in lines):
        log.unlink()


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:200] if text else type(exc).__name__


def _max_points(instructor: Path) -> int | str:
    try:
        return read_instructor(instructor)[1].max_points
    except (MarkerError, ValueError, OSError):
        return ""


# --------------------------------------------------------------------------- reports


def write_csv(rows: Sequence[Row], path: Path) -> None:
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow([field.name for field in fields(Row)])
        writer.writerows(astuple(row) for row in rows)


def read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def report_markdown(rows: Sequence[Row], heading: str = "") -> str:
    """A readable report: totals per submission, then every exercise."""
    out = io.StringIO()
    out.write("# Grade report\n\n" + (heading + "\n\n" if heading else ""))
    out.write("## Totals\n\n| student | notebook | points | of | problems |\n"
              "| --- | --- | ---: | ---: | --- |\n")
    groups: dict[tuple[str, str, str], list[Row]] = {}
    for row in rows:
        groups.setdefault((row.student, row.notebook, row.file), []).append(row)
    for (student, notebook, _file), group in groups.items():
        got = sum(r.points for r in group if isinstance(r.points, int))
        total = sum(r.max_points for r in group if isinstance(r.max_points, int)
                    and r.passed != "manual")
        failed = [r.exercise for r in group if r.passed == "no" and r.exercise != NOTEBOOK_ROW]
        notes = [r.error for r in group if r.exercise == NOTEBOOK_ROW]
        manual = sum(r.passed == "manual" for r in group)
        problems = "; ".join(notes + ([f"failed: {', '.join(failed)}"] if failed else [])
                             + ([f"{manual} written answer(s) to grade by hand"] if manual
                                else []))
        out.write(f"| {_cell(student or '?')} | {_cell(notebook)} | {got} | {total} | "
                  f"{_cell(problems)} |\n")
    out.write("\n## By exercise\n\n| student | notebook | exercise | passed | points | "
              "error |\n| --- | --- | --- | --- | --- | --- |\n")
    for r in rows:
        points = (f"{r.points if r.points != '' else '-'}/{r.max_points}"
                  if r.max_points != "" else str(r.points or "-"))
        out.write(f"| {_cell(r.student or '?')} | {_cell(r.notebook)} | {_cell(r.exercise)} | "
                  f"{r.passed} | {points} | {_cell(r.error)} |\n")
    return out.getvalue()


def grade_all(submissions: Path, out: Path = DEFAULT_OUT, *, notebooks: Path = NOTEBOOK_DIR,
              timeout: int = 120, progress: bool = False) -> list[Row]:
    """Grade every submission under ``submissions``; write ``out/grades.csv`` and
    ``out/report.md``; return the rows."""
    submissions, out = Path(submissions).resolve(), Path(out).resolve()
    if not submissions.is_dir():
        raise ValueError(f"{submissions} is not a folder of submissions.")
    if out == submissions or submissions in out.parents:
        raise ValueError(f"the output folder {out} is inside the submissions folder; choose "
                         "another --out (default build/grades), so no submission is touched.")
    found = find_submissions(submissions)
    rows: list[Row] = []
    start = time.monotonic()
    for n, sub in enumerate(found, 1):
        if progress:
            print(f"[{n}/{len(found)}] {sub.file} ...", end=" ", flush=True)
        executed = out / "executed" / (sub.student or "_unknown")
        try:
            sub_rows = grade_submission(sub, notebooks, timeout=timeout, executed_dir=executed)
        except Exception as exc:  # a grader bug must not stop the class's grading
            sub_rows = [Row(sub.student, sub.name, NOTEBOOK_ROW, "no", 0, "",
                            f"grader error ({type(exc).__name__}: {_first_line(exc)}); grade "
                            "this one by hand and report the bug", sub.file)]
        rows.extend(sub_rows)
        if progress:
            got = sum(r.points for r in sub_rows if isinstance(r.points, int))
            print(f"{got} points")
    out.mkdir(parents=True, exist_ok=True)
    write_csv(rows, out / "grades.csv")
    heading = (f"{len(found)} submission(s) from `{submissions}`, graded "
               f"{time.strftime('%Y-%m-%d %H:%M')} in {time.monotonic() - start:.0f} s "
               f"(per-cell timeout {timeout} s).")
    (out / "report.md").write_text(report_markdown(rows, heading), encoding="utf-8")
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m coursetools.grade",
        description="Grade submitted notebooks: run each in a fresh kernel with the "
                    "instructor's tests (hidden ones included) and write a report.")
    parser.add_argument("submissions", type=Path,
                        help="folder of <student>__<notebook>.ipynb files or "
                             "<student>/<notebook>.ipynb folders")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT,
                        help="where grades.csv, report.md and executed/ go "
                             "(default: build/grades)")
    parser.add_argument("--timeout", type=int, default=120,
                        help="seconds each cell may run before it is interrupted "
                             "(default: 120)")
    parser.add_argument("--notebooks", type=Path, default=NOTEBOOK_DIR,
                        help="the instructor notebooks (default: notebooks/)")
    args = parser.parse_args(argv)
    try:
        rows = grade_all(args.submissions, args.out, notebooks=args.notebooks,
                         timeout=args.timeout, progress=True)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    out = args.out.resolve()
    print()
    print((out / "report.md").read_text(encoding="utf-8"))
    print(f"{len(rows)} rows written to {out / 'grades.csv'} and {out / 'report.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
