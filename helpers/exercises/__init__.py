"""Exercise checks with friendly feedback, in the style of Kaggle's learntools.

Each notebook's exercises live in a module beside this one (``helpers.exercises.nb05`` for
notebook 05), as :class:`Exercise` objects::

    from helpers.exercises import nb05 as ex
    ex.q1.check(answer)   # a green pass message, or a red one saying what is wrong
    ex.q1.hint()          # a nudge
    ex.q1.solution()      # the reference answer

Each exercise has one source, its instructor notebook: the task, the reference solution (between
the markers), the tests and the points (in the cells' nbgrader metadata). ``reference.json``
beside this file is generated from the notebooks (``python -m coursetools.exercise_metadata``;
a test fails when it is stale), and ``solution()``, ``name`` and ``points`` read it; the modules
hold only what checks an answer: the check functions and the hints.

A failing ``check`` raises :class:`CheckFailed`, an ``AssertionError`` that Jupyter shows as
its message alone (no traceback), so the suite and the grader see the failure while a
student sees only the feedback.
"""

from __future__ import annotations

import functools
import html
import json
import re
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["CheckFailed", "Exercise", "expect_close", "expect_equal", "expect_function",
           "expect_layers", "expect_returned", "expect_shape", "expect_type", "expect_whole_number",
           "code_markdown", "feedback_html", "reference"]


class CheckFailed(AssertionError):
    """An exercise check failed; the message says why and what to try."""

    def __init__(self, reason: str, exercise: str = ""):
        super().__init__(reason)
        self.reason = reason
        self.exercise = exercise

    def __str__(self) -> str:
        title = f"{self.exercise}: " if self.exercise else ""
        return f"✗ {title}not yet. {self.reason}"

    def _render_traceback_(self) -> list[str]:  # IPython shows these lines instead of a traceback
        return [f"\x1b[31m{self}\x1b[0m"]


REFERENCE = Path(__file__).with_name("reference.json")


def feedback_html(text: str, colour: str) -> str:
    """The HTML that Jupyter shows for ``text``: coloured, line breaks kept."""
    return f'<div style="color:{colour}; white-space: pre-wrap">{html.escape(text)}</div>'


def code_markdown(title: str, code: str) -> str:
    """``title`` then ``code`` as a fenced Python block: JupyterLab renders it as a
    syntax-highlighted, copyable code block with its lines and indentation."""
    longest = max((len(run) for run in re.findall(r"`{3,}", code)), default=2)
    fence = "`" * (longest + 1)
    return f"**{html.escape(title)}**\n\n{fence}python\n{code}\n{fence}\n"


def _in_jupyter() -> bool:
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and type(shell).__name__ == "ZMQInteractiveShell"


def _display(text: str, colour: str) -> None:
    """Show coloured feedback: HTML in Jupyter, plain text elsewhere."""
    if _in_jupyter():
        from IPython.display import HTML, display

        display(HTML(feedback_html(text, colour)))
    else:
        print(text)


def _display_code(title: str, code: str) -> None:
    """Show a code block: Markdown (highlighted) in Jupyter, plain text elsewhere."""
    if _in_jupyter():
        from IPython.display import display

        display({"text/markdown": code_markdown(title, code), "text/plain": f"{title}\n{code}"},
                raw=True)
    else:
        print(f"{title}\n{code}")


@functools.cache
def reference() -> dict[str, Any]:
    """``reference.json``: module -> {"notebook", "exercises": id -> {title, points, written,
    solution}}, generated from the instructor notebooks; {} when it is missing."""
    try:
        return json.loads(REFERENCE.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}


# --------------------------------------------------------------------------- expectations


def expect_type(value: Any, types: type | tuple[type, ...], what: str = "your answer") -> None:
    """``value`` is an instance of ``types`` (a bool does not count as an int unless
    ``bool`` is among the types)."""
    allowed = types if isinstance(types, tuple) else (types,)
    if not isinstance(value, allowed) or (isinstance(value, (bool, np.bool_))
                                          and not any(t in (bool, np.bool_) for t in allowed)):
        names = " or ".join(t.__name__ for t in allowed)
        raise CheckFailed(f"{what} should be {_article(names)} {names}, but it is "
                          f"{_article(type(value).__name__)} {type(value).__name__} "
                          f"({value!r:.60}).")


def expect_whole_number(value: Any, what: str = "your answer") -> int:
    """``value`` is a whole number (an int, or a float such as 12.0 from ``/``); returns it as
    an int."""
    expect_type(value, (int, np.integer, float, np.floating), what)
    if isinstance(value, int | np.integer):
        return int(value)
    if not float(value).is_integer():
        raise CheckFailed(f"{what} is {value!r}, but a count is a whole number: use // for "
                          "whole-number division, or int(...).")
    return int(value)


def _article(word: str) -> str:
    return "an" if word[:1].lower() in "aeiou" else "a"


def expect_function(value: Any, what: str, signature: str = "") -> None:
    """``value`` is callable; ``signature`` (e.g. ``"(x, kernel) -> array"``) says how it is
    called, for the message."""
    if not callable(value):
        how = f" {signature}" if signature else ""
        kind = type(value).__name__
        raise CheckFailed(f"{what} should be a function{how}, but it is {_article(kind)} "
                          f"{kind}.")


def expect_returned(value: Any, call: str) -> None:
    """``value``, what ``call`` (e.g. ``"f(2, 3)"``) gave back, is not None."""
    if value is None:
        raise CheckFailed(f"{call} returned None: did you forget `return`?")


def _is_array(value: Any) -> bool:
    return isinstance(value, np.ndarray) or (hasattr(value, "__array__")
                                             and not isinstance(value, np.generic))


def expect_equal(value: Any, expected: Any, what: str = "your answer") -> None:
    """``value == expected`` exactly; arrays (and tensors) element-wise, with equal shapes."""
    if not (_is_array(value) or _is_array(expected)):
        try:
            same = bool(value == expected)
        except (ValueError, TypeError):  # e.g. a pandas object: compare as arrays
            same = None
        if same is not None:
            if not same:
                raise CheckFailed(f"{what} is {value!r:.80}, which is not right yet.")
            return
    try:
        got, want = np.asarray(value), np.asarray(expected)
    except (ValueError, TypeError):
        raise CheckFailed(f"{what} should be an array, got {type(value).__name__}.") from None
    if got.shape != want.shape:
        raise CheckFailed(f"{what} has shape {got.shape}; expected shape {want.shape}.")
    if not np.array_equal(got, want):
        wrong = int(np.sum(got != want)) if got.dtype != object else None
        count = f" ({wrong} of {got.size} values differ)" if wrong is not None else ""
        raise CheckFailed(f"{what} is not right yet{count}.")


def expect_close(value: Any, expected: Any, what: str = "your answer", *, rtol: float = 1e-5,
                 atol: float = 1e-8) -> None:
    """Numbers or arrays equal within tolerances (shapes must agree)."""
    if value is None:
        raise CheckFailed(f"{what} is None: did you forget to assign or return it?")
    try:
        got = np.asarray(value, dtype="float64")
    except (TypeError, ValueError):
        raise CheckFailed(f"{what} should be a number or an array of numbers, got "
                          f"{type(value).__name__}.") from None
    want = np.asarray(expected, dtype="float64")
    if got.shape != want.shape:
        raise CheckFailed(f"{what} has shape {got.shape}; expected shape {want.shape}.")
    if not np.all(np.isfinite(got)):
        raise CheckFailed(f"{what} contains NaN or infinity.")
    if not np.allclose(got, want, rtol=rtol, atol=atol):
        worst = float(np.max(np.abs(got - want)))
        if got.size == 1:
            raise CheckFailed(f"{what} is {got.item():.6g}, which is not right yet "
                              f"(allowed error {atol + rtol * abs(want.item()):.2g}).")
        raise CheckFailed(f"{what} differs from the expected values by up to {worst:.3g}.")


def expect_shape(value: Any, shape: Sequence[int | None], what: str = "your array") -> None:
    """An array of the given shape (``None`` matches any length)."""
    if value is None:
        raise CheckFailed(f"{what} is None: did you forget to assign or return it?")
    try:
        got = tuple(np.shape(value))
    except ValueError:  # a ragged list
        raise CheckFailed(f"{what} is not a rectangular array (rows of different "
                          "lengths?).") from None
    ok = len(got) == len(shape) and all(s is None or g == s for g, s in zip(got, shape,
                                                                           strict=False))
    if not ok:
        raise CheckFailed(f"{what} has shape {got}; expected {tuple(shape)}.")


def expect_layers(model: Any, expected: Sequence[tuple[str, dict[str, Any]]],
                  what: str = "your model") -> None:
    """The model's layers (InputLayer skipped) have these types and settings, in order,
    e.g. ``[("Conv2D", {"filters": 6, "kernel_size": (5, 5)}), ("Dense", {"units": 10})]``."""
    if not hasattr(model, "layers"):
        raise CheckFailed(f"{what} should be a Keras model, got {type(model).__name__}.")
    layers = [layer for layer in model.layers if type(layer).__name__ != "InputLayer"]
    kinds = [type(layer).__name__ for layer in layers]
    if len(layers) != len(expected):
        raise CheckFailed(f"{what} has {len(layers)} layers ({', '.join(kinds)}); expected "
                          f"{len(expected)} ({', '.join(k for k, _ in expected)}).")
    for i, (layer, (kind, settings)) in enumerate(zip(layers, expected, strict=True)):
        if type(layer).__name__ != kind:
            raise CheckFailed(f"layer {i} of {what} is a {type(layer).__name__}; "
                              f"expected a {kind}.")
        for key, want in settings.items():
            got = getattr(layer, key, None)
            if key == "activation" and callable(got):
                got = got.__name__
            if isinstance(want, tuple) and isinstance(got, list):
                got = tuple(got)
            if got != want:
                raise CheckFailed(f"layer {i} ({kind}) of {what} has {key}={got!r}; "
                                  f"expected {want!r}.")


# --------------------------------------------------------------------------- exercises


class Exercise:
    """One exercise: a check function and a hint. Its title, points and reference solution
    come from the notebook (via ``reference.json``), found by the name the exercise is bound
    to in its module (``q1`` in ``helpers.exercises.nb05``).

    ``checker(*args, **kwargs)`` raises :class:`CheckFailed` (or ``AssertionError``) when the
    answer is wrong and may return a short remark to show when it is right. ``id`` and
    ``module`` are for exercises not bound at module level (tests).
    """

    def __init__(self, checker: Callable[..., str | None], *, hint: str,
                 id: str | None = None, module: str | None = None):  # noqa: A002
        if not callable(checker):
            raise TypeError(f"checker must be a function, got {type(checker).__name__}")
        if id is not None and not re.fullmatch(r"q\d+", id):
            raise ValueError(f"id must look like 'q1', got {id!r}")
        self._checker = checker
        self._hint = hint
        self._id = id
        self._module = module or sys._getframe(1).f_globals.get("__name__", "")

    @property
    def id(self) -> str:
        """``q1`` for ``Exercise 1``: the name this exercise is bound to in its module."""
        if self._id is None:
            namespace = vars(sys.modules[self._module]) if self._module in sys.modules else {}
            self._id = next((name for name, value in namespace.items() if value is self
                             and re.fullmatch(r"q\d+", name)), "")
        return self._id

    def _entry(self) -> dict[str, Any]:
        module = self._module.rpartition(".")[2]
        return reference().get(module, {}).get("exercises", {}).get(self.id, {})

    @property
    def name(self) -> str:
        """The notebook's title of the exercise, e.g. ``Exercise 1``."""
        return self._entry().get("title") or (f"Exercise {self.id[1:]}" if self.id
                                              else "This exercise")

    @property
    def points(self) -> int:
        """Its points, as the notebook's metadata gives them (0 if unknown)."""
        return int(self._entry().get("points", 0))

    def __repr__(self) -> str:
        return f"Exercise({self.name!r}, points={self.points})"

    def check(self, *args: Any, **kwargs: Any) -> None:
        """Check an answer: prints a pass message, or raises :class:`CheckFailed`."""
        try:
            remark = self._checker(*args, **kwargs)
        except CheckFailed as failed:  # shown by Jupyter as its message alone
            failed.exercise = self.name
            raise
        except NotImplementedError:
            raise CheckFailed("no answer yet: replace `raise NotImplementedError()` with your "
                              "code.", self.name) from None
        except AssertionError as failed:
            reason = str(failed) or "the answer does not pass the checks yet."
            raise CheckFailed(reason, self.name) from None
        _display(f"✓ {self.name}: correct." + (f" {remark}" if remark else ""), "#1b7f3b")

    def hint(self) -> None:
        """Show a hint."""
        _display(f"Hint for {self.name}: {self._hint}", "#1f4e9c")

    def solution(self) -> None:
        """Show the reference solution, as the instructor notebook has it."""
        code = self._entry().get("solution")
        if not code:
            _display(f"No reference solution is recorded for {self.name} "
                     f"({self._module}.{self.id or '?'}); maintainers: run "
                     "`python -m coursetools.exercise_metadata`.", "#9c1f1f")
            return
        _display_code(f"Solution to {self.name}:", code)
