"""The executed course as an offline website: ``make html`` / ``python -m coursetools.site``.

Pages are rendered with nbconvert's JupyterLab template from the executed copies the test
suite keeps in ``build/executed/`` (:mod:`coursetools.executed`). A copy that is missing,
failed, or made from another version of its notebook or of ``helpers``
(:func:`coursetools.executed.source_hash`) is executed first, several at a time; after
``make test`` nothing is executed, only rendered.

The site loads nothing from the network: figures are embedded in the pages, math is typeset
by a MathJax copied into the site (the ``jupyter-server-mathjax`` package), and nbconvert's
CDN scripts are left out (``site_template/course_page.html.j2``). ``build/site/`` holds the
instructor edition (reference solutions included); ``--student`` writes the student edition
into ``build/site-student/``: exercise cells as in ``make student``, every other cell with
its outputs.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import sys
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import nbformat

from coursetools.executed import executed_path, source_hash, write_executed
from coursetools.notebooks import (
    NOTEBOOK_DIR,
    ROOT,
    cell_source,
    course_notebooks,
    display_path,
    notebook_budget,
)

SITE_DIR = ROOT / "build" / "site"
STUDENT_SITE_DIR = ROOT / "build" / "site-student"
README = ROOT / "README.md"
TEMPLATE_DIR = Path(__file__).resolve().parent / "site_template"
MATHJAX_URL = "mathjax/MathJax.js?config=TeX-AMS-MML_HTMLorMML-full,Safe"
CELL_TIMEOUT = 900  # seconds, as the suite's --nbval-cell-timeout
_ROW = re.compile(r"^\|\s*(\d{2})\s*\|\s*\[[^\]]*\]\(notebooks/([^)\s]+\.ipynb)\)\s*\|(.*)\|\s*$")
EDITIONS = {False: "Instructor edition: reference solutions included",
            True: "Student edition: exercises to do"}


class SiteError(RuntimeError):
    """The site could not be built; the message says why and what to do."""


@dataclass
class Page:
    """One notebook of the site."""

    notebook: Path
    executed: Path
    title: str
    href: str
    budget: int | None
    topic: str
    passed: bool


# --------------------------------------------------------------------------- executed copies


def stale_reason(notebook: Path, directory: Path | None = None) -> str | None:
    """Why the executed copy of ``notebook`` must be (re)made, or None when it is fresh."""
    copy = executed_path(notebook, directory)
    if not copy.exists():
        return "not executed yet"
    try:
        meta = nbformat.read(copy, as_version=4).metadata.get("course", {})
    except (OSError, ValueError) as exc:
        return f"unreadable executed copy ({exc})"
    if meta.get("source_sha256") != source_hash(notebook):
        return "the notebook or helpers changed since it was executed"
    if not meta.get("complete", False):
        return "its last run did not run every cell"
    if not meta.get("passed", False):
        return "its last run failed"
    return None


def execute_notebook(notebook: Path, directory: Path | None = None) -> tuple[Path, bool]:
    """Execute ``notebook`` in a fresh kernel (in its folder, as the suite does) and write its
    executed copy; returns the copy's path and whether every cell passed."""
    from coursetools.execute import run_cells

    nb = nbformat.read(notebook, as_version=4)
    start = time.monotonic()
    results = run_cells(nb, timeout=CELL_TIMEOUT, cwd=Path(notebook).parent)
    passed = all(r.status == "ok" for r in results)
    complete = all(r.status != "not run" for r in results)
    path = write_executed(nb, notebook, passed=passed, complete=complete,
                          seconds=time.monotonic() - start, executed_by="make html",
                          directory=directory)
    return path, passed


def ensure_executed(notebooks: Sequence[Path], directory: Path | None = None, *, jobs: int = 1,
                    log: Callable[[str], None] = print,
                    execute: Callable[[Path, Path | None], tuple[Path, bool]] = execute_notebook
                    ) -> list[Path]:
    """Execute the notebooks whose copy is stale (``jobs`` at a time); return those executed."""
    todo = []
    for nb in notebooks:
        reason = stale_reason(nb, directory)
        if reason:
            log(f"execute {nb.name}: {reason}")
            todo.append(nb)
    if not todo:
        log(f"all {len(notebooks)} executed notebooks are up to date: rendering only")
        return []
    if jobs <= 1 or len(todo) == 1:
        results = [execute(nb, directory) for nb in todo]
    else:
        with ProcessPoolExecutor(max_workers=min(jobs, len(todo))) as pool:
            results = list(pool.map(execute, todo, [directory] * len(todo)))
    for nb, (_, passed) in zip(todo, results, strict=True):
        log(f"executed {nb.name}: {'passed' if passed else 'FAILED (its page shows the error)'}")
    return todo


# --------------------------------------------------------------------------- pages


def readme_topics(readme: Path = README) -> dict[str, str]:
    """Notebook file name -> topic (Markdown), from the README's table of notebooks."""
    topics = {}
    text = readme.read_text(encoding="utf-8") if readme.exists() else ""
    for line in text.splitlines():
        match = _ROW.match(line.strip())
        if match:
            cells = [c.strip() for c in match.group(3).split("|")]
            topics[match.group(2)] = cells[0] if cells else ""
    return topics


def notebook_title(nb: nbformat.NotebookNode, fallback: str) -> str:
    """The first Markdown heading of the notebook, without the '#'s."""
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell_source(cell).splitlines():
                if line.startswith("#"):
                    return line.lstrip("#").strip()
    return fallback


def student_edition(nb: nbformat.NotebookNode, name: str) -> nbformat.NotebookNode:
    """The student version of an executed notebook: exercise cells as ``make student`` writes
    them (no outputs), every other cell with its outputs."""
    from coursetools.exercise_metadata import read_exercises
    from coursetools.student import student_notebook

    student = student_notebook(nb, name)
    exercise_cells = set(read_exercises(nb, name).roles)
    for i, (ours, theirs) in enumerate(zip(student.cells, nb.cells, strict=True)):
        if ours.cell_type == "code" and i not in exercise_cells:
            ours.outputs = theirs.outputs
            ours.execution_count = theirs.get("execution_count")
    return student


def _exporter():
    from nbconvert import HTMLExporter

    return HTMLExporter(template_name="lab", extra_template_paths=[str(TEMPLATE_DIR)],
                        template_file="course_page.html.j2", mathjax_url=MATHJAX_URL)


def render_page(nb: nbformat.NotebookNode, out: Path, title: str,
                nav: dict[str, object] | None = None) -> Path:
    """Write ``nb`` as an HTML page (figures embedded); ``nav``: links for the top bar."""
    nb = nbformat.from_dict(nb)
    nb.metadata["title"] = title
    nb.metadata.pop("widgets", None)
    body, _ = _exporter().from_notebook_node(nb, resources={"course_nav": nav})
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(body, encoding="utf-8")
    return out


def index_notebook(pages: Sequence[Page], student: bool, readme: Path = README
                   ) -> nbformat.NotebookNode:
    """The index page as a one-cell notebook: the README's title and opening, then its table of
    notebooks with links to the pages."""
    lines = readme.read_text(encoding="utf-8").splitlines() if readme.exists() else []
    title = lines[0].lstrip("# ").strip() if lines else "The course"
    intro = []
    for line in lines[1:]:
        if line.startswith("#"):
            break
        intro.append(line)
    rows = ["| # | notebook | topic | budget |", "| --- | --- | --- | --- |"]
    for p in pages:
        budget = f"{p.budget} s" if p.budget else "-"
        flag = "" if p.passed else " **(failed in its last run)**"
        name = re.sub(r"^\d{2}\s*·\s*", "", p.title)  # the number has its own column
        rows.append(f"| {p.notebook.name[:2]} | [{name}]({p.href}){flag} | {p.topic} "
                    f"| {budget} |")
    other = ("the instructor edition, with reference solutions, is built by `make html`"
             if student else "hand out the student edition, `make html-student`, to students")
    text = "\n".join([f"# {title}", *intro, f"**{EDITIONS[student]}** ({other}).", "",
                      "## Notebooks", "", *rows, "",
                      "Budgets are the wall time of each notebook run alone on a 2-core CPU."])
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell(text)]
    return nb


def copy_mathjax(site: Path) -> Path:
    """Copy MathJax (from the jupyter-server-mathjax package) into ``site/mathjax``."""
    try:
        import jupyter_server_mathjax
    except ImportError:
        raise SiteError("MathJax is missing: `make venv` installs it (jupyter-server-mathjax "
                        "in requirements.txt)") from None
    source = Path(jupyter_server_mathjax.__file__).parent / "static"
    target = site / "mathjax"
    if not (target / "MathJax.js").exists():
        shutil.copytree(source, target, dirs_exist_ok=True)
    return target


def build_site(notebooks: Sequence[Path] | None = None, out: Path | None = None, *,
               student: bool = False, executed_dir: Path | None = None, jobs: int = 1,
               readme: Path = README, log: Callable[[str], None] = print,
               execute: Callable[[Path, Path | None], tuple[Path, bool]] = execute_notebook
               ) -> list[Page]:
    """Build the site: execute stale notebooks, render a page each and the index."""
    notebooks = list(notebooks if notebooks is not None else course_notebooks(NOTEBOOK_DIR))
    if not notebooks:
        raise SiteError("no notebooks to render: give notebook paths or run from the course")
    out = Path(out or (STUDENT_SITE_DIR if student else SITE_DIR))
    ensure_executed(notebooks, executed_dir, jobs=jobs, log=log, execute=execute)
    topics = readme_topics(readme)
    pages, executed = [], []
    for path in notebooks:
        copy = executed_path(path, executed_dir)
        nb = nbformat.read(copy, as_version=4)
        meta = nb.metadata.get("course", {})
        pages.append(Page(path, copy, notebook_title(nb, path.stem), path.stem + ".html",
                          notebook_budget(path), topics.get(path.name, ""),
                          bool(meta.get("passed")) and bool(meta.get("complete"))))
        executed.append(nb)
    for i, (page, nb) in enumerate(zip(pages, executed, strict=True)):
        if student:
            nb = student_edition(nb, page.notebook.name)
        nav = {"edition": EDITIONS[student],
               "previous": {"href": pages[i - 1].href, "title": pages[i - 1].title} if i else None,
               "next": ({"href": pages[i + 1].href, "title": pages[i + 1].title}
                        if i + 1 < len(pages) else None)}
        render_page(nb, out / page.href, page.title, nav)
    render_page(index_notebook(pages, student, readme), out / "index.html",
                "Course index", {"edition": EDITIONS[student], "previous": None, "next": None})
    copy_mathjax(out)
    log(f"wrote {len(pages)} pages and index.html to {display_path(out)}")
    return pages


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m coursetools.site", description=__doc__.split(
        "\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("notebooks", nargs="*", type=Path,
                        help="notebooks to render (default: every course notebook)")
    parser.add_argument("--student", action="store_true",
                        help="the student edition, into build/site-student/")
    parser.add_argument("--out", type=Path, help="the site's folder")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1,
                        help="notebooks executed at a time (default: the cores)")
    args = parser.parse_args(argv)
    for nb in args.notebooks:
        if not nb.is_file() or nb.suffix != ".ipynb":
            parser.error(f"{nb} is not a notebook file (give paths like notebooks/00_*.ipynb)")
    try:
        pages = build_site(args.notebooks or None, args.out, student=args.student, jobs=args.jobs)
    except SiteError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    failed = [p.notebook.name for p in pages if not p.passed]
    index = (args.out or (STUDENT_SITE_DIR if args.student else SITE_DIR)) / "index.html"
    print(f"open {display_path(index)} in a browser")
    if failed:
        print(f"error: {len(failed)} notebook(s) failed, their pages show the error: "
              f"{', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
