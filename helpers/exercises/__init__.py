"""Exercise checks with friendly feedback, in the style of Kaggle's learntools.

Each notebook's exercises live in a module beside this one (``helpers.exercises.nb05`` for
notebook 05), as :class:`Exercise` objects::

    from helpers.exercises import nb05 as ex
    ex.q1.check(answer)   # a green pass message, or a red one saying what is wrong
    ex.q1.hint()          # a nudge
    ex.q1.solution()      # the reference answer

A failing ``check`` raises :class:`CheckFailed`, an ``AssertionError`` that Jupyter shows as
its message alone (no traceback), so the suite and the grader see the failure while a
student sees only the feedback.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

__all__ = ["CheckFailed", "Exercise", "expect_close", "expect_equal", "expect_function",
           "expect_layers", "expect_returned", "expect_shape", "expect_type", "expect_whole_number",
           "feedback_html"]


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


def feedback_html(text: str, colour: str, *, code: str = "") -> str:
    """The HTML that Jupyter shows for ``text``, line breaks kept; ``code`` (a solution)
    follows it in a ``<pre>`` block, so that its indentation survives."""
    body = f'<div style="color:{colour}; white-space: pre-wrap">{html.escape(text)}</div>'
    if code:
        body += (f'<pre style="color:{colour}; margin: 0.3em 0 0 0">'
                 f"{html.escape(code)}</pre>")
    return body


def _display(text: str, colour: str, *, code: str = "") -> None:
    """Show coloured feedback: HTML in Jupyter, plain text elsewhere."""
    try:
        from IPython import get_ipython
        from IPython.display import HTML, display

        if get_ipython() is not None and type(get_ipython()).__name__ == "ZMQInteractiveShell":
            display(HTML(feedback_html(text, colour, code=code)))
            return
    except ImportError:
        pass
    print(f"{text}\n{code}" if code else text)


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
    """One exercise: a check function, a hint and a reference solution.

    ``checker(*args, **kwargs)`` raises :class:`CheckFailed` (or ``AssertionError``) when the
    answer is wrong and may return a short remark to show when it is right.
    """

    def __init__(self, name: str, checker: Callable[..., str | None], *, hint: str,
                 solution: str, points: int = 1):
        if points < 0:
            raise ValueError(f"points must be >= 0, got {points}")
        self.name = name
        self._checker = checker
        self._hint = hint
        self._solution = solution
        self.points = points

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
        """Show the reference solution."""
        _display(f"Solution to {self.name}:", "#555555", code=self._solution)
