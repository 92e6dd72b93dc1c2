"""Student versions of the course notebooks: ``make student`` / ``python -m coursetools.student``.

For each notebook it writes a copy into ``build/student/`` in which

- each ``### BEGIN SOLUTION`` .. ``### END SOLUTION`` block becomes ``# YOUR CODE HERE`` and
  ``raise NotImplementedError()`` (at the indentation of the BEGIN marker),
- each ``### BEGIN HIDDEN TESTS`` .. ``### END HIDDEN TESTS`` block is removed,
- each markdown ``<!-- BEGIN SOLUTION -->`` .. ``<!-- END SOLUTION -->`` becomes
  ``YOUR ANSWER HERE``,
- outputs and execution counts are cleared; exercise cells keep their nbgrader metadata
  (``coursetools.exercise_metadata``: role and points), which grading reads, and are made
  undeletable (test cells also read-only) in JupyterLab.

It only writes under ``build/``. A manifest (``.manifest.json``) records a hash of every
file it wrote; a copy whose content no longer matches (edited since) is never overwritten
unless forced, and even then it is first moved to ``.backup/``.
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import json
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import nbformat

from coursetools.exercise_metadata import read_exercises
from coursetools.markers import (
    ANSWER_STUB,
    HIDDEN,
    HIDDEN_NOTE,
    SOLUTION,
    STUB,
    MarkerError,
    NotebookExercises,
    find_blocks,
    rewrite_blocks,
)
from coursetools.notebooks import (
    NOTEBOOK_DIR,
    ROOT,
    atomic_write,
    cell_source,
    course_notebooks,
    display_path,
    notebook_bytes,
)

BUILD_DIR = ROOT / "build"
DEFAULT_OUT = BUILD_DIR / "student"
MANIFEST = ".manifest.json"
BACKUP_DIR = ".backup"
FORCE_HINT = "`make student FORCE=1` (or `python -m coursetools.student --force`)"


class UsageError(ValueError):
    """A bad command line: the message says what to do instead."""


@dataclass
class Outcome:
    """What happened to one notebook."""

    notebook: str
    status: str  # "written", "unchanged", "warning", "refused", "error"
    message: str = ""

    @property
    def ok(self) -> bool:
        """Nothing refused or failed."""
        return self.status in ("written", "unchanged", "warning")


# --------------------------------------------------------------------------- transformation


def _stub(block) -> list[str]:
    return [block.indent + line for line in STUB]


def student_source(source: str, where: str, markdown: bool = False) -> str:
    """A cell's source with solutions stubbed and hidden tests removed."""
    if markdown:
        blocks = find_blocks(source, where, allowed=(SOLUTION,))
        return rewrite_blocks(source, blocks, {SOLUTION: lambda b: [b.indent + ANSWER_STUB]})
    blocks = find_blocks(source, where)
    new = rewrite_blocks(source, blocks, {SOLUTION: _stub, HIDDEN: lambda b: []})
    if any(b.kind == HIDDEN for b in blocks):
        new = new.rstrip()
        if not new:
            new = HIDDEN_NOTE
    return new


def student_notebook(nb: nbformat.NotebookNode, name: str,
                     exercises: NotebookExercises | None = None) -> nbformat.NotebookNode:
    """The student version of notebook ``nb`` (named ``name`` in messages); MarkerError when
    its markers are malformed. ``nb`` is not modified."""
    if exercises is None:
        exercises = read_exercises(nb, name)
    student = copy.deepcopy(nb)
    for i, cell in enumerate(student.cells):
        where = f"{name}, cell {i}"
        if cell.cell_type == "code":
            cell.source = student_source(cell_source(cell), where)
            cell.outputs = []
            cell.execution_count = None
        elif cell.cell_type == "markdown":
            cell.source = student_source(cell_source(cell), where, markdown=True)
        cell.metadata.pop("execution", None)
        cell.metadata.pop("course", None)
        if i in exercises.roles:
            role = exercises.roles[i][1]
            cell.metadata["deletable"] = False
            if role == "tests":
                cell.metadata["editable"] = False
    student.metadata["course"] = {"notebook": name, "version": "student"}
    return student


# --------------------------------------------------------------------------- writing


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def check_out_dir(out: Path, build_dir: Path = BUILD_DIR) -> Path:
    """``out`` resolved; UsageError unless it lies inside ``build_dir``."""
    resolved, build = Path(out).resolve(), Path(build_dir).resolve()
    if build not in resolved.parents:
        raise UsageError(f"refusing to write student versions to {out}: the output folder must "
                         f"be inside {build} (for example {build / 'student'}), so nothing "
                         "outside build/ is ever overwritten.")
    return resolved


def read_manifest(out: Path) -> tuple[dict[str, dict[str, str]], str]:
    """The manifest's file records and a warning ('' if fine)."""
    path = out / MANIFEST
    if not path.exists():
        return {}, ""
    try:
        files = json.loads(path.read_text(encoding="utf-8"))["files"]
        if not isinstance(files, dict):
            raise TypeError("files is not a mapping")
        return files, ""
    except (ValueError, KeyError, TypeError):
        return {}, (f"{path} is unreadable, so every existing student copy counts as edited; "
                    f"check them, then run {FORCE_HINT}.")


def write_manifest(out: Path, files: dict[str, dict[str, str]]) -> None:
    text = json.dumps({"generated_by": "coursetools.student", "files": files}, indent=1,
                      sort_keys=True)
    atomic_write(out / MANIFEST, (text + "\n").encode("utf-8"))


def _backup(target: Path, out: Path) -> Path:
    folder = out / BACKUP_DIR
    folder.mkdir(exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    backup = folder / f"{target.stem}.{stamp}{target.suffix}"
    n = 1
    while backup.exists():
        backup = folder / f"{target.stem}.{stamp}-{n}{target.suffix}"
        n += 1
    os.replace(target, backup)
    return backup


def write_student_versions(notebooks: Sequence[Path], out: Path = DEFAULT_OUT, *,
                           force: bool = False, build_dir: Path = BUILD_DIR) -> list[Outcome]:
    """Write the student version of each notebook into ``out`` (inside ``build_dir``).

    A copy edited since it was generated (its hash differs from the manifest's), or one the
    manifest does not know, is left alone ("refused") unless ``force``; forced, it is moved
    to ``out/.backup/`` first. A notebook with malformed markers is an "error"; the others
    are still written.
    """
    out = check_out_dir(out, build_dir)
    out.mkdir(parents=True, exist_ok=True)
    manifest, warning = read_manifest(out)
    outcomes: list[Outcome] = []
    if warning:
        outcomes.append(Outcome(MANIFEST, "warning", warning))
    for source in notebooks:
        source = Path(source)
        name = source.name
        try:
            nb = nbformat.read(source, as_version=4)
            data = notebook_bytes(student_notebook(nb, name))
        except (MarkerError, OSError, ValueError) as exc:
            outcomes.append(Outcome(name, "error", f"not written: {exc}"))
            continue
        target = out / name
        if build_dir.resolve() not in target.resolve().parents:
            outcomes.append(Outcome(name, "error", f"not written: {target} resolves outside "
                                    f"{build_dir} (a symbolic link?)."))
            continue
        record = {"sha256": sha256(data), "source": display_path(source)}
        message = ""
        if target.exists():
            current = sha256(target.read_bytes())
            known = manifest.get(name, {}).get("sha256")
            if current == record["sha256"]:
                manifest[name] = record
                outcomes.append(Outcome(name, "unchanged", "up to date"))
                continue
            if current != known:
                why = ("was edited after it was generated" if known else
                       "was not written by this tool (it is not in the manifest)")
                if not force:
                    outcomes.append(Outcome(
                        name, "refused", f"{display_path(target)} {why}; left it alone. To "
                        f"replace it, run {FORCE_HINT}; the edited copy is then moved to "
                        f"{display_path(out / BACKUP_DIR)}/."))
                    continue
                message = ("replaced an edited copy; the old one is kept as "
                           f"{display_path(_backup(target, out))}")
        atomic_write(target, data)
        manifest[name] = record
        outcomes.append(Outcome(name, "written", message or f"wrote {display_path(target)}"))
    write_manifest(out, manifest)
    return outcomes


def _resolve_notebook(arg: str) -> Path:
    """A notebook given on the command line: a path, or a name in notebooks/."""
    path = Path(arg)
    if path.exists():
        return path
    if (NOTEBOOK_DIR / arg).exists():
        return NOTEBOOK_DIR / arg
    matches = sorted(NOTEBOOK_DIR.glob(f"{arg}*.ipynb"))
    if len(matches) == 1:
        return matches[0]
    raise UsageError(f"no notebook {arg!r}: give a path, a file name in notebooks/ or its "
                     "number (e.g. 00).")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m coursetools.student",
        description="Write student versions of the course notebooks (solutions stubbed, "
                    "hidden tests removed, outputs cleared).")
    parser.add_argument("notebooks", nargs="*",
                        help="notebooks to convert (default: every notebook in notebooks/)")
    parser.add_argument("--out", default=str(DEFAULT_OUT),
                        help="output folder, inside build/ (default: build/student)")
    parser.add_argument("--force", action="store_true",
                        help="also replace student copies edited since they were generated "
                             "(the edited copies are moved to OUT/.backup/)")
    args = parser.parse_args(argv)
    try:
        notebooks = ([_resolve_notebook(a) for a in args.notebooks] if args.notebooks
                     else course_notebooks())
        outcomes = write_student_versions(notebooks, Path(args.out), force=args.force,
                                          build_dir=BUILD_DIR)
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for o in outcomes:
        stream = sys.stdout if o.status in ("written", "unchanged") else sys.stderr
        print(f"{o.status:>9}  {o.notebook}: {o.message}", file=stream)
    bad = [o for o in outcomes if not o.ok]
    if bad:
        print(f"{len(bad)} of {len(outcomes)} not written as asked; see above.", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
