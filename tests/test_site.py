"""The executed copies the suite keeps (coursetools.executed), the offline site built from
them (coursetools.site), and the course's JupyterLab launcher (coursetools.lab)."""

from __future__ import annotations

import base64
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from coursetools import executed, lab, site
from coursetools.notebooks import NOTEBOOK_DIR, ROOT

# a 2x2 red PNG
PNG = base64.b64encode(bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000002000000020802000000fdd49a73000000164944415478"
    "9c63f8cfc0f09f81e13f03c37f0606000036e406fd8f8a1c070000000049454e44ae426082")).decode()


def write_notebook(path: Path, cells: list, budget: int = 60) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nb.cells = [nbformat.v4.new_markdown_cell(f"# {path.stem[:2]} · Demo\n\n"
                                              f"**Time budget:** {budget} s")] + cells
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path


def fake_executed(notebook: Path, directory: Path, passed: bool = True) -> Path:
    """An executed copy of ``notebook`` whose code cells each got a stream and a PNG output."""
    nb = nbformat.read(notebook, as_version=4)
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=f"out {i}\n"),
                            nbformat.v4.new_output("display_data", data={"image/png": PNG,
                                                                         "text/plain": "<Fig>"})]
    return executed.write_executed(nb, notebook, passed=passed, complete=True, seconds=1.0,
                                   executed_by="test", directory=directory)


def never(*_args):
    raise AssertionError("nothing should be executed: every executed copy is fresh")


# --------------------------------------------------------------------------- executed copies


def test_source_hash_follows_sources_not_outputs(tmp_path):
    nb = write_notebook(tmp_path / "00_a.ipynb", [nbformat.v4.new_code_cell("x = 1")])
    before = executed.source_hash(nb)
    data = nbformat.read(nb, as_version=4)
    data.cells[1].outputs = [nbformat.v4.new_output("stream", name="stdout", text="1\n")]
    data.cells[1].metadata["tags"] = ["whatever"]
    nbformat.write(data, nb)
    assert executed.source_hash(nb) == before
    data.cells[1].source = "x = 2"
    nbformat.write(data, nb)
    assert executed.source_hash(nb) != before
    helpers = tmp_path / "helpers"
    helpers.mkdir()
    (helpers / "a.py").write_text("A = 1\n")
    one = executed.source_hash(nb, helpers)
    (helpers / "a.py").write_text("A = 2\n")
    assert executed.source_hash(nb, helpers) != one


def test_suite_keeps_executed_notebooks_with_outputs(tmp_path):
    """A real pytest + nbval run of two tiny notebooks: each copy has its outputs (text and
    a PNG), says whether it passed, and the committed notebook stays output-free."""
    folder = tmp_path / "nbs"
    ok = write_notebook(folder / "00_ok.ipynb", [
        nbformat.v4.new_code_cell("print('hello')"),
        nbformat.v4.new_code_cell("from IPython.display import Image\nimport base64\n"
                                  f"Image(data=base64.b64decode('{PNG}'))")])
    bad = write_notebook(folder / "01_bad.ipynb", [nbformat.v4.new_code_cell("1 / 0"),
                                                   nbformat.v4.new_code_cell("print('after')")])
    env = {**os.environ, "COURSE_EXECUTED_DIR": str(tmp_path / "executed"),
           "COURSE_TIMING_DIR": str(tmp_path / "build")}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-c", str(ROOT / "pyproject.toml"), str(folder),
         "-p", "no:xdist", "-p", "no:cacheprovider", "-q"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 1, result.stdout[-3000:]  # 01_bad fails
    good = nbformat.read(tmp_path / "executed" / ok.name, as_version=4)
    assert good.cells[1].outputs[0].text == "hello\n"
    assert good.cells[2].outputs[0].data["image/png"].strip() == PNG
    assert [c.execution_count for c in good.cells[1:]] == [1, 2]
    assert good.metadata.course["passed"] and good.metadata.course["complete"]
    assert good.metadata.course["source_sha256"] == executed.source_hash(ok)
    failed = nbformat.read(tmp_path / "executed" / bad.name, as_version=4)
    assert failed.cells[1].outputs[0].output_type == "error"
    assert failed.cells[1].outputs[0].ename == "ZeroDivisionError"
    assert failed.cells[2].outputs[0].text == "after\n"  # nbval runs every cell
    assert failed.metadata.course["passed"] is False
    assert all(not c.get("outputs") for c in nbformat.read(ok, as_version=4).cells)
    assert site.stale_reason(ok, tmp_path / "executed") is None
    assert site.stale_reason(bad, tmp_path / "executed") == "its last run failed"


def test_stale_reasons(tmp_path):
    nb = write_notebook(tmp_path / "nbs" / "00_a.ipynb", [nbformat.v4.new_code_cell("x = 1")])
    out = tmp_path / "executed"
    assert site.stale_reason(nb, out) == "not executed yet"
    fake_executed(nb, out)
    assert site.stale_reason(nb, out) is None
    data = nbformat.read(nb, as_version=4)
    data.cells[1].source = "x = 2"
    nbformat.write(data, nb)
    assert "changed" in site.stale_reason(nb, out)
    (out / nb.name).write_text("{not json")
    assert site.stale_reason(nb, out).startswith("unreadable")


def test_ensure_executed_runs_only_stale_notebooks(tmp_path):
    nbs = [write_notebook(tmp_path / "nbs" / f"0{i}_a.ipynb",
                          [nbformat.v4.new_code_cell(f"x = {i}")]) for i in range(3)]
    out = tmp_path / "executed"
    fake_executed(nbs[0], out)
    fake_executed(nbs[1], out, passed=False)
    ran = []

    def execute(nb, directory):
        ran.append(nb.name)
        return fake_executed(nb, directory), True

    logged = []
    assert site.ensure_executed(nbs, out, log=logged.append, execute=execute) == nbs[1:]
    assert ran == ["01_a.ipynb", "02_a.ipynb"]
    assert any("01_a.ipynb: its last run failed" in line for line in logged)
    assert site.ensure_executed(nbs, out, log=logged.append, execute=never) == []


def test_execute_notebook_writes_a_copy(tmp_path):
    nb = write_notebook(tmp_path / "nbs" / "00_a.ipynb", [nbformat.v4.new_code_cell("6 * 7")])
    path, passed = site.execute_notebook(nb, tmp_path / "executed")
    copy = nbformat.read(path, as_version=4)
    assert passed and copy.cells[1].outputs[0].data["text/plain"] == "42"
    assert copy.metadata.course["executed_by"] == "make html"
    assert site.stale_reason(nb, tmp_path / "executed") is None


# --------------------------------------------------------------------------- pages


def demo_course(tmp_path: Path) -> tuple[list[Path], Path, Path]:
    nbs = [write_notebook(tmp_path / "nbs" / "00_first.ipynb", [
        nbformat.v4.new_markdown_cell("The sigmoid $\\sigma(z) = 1/(1 + e^{-z})$ and\n\n"
                                      "$$\\sigma' = \\frac{d\\sigma}{dz} = "
                                      "\\sigma(z)(1 - \\sigma(z))$$"
                                      "\n\nconverges for $\\eta < 2/f''(x^*)$, $\\mathcal{L}$"),
        nbformat.v4.new_code_cell("plot()")]),
        write_notebook(tmp_path / "nbs" / "01_second.ipynb",
                       [nbformat.v4.new_code_cell("plot()")], budget=90)]
    out = tmp_path / "executed"
    for nb in nbs:
        fake_executed(nb, out)
    readme = tmp_path / "README.md"
    readme.write_text("# A course\n\nIts opening words.\n\n## Notebooks\n\n"
                      "| # | notebook | topic | budget |\n| --- | --- | --- | --- |\n"
                      "| 00 | [00_first.ipynb](notebooks/00_first.ipynb) | `sigmoid` first "
                      "| 60 s |\n"
                      "| 01 | [01_second.ipynb](notebooks/01_second.ipynb) | then more | 90 s |\n")
    return nbs, out, readme


def build_demo(tmp_path: Path, student: bool = False) -> tuple[Path, list[site.Page]]:
    nbs, executed_dir, readme = demo_course(tmp_path)
    out = tmp_path / ("site-student" if student else "site")
    pages = site.build_site(nbs, out, executed_dir=executed_dir, readme=readme, student=student,
                            log=lambda _: None, execute=never)
    return out, pages


def test_readme_topics():
    topics = site.readme_topics()
    assert set(topics) == {p.name for p in sorted(NOTEBOOK_DIR.glob("*.ipynb"))}
    assert "Fashion-MNIST" in topics["00_getting_started.ipynb"]


def test_site_pages_index_and_nothing_from_the_network(tmp_path):
    out, pages = build_demo(tmp_path)
    assert [p.href for p in pages] == ["00_first.html", "01_second.html"]
    assert [p.budget for p in pages] == [60, 90]
    index = (out / "index.html").read_text()
    assert 'href="00_first.html"' in index and 'href="01_second.html"' in index
    assert "Its opening words." in index and "<code>sigmoid</code>" in index
    assert re.search(r"<h1[^>]*>A course", index), "the index's title is the README's"
    assert re.search(r'href="01_second.html">Demo</a>', index), "titles without their number"
    assert "90 s" in index and "Instructor edition" in index
    page = (out / "00_first.html").read_text()
    assert "data:image/png;base64," in page and "out 1" in page
    assert 'href="01_second.html" rel="next"' in page and 'rel="prev"' not in page
    assert 'href="00_first.html" rel="prev"' in (out / "01_second.html").read_text()
    assert (out / "mathjax" / "MathJax.js").is_file()
    for name in ("index.html", "00_first.html", "01_second.html"):
        text = (out / name).read_text()
        loads = re.findall(r'<(?:script|link|img|iframe)\b[^>]*(?:src|href)="([^"]+)"', text)
        assert loads, name
        remote = [u for u in loads if re.match(r"(https?:)?//", u)]
        assert not remote, f"{name} loads from the network: {remote}"


def test_failed_notebook_is_flagged_on_the_index(tmp_path):
    nbs, executed_dir, readme = demo_course(tmp_path)
    fake_executed(nbs[1], executed_dir, passed=False)

    def execute(nb, directory):  # still fails when rerun
        return fake_executed(nb, directory, passed=False), False

    pages = site.build_site(nbs, tmp_path / "site", executed_dir=executed_dir, readme=readme,
                            log=lambda _: None, execute=execute)
    assert [p.passed for p in pages] == [True, False]
    assert "failed in its last run" in (tmp_path / "site" / "index.html").read_text()


def test_student_edition_blanks_exercises_and_keeps_the_lecture():
    course = nbformat.read(NOTEBOOK_DIR / "00_getting_started.ipynb", as_version=4)
    for i, cell in enumerate(course.cells):
        if cell.cell_type == "code":
            cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=f"out {i}\n")]
    from coursetools.exercise_metadata import read_exercises

    roles = read_exercises(course, "00").roles
    student = site.student_edition(course, "00_getting_started.ipynb")
    solutions = [i for i, (_, role) in roles.items() if role == "solution"]
    assert solutions and all(not student.cells[i].outputs for i in roles
                             if student.cells[i].cell_type == "code")
    assert all("raise NotImplementedError()" in student.cells[i].source for i in solutions)
    lecture = [i for i, c in enumerate(course.cells) if c.cell_type == "code" and i not in roles]
    assert lecture and all(student.cells[i].outputs[0].text == f"out {i}\n" for i in lecture)


def test_student_site(tmp_path):
    out, _ = build_demo(tmp_path, student=True)
    assert "Student edition" in (out / "index.html").read_text()
    assert "data:image/png;base64," in (out / "00_first.html").read_text()


def test_main_rejects_a_path_that_is_not_a_notebook(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_:
        site.main([str(tmp_path / "missing.ipynb")])
    assert exit_.value.code == 2
    assert "is not a notebook file" in capsys.readouterr().err


def test_build_site_without_notebooks_says_so(tmp_path):
    with pytest.raises(site.SiteError, match="no notebooks"):
        site.build_site([], tmp_path / "site")


# --------------------------------------------------------------------------- JupyterLab


def test_lab_settings_are_added_and_what_was_there_is_kept(tmp_path):
    path = tmp_path / "settings" / "overrides.json"
    assert lab.install_settings(path) == path
    assert json.loads(path.read_text()) == lab.COURSE_SETTINGS
    mine = {"@jupyterlab/apputils-extension:notification": {"fetchNews": "true"},
            "@jupyterlab/notebook-extension:tracker": {"lineNumbers": True}}
    path.write_text(json.dumps(mine))
    lab.install_settings(path)
    merged = json.loads(path.read_text())
    assert merged["@jupyterlab/notebook-extension:tracker"] == {"lineNumbers": True}
    assert merged["@jupyterlab/apputils-extension:notification"] == {
        "fetchNews": "true", "checkForUpdates": False}


@pytest.mark.parametrize("content", ["{oops", "[1, 2]"])
def test_lab_settings_never_overwrite_a_broken_file(tmp_path, content):
    path = tmp_path / "overrides.json"
    path.write_text(content)
    with pytest.raises(lab.LabSettingsError, match="overrides.json"):
        lab.install_settings(path)
    assert path.read_text() == content


def test_lab_command_opens_the_notebooks():
    command = lab.lab_command(extra=["--no-browser"])
    assert command[:3] == [sys.executable, "-m", "jupyterlab"]
    assert f"--ServerApp.root_dir={NOTEBOOK_DIR}" in command
    assert command[-1] == "--no-browser"
    assert lab.overrides_path("/x").as_posix() == "/x/share/jupyter/lab/settings/overrides.json"
