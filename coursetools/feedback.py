"""Feedback for one graded submission, to hand back to the student: one self-contained HTML
file (inline style, no scripts, nothing fetched), readable offline, like nbgrader's
``generate_feedback``.

It gives, per exercise, whether it passed, its points and the check's message; the cells
that raised, with the first line of the error; and the written answers, marked "graded by
hand". It never shows hidden tests: an error that quotes a line of a hidden test says "a
hidden test" instead.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

STYLE = """
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; max-width: 52em;
       margin: 2em auto; padding: 0 1em; color: #1d1d1f; }
h1 { font-size: 1.5em; margin-bottom: 0.2em; } h2 { font-size: 1.15em; margin-top: 1.6em; }
.sub { color: #555; margin-top: 0; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 0.35em 0.6em; border-bottom: 1px solid #ddd;
         vertical-align: top; }
th { background: #f4f4f6; }
td.points { white-space: nowrap; text-align: right; }
.pass { color: #1b7f3b; font-weight: 600; } .fail { color: #b3261e; font-weight: 600; }
.hand { color: #1f4e9c; font-weight: 600; }
code { font: 0.92em ui-monospace, SFMono-Regular, Menlo, monospace; background: #f4f4f6;
       padding: 0 0.2em; border-radius: 3px; }
.total { font-size: 1.1em; }
"""

_TICKED = re.compile(r"`([^`]+)`")


def redact(message: str, hidden: Iterable[str]) -> str:
    """``message`` with every quoted line of a hidden test replaced by "a hidden test"."""
    hidden = {line.strip() for line in hidden if line.strip()}
    if not hidden:
        return message
    message = re.sub(r" at `([^`]+)`",
                     lambda m: " in a hidden test" if m.group(1).strip() in hidden
                     else m.group(0), message)
    return _TICKED.sub(lambda m: "a hidden test" if m.group(1).strip() in hidden
                       else m.group(0), message)


def _status(row: Any) -> tuple[str, str]:
    if row.passed == "yes":
        return "pass", "passed"
    if row.passed == "manual":
        return "hand", "graded by hand"
    if str(row.error).startswith("tampered"):
        return "fail", "not counted"
    return "fail", "not yet"


def _code(text: str) -> str:
    """Escape ``text`` and show its `quoted` parts as code."""
    return _TICKED.sub(lambda m: f"<code>{m.group(1)}</code>", html.escape(text, quote=False))


def render(student: str, notebook: str, rows: Sequence[Any], cell_errors: Sequence[str],
           hidden: Iterable[str] = ()) -> str:
    """The feedback page. ``rows`` are the submission's report rows (``grade.Row``),
    ``cell_errors`` the cells outside the exercises that raised ("cell 3 (`x = f()`):
    NameError: ..."), ``hidden`` the lines of the hidden tests, never shown."""
    hidden = list(hidden)
    exercises = [r for r in rows if r.exercise != "(notebook)"]
    notes = [r.error for r in rows if r.exercise == "(notebook)" and r.error]
    got = sum(r.points for r in rows if isinstance(r.points, int))
    total = sum(r.max_points for r in rows if isinstance(r.max_points, int)
                and r.passed != "manual")
    by_hand = [r for r in exercises if r.passed == "manual"]
    out = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
           '<meta name="viewport" content="width=device-width, initial-scale=1">',
           f"<title>Feedback: {html.escape(notebook)} ({html.escape(student)})</title>",
           f"<style>{STYLE}</style></head><body>",
           f"<h1>Feedback on {html.escape(notebook)}</h1>",
           f'<p class="sub">for {html.escape(student or "?")}</p>',
           f'<p class="total"><strong>{got} of {total} points</strong> from the automatic '
           "tests" + (f", and {len(by_hand)} written answer(s) graded by hand"
                      if by_hand else "") + ".</p>"]
    if exercises:
        out.append("<h2>Exercises</h2><table><tr><th>exercise</th><th>result</th>"
                   "<th>points</th><th>message</th></tr>")
        for row in exercises:
            css, word = _status(row)
            if row.passed == "manual":
                points = f"– / {row.max_points}" if row.max_points != "" else "–"
                message = ("graded by hand" if row.error.startswith("written answer")
                           else row.error)
            else:
                points = f"{row.points} / {row.max_points}"
                message = redact(row.error, hidden) if row.error else "all tests passed"
            out.append(f"<tr><td>{html.escape(row.exercise)}</td>"
                       f'<td class="{css}">{word}</td><td class="points">{points}</td>'
                       f"<td>{_code(message)}</td></tr>")
        out.append("</table>")
    if notes or cell_errors:
        out.append("<h2>The notebook as a whole</h2><ul>")
        shown = list(cell_errors) or notes
        for note in shown:
            out.append(f"<li>{_code(redact(note, hidden))}</li>")
        for note in notes if cell_errors else []:
            if not any(note.startswith(c[:40]) for c in cell_errors):
                out.append(f"<li>{_code(redact(note, hidden))}</li>")
        out.append("</ul>")
        if cell_errors:
            out.append('<p class="sub">Cells are counted from 0, markdown cells included; '
                       "the code in quotes is the cell's first line.</p>")
    out.append('<p class="sub">Each exercise passes when its test cell, hidden tests '
               "included, runs without an error in a fresh run of your whole notebook.</p>")
    out.append("</body></html>\n")
    return "\n".join(out)


def write(path: Path, student: str, notebook: str, rows: Sequence[Any],
          cell_errors: Sequence[str], hidden: Iterable[str] = ()) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(student, notebook, rows, cell_errors, hidden), encoding="utf-8")
    return path
