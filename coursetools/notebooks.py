"""Facts about the course notebooks: where they are, their names and their time budgets."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK_DIR = ROOT / "notebooks"
NAME_PATTERN = re.compile(r"^(\d{2})_[a-z0-9]+(?:_[a-z0-9]+)*\.ipynb$")
BUDGET_PATTERN = re.compile(r"time budget\W*?(\d+)\s*(s|sec|seconds|min|minutes)\b",
                            re.IGNORECASE)


def course_notebooks(directory: Path = NOTEBOOK_DIR) -> list[Path]:
    """The course notebooks in ``directory``, in order (checkpoints skipped)."""
    return sorted(p for p in Path(directory).glob("*.ipynb") if p.is_file())


def read_notebook(path: Path) -> dict[str, Any]:
    """The notebook's JSON; ValueError naming the file when it is not valid JSON."""
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path} is not valid notebook JSON: {exc}") from None


def cell_source(cell: dict[str, Any]) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source


def budget_from_text(text: str) -> int | None:
    """Seconds in a 'Time budget: 90 s' (or '2 min') phrase, or None."""
    match = BUDGET_PATTERN.search(text)
    if not match:
        return None
    value, unit = int(match.group(1)), match.group(2).lower()
    return value * 60 if unit.startswith("min") else value


def notebook_budget(path: Path) -> int | None:
    """The time budget (seconds) stated in the notebook's first cell, or None."""
    cells = read_notebook(path).get("cells", [])
    return budget_from_text(cell_source(cells[0])) if cells else None


def notebook_bytes(nb: Any) -> bytes:
    """The notebook (an nbformat node) as written to disk: nbformat's JSON, trailing newline."""
    import nbformat

    return (nbformat.writes(nb) + "\n").encode("utf-8")


def atomic_write(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file: a reader never sees half a file."""
    tmp = Path(path).with_name(f".{Path(path).name}.{os.getpid()}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def display_path(path: Path) -> str:
    """``path`` relative to the course folder when it lies inside it, for messages."""
    try:
        return str(Path(path).resolve().relative_to(ROOT))
    except ValueError:
        return str(path)
