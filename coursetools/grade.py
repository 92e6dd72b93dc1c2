"""Grade submitted notebooks: ``make grade SUBMISSIONS=dir`` / ``python -m coursetools.grade``.

Submissions are either ``DIR/<student>__<notebook>.ipynb`` or ``DIR/<student>/<notebook>.ipynb``
(deeper folders under a student's folder work too). For each one the grader

1. matches it to an instructor notebook (same file name, else the same two-digit number),
2. builds a copy in which every exercise's test cell is the instructor's (visible and hidden
   tests; whatever the student did to the test cells is ignored),
3. adds the grader's tamper checks around every test cell (:mod:`coursetools.tamper`),
4. runs that copy in a fresh kernel, cell by cell, with a per-cell timeout, inside a
   bubblewrap sandbox with resource limits (:mod:`coursetools.sandbox`), and
5. records, per exercise, whether its test cell passed (and the checks it relies on were
   the originals), and any cell outside the exercises that raised or timed out.

Submissions are graded ``--jobs`` at a time, and ``--shard K/N`` grades the K-th of N parts
of a class, for a job array; ``python -m coursetools.grade merge`` joins the parts.
Submission files are only read. Results go to ``OUT/grades.csv`` and ``OUT/report.md``
(also printed), a feedback page per submission to ``OUT/feedback/<student>/``, the executed
copies to ``OUT/executed/<student>/``.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import copy
import csv
import io
import json
import os
import re
import shutil
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import astuple, dataclass, fields
from pathlib import Path

import nbformat

from coursetools import feedback, tamper
from coursetools import sandbox as sandboxing
from coursetools.execute import CellResult
from coursetools.exercise_metadata import GRADE_ID, read_exercises
from coursetools.markers import (
    ANSWER_STUB,
    HEADING,
    HIDDEN,
    MarkerError,
    NotebookExercises,
    find_blocks,
)
from coursetools.notebooks import NOTEBOOK_DIR, ROOT, cell_source
from coursetools.sandbox import Isolation, Limits, SandboxUnavailable

__all__ = ["Isolation", "Limits", "Row", "SandboxUnavailable", "Submission", "grade_all",
           "grade_submission", "merge", "main"]

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
    sandbox: str = ""  # how it ran: "bwrap", "none (--no-sandbox)"; "" when it did not run
    tamper: str = ""  # "none found", "tampered: q1, q3", "not checked (...)"; "" if not run


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
    """An instructor notebook and its exercises (roles and points from its nbgrader
    metadata)."""
    nb = nbformat.read(path, as_version=4)
    return nb, read_exercises(nb, path.name)


# --------------------------------------------------------------------------- assembling


def submission_roles(nb: nbformat.NotebookNode, exercises: NotebookExercises
                     ) -> dict[int, tuple[str, str]]:
    """Exercise cells of a submission: from the nbgrader metadata the student version kept
    (``grade_id`` ``q2_tests`` is exercise q2's test cell), else (metadata lost) by position:
    after heading 'Exercise N', the exercise's first code cell is its solution, the next its
    test cell, and its first markdown cell its answer."""
    roles = {}
    for i, cell in enumerate(nb.cells):
        meta = cell.get("metadata", {}).get("nbgrader", {})
        match = GRADE_ID.match(str(meta.get("grade_id", ""))) if isinstance(meta, dict) else None
        if match and match.group(2) != "task":
            roles[i] = (f"q{match.group(1)}", match.group(2))
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
                       if j in results and results[j].status not in ("ok", "not run")]
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
               base.file, base.sandbox, base.tamper)


def cell_problems(graded: nbformat.NotebookNode, results: dict[int, CellResult],
                  origin: list[int | None]) -> list[str]:
    """What went wrong outside the exercises (cells that raised, timed out or did not run),
    one line each."""
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
    return problems


def notebook_problems(graded: nbformat.NotebookNode, results: dict[int, CellResult],
                      origin: list[int | None]) -> str:
    """The first of :func:`cell_problems`, and how many more there are; "" if none."""
    problems = cell_problems(graded, results, origin)
    if not problems:
        return ""
    more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
    return problems[0] + more


def hidden_lines(instructor: nbformat.NotebookNode, exercises: NotebookExercises) -> list[str]:
    """The lines of the instructor's hidden tests (never shown to students)."""
    lines = []
    for exercise in exercises.exercises.values():
        if exercise.tests is None:
            continue
        source = cell_source(instructor.cells[exercise.tests])
        rows = source.splitlines()
        for block in find_blocks(source, exercise.id, (HIDDEN,)):
            lines += [line.strip() for line in rows[block.begin + 1:block.end] if line.strip()]
    return lines


def apply_tamper_findings(rows: list[Row], found: dict[str, list[str]], not_checked: str
                          ) -> str:
    """Take the points of every exercise whose checks were tampered with; the submission's
    tamper status."""
    for row in rows:
        ex_id = row.exercise.split()[0]
        if ex_id in found and row.passed != "manual":
            was = f" | tests: {row.error}" if row.error else ""
            row.passed, row.points = "no", 0
            row.error = ("tampered: " + "; ".join(found[ex_id][:3]) + was)[:300]
    if not_checked:
        return f"not checked ({not_checked})"[:200]
    return "tampered: " + ", ".join(found) if found else "none found"


def grade_submission(sub: Submission, notebooks: Path = NOTEBOOK_DIR, *, timeout: int = 120,
                     executed_dir: Path | None = None, feedback_dir: Path | None = None,
                     isolation: Isolation | None = None) -> list[Row]:
    """The report rows of one submission. Never raises for a bad submission: problems become
    a row whose exercise is NOTEBOOK_ROW. The submission file is only read. It runs under
    ``isolation`` (default: sandboxed, default limits); ``executed_dir`` gets the executed
    copy, ``feedback_dir`` the feedback page."""
    isolation = isolation or Isolation()
    base = Row(sub.student, sub.name, NOTEBOOK_ROW, "no", 0, "", "", sub.file)
    rows, cell_errors, hidden = _grade(sub, notebooks, timeout, executed_dir, isolation, base)
    if feedback_dir is not None:
        stem = Path(sub.name).stem
        feedback.write(feedback_dir / f"{stem}.html", sub.student, base.notebook, rows,
                       cell_errors, hidden)
    return rows


def _grade(sub: Submission, notebooks: Path, timeout: int, executed_dir: Path | None,
           isolation: Isolation, base: Row) -> tuple[list[Row], list[str], list[str]]:
    def problem(message: str, max_points: int | str = "") -> tuple[list[Row], list[str],
                                                                   list[str]]:
        return [_row(base, NOTEBOOK_ROW, "no", 0, max_points, message)], [], []

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
        hidden = hidden_lines(instructor, exercises)
    except (MarkerError, ValueError, OSError) as exc:
        return problem(f"cannot read the instructor notebook {instructor_path.name}: {exc}")
    try:
        graded, origin = assemble(submission, instructor, exercises)
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        return problem(f"not a valid notebook: {_first_line(exc)}", exercises.max_points)
    course_dirs = [ROOT / "helpers", *isolation.python_path]
    origin = tamper.add_guards(graded, origin, instructor, course_dirs)
    base.sandbox = isolation.label
    execution = sandboxing.run(graded, timeout=timeout, isolation=isolation)
    if execution.notebook is None or (execution.problem and not execution.results):
        rows, _, _ = problem(execution.problem or "the notebook did not run",
                             exercises.max_points)
        return rows, [rows[0].error], hidden
    graded = execution.notebook
    results = {r.index: _in_submission(r, origin) for r in execution.results}
    if executed_dir is not None:
        executed_dir.mkdir(parents=True, exist_ok=True)
        nbformat.write(tamper.strip_guards(graded), executed_dir / sub.name)
        log = executed_dir / f"{Path(sub.name).stem}.kernel.log"
        log.unlink(missing_ok=True)
        if not _quiet(execution.log):
            log.write_text(execution.log, encoding="utf-8")
    found, not_checked = tamper.findings(graded, results)
    base.tamper = "pending"
    rows = exercise_rows(graded, results, exercises, base)
    status = apply_tamper_findings(rows, found, not_checked)
    errors = cell_problems(graded, results, origin)
    if execution.problem:
        errors.insert(0, execution.problem)
    if errors:
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        rows.insert(0, _row(base, NOTEBOOK_ROW, "no", 0, 0, errors[0] + more))
    for row in rows:
        row.tamper = status
    return rows, errors, hidden


def _in_submission(result: CellResult, origin: list[int | None]) -> CellResult:
    """``result`` with "cell N" in a not-run message counted as in the submission."""
    if result.status == "not run":
        def where(match: re.Match) -> str:
            j = int(match.group(1))
            place = origin[j] if 0 <= j < len(origin) else None
            return f"cell {place}" if place is not None else "an added cell"
        result.evalue = re.sub(r"\bcell (\d+)", where, result.evalue)
    return result


def _quiet(log: str) -> bool:
    """Whether a kernel log holds only the kernel's routine start-up messages."""
    routine = ("running over TCP without encryption", "Fontconfig error")
    return all(not line.strip() or any(r in line for r in routine)
               for line in log.splitlines())


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
    out.write("## Totals\n\n| student | notebook | points | of | problems | sandbox | tamper |\n"
              "| --- | --- | ---: | ---: | --- | --- | --- |\n")
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
                  f"{_cell(problems)} | {_cell(group[0].sandbox or '-')} | "
                  f"{_cell(group[0].tamper or '-')} |\n")
    out.write("\n## By exercise\n\n| student | notebook | exercise | passed | points | "
              "error |\n| --- | --- | --- | --- | --- | --- |\n")
    for r in rows:
        points = (f"{r.points if r.points != '' else '-'}/{r.max_points}"
                  if r.max_points != "" else str(r.points or "-"))
        out.write(f"| {_cell(r.student or '?')} | {_cell(r.notebook)} | {_cell(r.exercise)} | "
                  f"{r.passed} | {points} | {_cell(r.error)} |\n")
    return out.getvalue()


def parse_shard(text: str) -> tuple[int, int]:
    """``"2/8"`` -> (2, 8): the second of eight parts."""
    match = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", text or "")
    if not match or not 1 <= int(match.group(1)) <= int(match.group(2)):
        raise ValueError(f"--shard wants K/N with 1 <= K <= N (e.g. 2/8), got {text!r}")
    return int(match.group(1)), int(match.group(2))


def shard_of(found: Sequence[Submission], shard: tuple[int, int] | None) -> list[Submission]:
    """The K-th of N parts of the (sorted) submissions: every N-th one, from the K-th on.
    The same folder always splits the same way, whatever machine runs the part."""
    if shard is None:
        return list(found)
    k, n = shard
    return [sub for i, sub in enumerate(found) if i % n == k - 1]


def _heading(submissions: Path, count: int, timeout: int, isolation: Isolation) -> str:
    limits = isolation.limits
    where = "sandboxed with bubblewrap" if isolation.sandbox else (
        "NOT sandboxed (--no-sandbox): the students' code ran with the grader's permissions")
    return (f"{count} submission(s) from `{submissions}`, per-cell timeout {timeout} s, "
            f"{where}; limits per submission: {limits.wall_seconds} s for the notebook, "
            f"{limits.memory_mb} MiB of memory, {limits.cpu_seconds} s of CPU per process"
            + (f", {limits.processes} processes and threads" if isolation.sandbox else "")
            + ".")


def grade_all(submissions: Path, out: Path = DEFAULT_OUT, *, notebooks: Path = NOTEBOOK_DIR,
              timeout: int = 120, progress: bool = False, isolation: Isolation | None = None,
              jobs: int = 1, shard: tuple[int, int] | None = None) -> list[Row]:
    """Grade every submission under ``submissions`` (or the ``shard`` = (K, N) part of
    them), ``jobs`` at a time; write ``out/grades.csv``, ``out/report.md``, ``out/run.json``
    (timing), ``out/feedback/`` and, for a shard, ``out/shard.json``; return the rows, in
    the same order whatever ``jobs`` is. SandboxUnavailable (a ValueError) when ``isolation``
    asks for a sandbox (the default) and bubblewrap cannot give one."""
    isolation = isolation or Isolation()
    submissions, out = Path(submissions).resolve(), Path(out).resolve()
    if not submissions.is_dir():
        raise ValueError(f"{submissions} is not a folder of submissions.")
    if out == submissions or submissions in out.parents:
        raise ValueError(f"the output folder {out} is inside the submissions folder; choose "
                         "another --out (default build/grades), so no submission is touched.")
    if isolation.sandbox:
        reason = sandboxing.unavailable(isolation.python_path)
        if reason:
            raise SandboxUnavailable(
                f"{reason}. Only for submissions you trust, grade without a sandbox: "
                "`make grade ... NO_SANDBOX=1` (`--no-sandbox`); the report records it.")
    everything = find_submissions(submissions)
    found = shard_of(everything, shard)
    lock = threading.Lock()
    done = 0
    start = time.monotonic()

    def one(sub: Submission) -> list[Row]:
        nonlocal done
        folder = sub.student or "_unknown"
        try:
            sub_rows = grade_submission(sub, notebooks, timeout=timeout,
                                        executed_dir=out / "executed" / folder,
                                        feedback_dir=out / "feedback" / folder,
                                        isolation=isolation)
        except Exception as exc:  # a grader bug must not stop the class's grading
            sub_rows = [Row(sub.student, sub.name, NOTEBOOK_ROW, "no", 0, "",
                            f"grader error ({type(exc).__name__}: {_first_line(exc)}); grade "
                            "this one by hand and report the bug", sub.file)]
        if progress:
            got = sum(r.points for r in sub_rows if isinstance(r.points, int))
            with lock:
                done += 1
                print(f"[{done}/{len(found)}] {sub.file}: {got} points", flush=True)
        return sub_rows

    jobs = max(1, int(jobs))
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=jobs)
    try:
        per_submission = list(pool.map(one, found))
    except BaseException:  # Ctrl-C: stop the sandboxes now, not after their notebooks
        pool.shutdown(wait=False, cancel_futures=True)
        sandboxing.stop_all()
        raise
    pool.shutdown()
    rows = [row for sub_rows in per_submission for row in sub_rows]
    seconds = time.monotonic() - start
    out.mkdir(parents=True, exist_ok=True)
    write_csv(rows, out / "grades.csv")
    heading = _heading(submissions, len(everything), timeout, isolation)
    part = (f" This is part {shard[0]} of {shard[1]} ({len(found)} submission(s)); merge the "
            "parts with `python -m coursetools.grade merge`.") if shard else ""
    (out / "report.md").write_text(report_markdown(rows, heading + part), encoding="utf-8")
    run = {"submissions": len(found), "seconds": round(seconds, 2), "jobs": jobs,
           "per_minute": round(60 * len(found) / seconds, 2) if seconds > 0 else None,
           "finished": time.strftime("%Y-%m-%d %H:%M:%S"), "sandbox": isolation.label}
    (out / "run.json").write_text(json.dumps(run, indent=1) + "\n", encoding="utf-8")
    if shard:
        (out / "shard.json").write_text(json.dumps({
            "shard": shard[0], "of": shard[1], "heading": heading,
            "files": [s.file for s in found], "all_files": [s.file for s in everything]},
            indent=1) + "\n", encoding="utf-8")
    else:
        (out / "shard.json").unlink(missing_ok=True)
    return rows


def throughput(out: Path) -> str:
    """The line that says how fast the run in ``out`` was (from its run.json)."""
    try:
        run = json.loads((Path(out) / "run.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return ""
    rate = f": {run['per_minute']} submissions per minute" if run.get("per_minute") else ""
    return (f"Graded {run['submissions']} submission(s) in {run['seconds']:.1f} s with "
            f"{run['jobs']} job(s){rate}.")


# --------------------------------------------------------------------------- merging


def _row_from_csv(record: dict[str, str]) -> Row:
    values = {}
    for f in fields(Row):
        value = record.get(f.name, "")
        values[f.name] = int(value) if f.name in ("points", "max_points") and \
            re.fullmatch(r"-?\d+", value or "") else value
    return Row(**values)


def merge(parts: Sequence[Path], out: Path) -> list[Row]:
    """Join the outputs of the N shard runs (folders holding grades.csv and shard.json)
    into one report in ``out``, the same as one run over the whole class: same rows, same
    order, same report; feedback pages and executed copies are copied over. ValueError when
    a part is missing, repeated, or from another split."""
    out = Path(out).resolve()
    shards: dict[int, tuple[dict, list[Row], Path]] = {}
    for part in parts:
        folder = Path(part).resolve()
        if folder.is_file():
            folder = folder.parent
        try:
            info = json.loads((folder / "shard.json").read_text(encoding="utf-8"))
            records = read_csv(folder / "grades.csv")
        except (OSError, ValueError) as exc:
            raise ValueError(f"{folder} is not the output of a --shard run ({exc})") from None
        if info["shard"] in shards:
            raise ValueError(f"part {info['shard']} of {info['of']} is given twice "
                             f"({shards[info['shard']][2]} and {folder})")
        shards[info["shard"]] = (info, [_row_from_csv(r) for r in records], folder)
    if not shards:
        raise ValueError("no parts to merge")
    first = next(iter(shards.values()))[0]
    n = first["of"]
    if any(info["of"] != n or info["all_files"] != first["all_files"]
           for info, _, _ in shards.values()):
        raise ValueError("the parts come from different splits or different submission "
                         "folders; grade every part of one folder with the same --shard K/N")
    missing = sorted(set(range(1, n + 1)) - set(shards))
    if missing:
        raise ValueError(f"parts {', '.join(map(str, missing))} of {n} are missing")
    by_file: dict[str, list[Row]] = {}
    for info, rows, _ in shards.values():
        for file in info["files"]:
            by_file[file] = []
        for row in rows:
            by_file.setdefault(row.file, []).append(row)
    rows = [row for file in first["all_files"] for row in by_file.get(file, [])]
    out.mkdir(parents=True, exist_ok=True)
    for _, _, folder in sorted(shards.values(), key=lambda s: s[0]["shard"]):
        for sub in ("feedback", "executed"):
            if (folder / sub).is_dir() and folder != out:
                shutil.copytree(folder / sub, out / sub, dirs_exist_ok=True)
    write_csv(rows, out / "grades.csv")
    (out / "report.md").write_text(report_markdown(rows, first["heading"]), encoding="utf-8")
    (out / "shard.json").unlink(missing_ok=True)
    return rows


# --------------------------------------------------------------------------- command line


def _merge_main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m coursetools.grade merge",
        description="Join the outputs of `--shard K/N` runs into one report.")
    parser.add_argument("parts", type=Path, nargs="+",
                        help="the --out folders of the N parts (or their grades.csv)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT,
                        help="where the joined grades.csv, report.md, feedback/ and "
                             "executed/ go (default: build/grades)")
    args = parser.parse_args(argv)
    try:
        rows = merge(args.parts, args.out)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    out = args.out.resolve()
    print((out / "report.md").read_text(encoding="utf-8"))
    print(f"{len(rows)} rows from {len(args.parts)} part(s) written to {out / 'grades.csv'} "
          f"and {out / 'report.md'}")
    return 0


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def _jobs(text: str) -> int | str:
    if text == "auto":
        return text
    try:
        jobs = int(text)
    except ValueError:
        jobs = 0
    if jobs < 1:
        raise argparse.ArgumentTypeError(f"a number of jobs (1 or more) or `auto`, not {text!r}")
    return jobs


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["merge"]:
        return _merge_main(argv[1:])
    defaults = Limits()
    parser = argparse.ArgumentParser(
        prog="python -m coursetools.grade",
        description="Grade submitted notebooks: run each in a fresh kernel, in a sandbox, "
                    "with the instructor's tests (hidden ones included) and write a report "
                    "and a feedback page per submission. `python -m coursetools.grade merge "
                    "DIR...` joins the reports of --shard runs.")
    parser.add_argument("submissions", type=Path,
                        help="folder of <student>__<notebook>.ipynb files or "
                             "<student>/<notebook>.ipynb folders")
    parser.add_argument("--out", type=Path, default=None,
                        help="where grades.csv, report.md, feedback/ and executed/ go "
                             "(default: build/grades, or build/grades/shard-K-of-N)")
    parser.add_argument("--timeout", type=int, default=120,
                        help="seconds each cell may run before it is interrupted "
                             "(default: 120)")
    parser.add_argument("--notebooks", type=Path, default=NOTEBOOK_DIR,
                        help="the instructor notebooks (default: notebooks/)")
    parser.add_argument("--jobs", "-j", type=_jobs, default="auto",
                        help="submissions graded at a time, or `auto`: the number of cores "
                             f"({_cores()} here; the default)")
    parser.add_argument("--shard", default=None, metavar="K/N",
                        help="grade only the K-th of N parts of the submissions (for a job "
                             "array); join the parts with `merge`")
    parser.add_argument("--no-sandbox", action="store_true",
                        help="run the students' code WITHOUT the bubblewrap sandbox, with "
                             "your permissions (only for submissions you trust; the report "
                             "says so)")
    parser.add_argument("--notebook-timeout", type=int, default=defaults.wall_seconds,
                        help="seconds a whole notebook may run, kernel start included "
                             f"(default: {defaults.wall_seconds})")
    parser.add_argument("--memory", type=int, default=defaults.memory_mb,
                        help="MiB of memory per submission: per process, and all its "
                             f"processes together (default: {defaults.memory_mb})")
    parser.add_argument("--processes", type=int, default=defaults.processes,
                        help="processes and threads per submission, in the sandbox "
                             f"(default: {defaults.processes})")
    parser.add_argument("--cpu-time", type=int, default=defaults.cpu_seconds,
                        help=f"CPU seconds per process (default: {defaults.cpu_seconds})")
    parser.add_argument("--pythonpath", type=Path, action="append", default=[],
                        help="a folder of course code besides helpers/ that notebooks "
                             "import (read-only in the sandbox; may be repeated)")
    args = parser.parse_args(argv)
    try:
        shard = parse_shard(args.shard) if args.shard else None
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    out = args.out or (DEFAULT_OUT / f"shard-{shard[0]}-of-{shard[1]}" if shard
                       else DEFAULT_OUT)
    limits = Limits(memory_mb=args.memory, processes=args.processes,
                    cpu_seconds=args.cpu_time, wall_seconds=args.notebook_timeout)
    isolation = Isolation(sandbox=not args.no_sandbox, limits=limits,
                          python_path=tuple(p.resolve() for p in args.pythonpath))
    if args.no_sandbox:
        print("warning: --no-sandbox: the submissions' code runs with your permissions; the "
              "report records it.", file=sys.stderr)
    try:
        rows = grade_all(args.submissions, out, notebooks=args.notebooks,
                         timeout=args.timeout, progress=True, isolation=isolation,
                         jobs=_cores() if args.jobs == "auto" else args.jobs, shard=shard)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    out = out.resolve()
    print()
    print((out / "report.md").read_text(encoding="utf-8"))
    print(f"{len(rows)} rows written to {out / 'grades.csv'} and {out / 'report.md'}; "
          f"feedback pages in {out / 'feedback'}")
    print(throughput(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
