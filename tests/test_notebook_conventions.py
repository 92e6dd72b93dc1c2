"""Every notebook follows the course conventions (see README, 'Writing a notebook')."""

from __future__ import annotations

import re

import nbformat
import pytest

from coursetools.notebooks import (
    NAME_PATTERN,
    NOTEBOOK_DIR,
    ROOT,
    cell_source,
    course_notebooks,
    notebook_budget,
    read_notebook,
)

NOTEBOOKS = course_notebooks()
IDS = [p.name for p in NOTEBOOKS]


def test_there_are_notebooks():
    assert NOTEBOOKS, f"no notebooks in {NOTEBOOK_DIR}"


def test_names_are_numbered_contiguously_from_00():
    for path in NOTEBOOKS:
        assert NAME_PATTERN.match(path.name), f"{path.name} is not NN_snake_case.ipynb"
    numbers = [int(p.name[:2]) for p in NOTEBOOKS]
    assert numbers == list(range(len(NOTEBOOKS))), f"numbers must run 00, 01, ...: {numbers}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_valid_nbformat_with_python3_kernel(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    assert nb.metadata.get("kernelspec", {}).get("name") == "python3"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_title_cell(path):
    first = read_notebook(path)["cells"][0]
    text = cell_source(first)
    assert first["cell_type"] == "markdown", "the first cell must be markdown"
    assert re.match(r"#\s+\S", text), "the first cell must start with a '# Title'"
    for heading in ("Learning objectives", "Prerequisites"):
        assert heading.lower() in text.lower(), f"the title cell needs '{heading}'"
    budget = notebook_budget(path)
    assert budget is not None and 0 < budget <= 900, "state 'Time budget: N s' in the title cell"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_no_outputs_committed(path):
    for i, cell in enumerate(read_notebook(path)["cells"]):
        if cell["cell_type"] == "code":
            assert not cell.get("outputs"), f"cell {i} has stored outputs"
            assert cell.get("execution_count") is None, f"cell {i} has an execution count"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_first_code_cell_calls_setup(path):
    code = [c for c in read_notebook(path)["cells"] if c["cell_type"] == "code"]
    assert code, "a notebook needs code"
    assert re.search(r"\bsetup\(", cell_source(code[0])), \
        "the first code cell must call helpers.setup(...)"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_readme_lists_notebook_with_its_budget(path):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    row = next((line for line in readme.splitlines() if path.name in line), None)
    assert row, f"README's notebook table must list {path.name}"
    assert re.search(rf"\b{notebook_budget(path)}\s*s\b", row), \
        f"README's row for {path.name} must show its budget ({notebook_budget(path)} s)"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_first_code_cell_sets_seed_and_passes_it_to_setup(path):
    """`SEED = <int>` then `setup(seed=SEED)`: one place to change the seed of the whole run."""
    code = [c for c in read_notebook(path)["cells"] if c["cell_type"] == "code"]
    first = cell_source(code[0])
    assert re.search(r"^SEED = \d+\b", first, re.M), \
        "the first code cell must set `SEED = <int>` (a line of its own)"
    assert re.search(r"\bsetup\(\s*(seed=)?SEED\b", first), \
        "the first code cell must call helpers.setup(seed=SEED)"
    body = "\n".join(cell_source(c) for c in code)
    literal = re.findall(r"\b(?:set_random_seed|setup)\(\s*(?:seed=)?\d+", body)
    assert not literal, f"derive seeds from SEED instead of literals: {literal}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_exercise_cells_carry_nbgrader_metadata_that_matches_their_headings(path):
    from coursetools.exercise_metadata import COMMAND, stale_metadata

    problems = stale_metadata(nbformat.read(path, as_version=4), path.name)
    assert not problems, "\n".join(problems) + f"\nrun `{COMMAND}` to update the metadata"


def test_reference_solutions_file_is_generated_from_the_notebooks():
    from coursetools.exercise_metadata import COMMAND, REFERENCE, course_reference

    assert REFERENCE.is_file() and REFERENCE.read_text(encoding="utf-8") == course_reference(), \
        f"{REFERENCE.name} is stale: run `{COMMAND}`"
