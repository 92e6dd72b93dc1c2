"""The exercise framework (helpers.exercises): checks, feedback and expectations."""

from __future__ import annotations

import numpy as np
import pytest

from helpers.exercises import (
    CheckFailed,
    Exercise,
    expect_close,
    expect_equal,
    expect_function,
    expect_layers,
    expect_returned,
    expect_shape,
    expect_type,
    expect_whole_number,
)


def _double_checker(value):
    expect_equal(value, 6, "six")
    return "Well done."


FAKE_REFERENCE = {"nb99": {"notebook": "99_fake.ipynb", "exercises": {
    "q1": {"title": "Exercise 1", "points": 2, "written": False,
           "solution": "def six():\n    if True:\n        return 2 * 3"}}}}


@pytest.fixture
def q1(monkeypatch) -> Exercise:
    import helpers.exercises as exercises

    monkeypatch.setattr(exercises, "reference", lambda: FAKE_REFERENCE)
    return Exercise(_double_checker, hint="Multiply 2 by 3.\nThen check.", id="q1",
                    module="helpers.exercises.nb99")


def test_check_pass_prints_a_tick(q1, capsys):
    q1.check(6)
    assert capsys.readouterr().out.strip() == "✓ Exercise 1: correct. Well done."


def test_check_fail_raises_with_reason(q1):
    with pytest.raises(CheckFailed) as info:
        q1.check(7)
    assert info.value.exercise == "Exercise 1"
    assert info.value.reason == "six is 7, which is not right yet."
    assert str(info.value) == "✗ Exercise 1: not yet. six is 7, which is not right yet."
    assert isinstance(info.value, AssertionError)  # so pytest and the grader see a failure


def test_not_implemented_means_no_answer_yet():
    def stub(_):
        raise NotImplementedError()

    with pytest.raises(CheckFailed, match="no answer yet") as info:
        Exercise(lambda f: f(1), hint="", id="q2").check(stub)
    assert "raise NotImplementedError()" in info.value.reason
    assert info.value.__cause__ is None and info.value.__suppress_context__


def test_plain_assertion_is_wrapped():
    def checker(value):
        assert value > 0, "the value must be positive"

    ex = Exercise(checker, hint="", id="q3")
    with pytest.raises(CheckFailed, match="must be positive") as info:
        ex.check(-1)
    assert info.value.exercise == "Exercise 3"

    def bare(value):
        raise AssertionError  # a bare assert (pytest would add a message to a real one)

    with pytest.raises(CheckFailed, match="does not pass the checks"):
        Exercise(bare, hint="", id="q4").check(-1)


def test_remark_is_optional(capsys):
    Exercise(lambda v: None, hint="", id="q5").check(1)
    assert capsys.readouterr().out.strip() == "✓ Exercise 5: correct."


def test_hint_and_solution_print(q1, capsys):
    q1.hint()
    q1.solution()
    out = capsys.readouterr().out
    assert "Hint for Exercise 1: Multiply 2 by 3.\nThen check." in out
    assert "Solution to Exercise 1:\ndef six():\n    if True:\n        return 2 * 3" in out


def test_solution_in_jupyter_is_a_highlighted_markdown_code_block(q1, monkeypatch):
    import helpers.exercises as exercises

    shown = []
    monkeypatch.setattr(exercises, "_in_jupyter", lambda: True)
    monkeypatch.setattr("IPython.display.display", lambda obj, raw=False: shown.append((obj, raw)))
    q1.solution()
    [(bundle, raw)] = shown
    assert raw and set(bundle) == {"text/markdown", "text/plain"}
    block = "```python\ndef six():\n    if True:\n        return 2 * 3\n```"
    assert block in bundle["text/markdown"]
    assert bundle["text/plain"].startswith("Solution to Exercise 1:\ndef six():")


def test_code_markdown_fence_outgrows_backticks_in_the_code():
    from helpers.exercises import code_markdown

    page = code_markdown("Solution to Exercise 1:", 'doc = """```python\nx```"""')
    assert page.startswith("**Solution to Exercise 1:**\n\n````python\n")
    assert page.rstrip().endswith("\n````")


def test_feedback_html_keeps_line_breaks_and_escapes():
    from helpers.exercises import feedback_html

    hint = feedback_html("first line\nsecond <b>", "#1f4e9c")
    assert "white-space: pre-wrap" in hint and "first line\nsecond &lt;b&gt;" in hint


def test_exercise_title_and_points_come_from_the_reference(q1, monkeypatch):
    assert q1.points == 2 and repr(q1) == "Exercise('Exercise 1', points=2)"
    missing = Exercise(_double_checker, hint="", id="q7", module="helpers.exercises.nb99")
    assert (missing.name, missing.points) == ("Exercise 7", 0)
    with pytest.raises(ValueError, match="id must look like 'q1'"):
        Exercise(_double_checker, hint="", id="one")
    with pytest.raises(TypeError, match="checker must be a function"):
        Exercise("Exercise 1", hint="")


def test_missing_solution_says_how_to_regenerate(monkeypatch, capsys):
    import helpers.exercises as exercises

    monkeypatch.setattr(exercises, "reference", lambda: {})
    Exercise(_double_checker, hint="", id="q3", module="helpers.exercises.nb98").solution()
    out = capsys.readouterr().out
    assert "No reference solution is recorded for Exercise 3" in out
    assert "python -m coursetools.exercise_metadata" in out


def test_module_level_exercise_finds_its_own_name():
    from helpers.exercises import nb05

    assert nb05.q2.id == "q2" and nb05.q2.name == "Exercise 2"
    assert nb05.q2.points == 2


def test_render_traceback_is_the_message_alone():
    failed = CheckFailed("counts has 9 values.", "Exercise 1")
    lines = failed._render_traceback_()
    assert len(lines) == 1
    assert "✗ Exercise 1: not yet. counts has 9 values." in lines[0]
    assert "Traceback" not in lines[0]


# --------------------------------------------------------------------------- expectations


def test_expect_type():
    expect_type(3, int)
    expect_type(np.int64(3), (int, np.integer))
    expect_type(True, bool)
    with pytest.raises(CheckFailed, match="n should be an int, but it is a str"):
        expect_type("3", int, "n")
    with pytest.raises(CheckFailed, match="should be an int or integer, but it is a bool"):
        expect_type(True, (int, np.integer))


def test_expect_function():
    expect_function(len, "f")
    expect_function(lambda x: x, "f", "(x) -> int")
    with pytest.raises(CheckFailed, match=r"f should be a function \(x\) -> int, but it is an int"):
        expect_function(3, "f", "(x) -> int")
    with pytest.raises(CheckFailed, match="g should be a function, but it is a NoneType"):
        expect_function(None, "g")


def test_expect_returned():
    expect_returned(0, "f(1)")
    expect_returned([], "f(1)")
    with pytest.raises(CheckFailed, match=r"f\(1\) returned None: did you forget `return`\?"):
        expect_returned(None, "f(1)")


def test_expect_whole_number():
    assert expect_whole_number(12) == 12 and type(expect_whole_number(np.int64(12))) is int
    assert expect_whole_number(12.0) == 12 and type(expect_whole_number(np.float32(3))) is int
    with pytest.raises(CheckFailed, match=r"n is 12\.5, but a count is a whole number: use //"):
        expect_whole_number(12.5, "n")
    with pytest.raises(CheckFailed, match="whole number"):
        expect_whole_number(float("nan"), "n")
    with pytest.raises(CheckFailed, match="n should be an int or integer or float or floating"):
        expect_whole_number("12", "n")


def test_expect_equal():
    expect_equal(3, 3)
    expect_equal([1, 2], [1, 2])
    expect_equal(np.arange(3), np.arange(3))
    expect_equal([0, 1, 2], np.arange(3))
    with pytest.raises(CheckFailed, match="x is 4, which is not right yet"):
        expect_equal(4, 3, "x")
    with pytest.raises(CheckFailed, match=r"1 of 3 values differ"):
        expect_equal(np.array([0, 1, 5]), np.arange(3))
    with pytest.raises(CheckFailed, match=r"has shape \(2,\); expected shape \(3,\)"):
        expect_equal(np.arange(2), np.arange(3))


def test_expect_close():
    expect_close(0.1 + 0.2, 0.3)
    expect_close([1.0, 2.0], np.array([1.0, 2.0 + 1e-9]))
    expect_close(1.05, 1.0, rtol=0.1)
    with pytest.raises(CheckFailed, match=r"x is 1\.1, which is not right yet \(allowed error"):
        expect_close(1.1, 1.0, "x")
    with pytest.raises(CheckFailed, match="differs from the expected values by up to 0.5"):
        expect_close([1.0, 2.5], [1.0, 2.0])
    with pytest.raises(CheckFailed, match=r"has shape \(3,\); expected shape \(2,\)"):
        expect_close([1, 2, 3], [1, 2])
    with pytest.raises(CheckFailed, match="None: did you forget"):
        expect_close(None, 1.0)
    with pytest.raises(CheckFailed, match="NaN or infinity"):
        expect_close(float("nan"), 1.0)
    with pytest.raises(CheckFailed, match="number or an array of numbers, got str"):
        expect_close("one", 1.0)


def test_expect_shape():
    expect_shape(np.zeros((2, 3)), (2, 3))
    expect_shape(np.zeros((5, 3)), (None, 3))
    expect_shape([[1, 2, 3]], (1, 3))
    with pytest.raises(CheckFailed, match=r"a has shape \(3, 2\); expected \(2, 3\)"):
        expect_shape(np.zeros((3, 2)), (2, 3), "a")
    with pytest.raises(CheckFailed, match=r"expected \(None, 3\)"):
        expect_shape(np.zeros(3), (None, 3))
    with pytest.raises(CheckFailed, match="None: did you forget"):
        expect_shape(None, (3,))
    with pytest.raises(CheckFailed, match="not a rectangular array"):
        expect_shape([[1, 2], [3]], (2, 2))


# Stand-ins for Keras layers: expect_layers looks at class names and attributes only.
class InputLayer:
    pass


class Conv2D:
    def __init__(self, filters, kernel_size, activation):
        self.filters, self.kernel_size, self.activation = filters, kernel_size, activation


class Dense:
    def __init__(self, units, activation):
        self.units, self.activation = units, activation


def relu(x):
    return x


class FakeModel:
    def __init__(self, *layers):
        self.layers = [InputLayer(), *layers]


def test_expect_layers():
    model = FakeModel(Conv2D(6, [5, 5], relu), Dense(10, "softmax"))
    expected = [("Conv2D", {"filters": 6, "kernel_size": (5, 5), "activation": "relu"}),
                ("Dense", {"units": 10})]
    expect_layers(model, expected)
    with pytest.raises(CheckFailed, match=r"has 1 layers \(Dense\); expected 2"):
        expect_layers(FakeModel(Dense(10, "softmax")), expected)
    with pytest.raises(CheckFailed, match="layer 0 of your model is a Dense; expected a Conv2D"):
        expect_layers(FakeModel(Dense(6, relu), Dense(10, "softmax")), expected)
    with pytest.raises(CheckFailed, match=r"layer 1 \(Dense\) of net has units=8; expected 10"):
        expect_layers(FakeModel(Conv2D(6, (5, 5), relu), Dense(8, "softmax")), expected, "net")
    with pytest.raises(CheckFailed, match="activation='tanh'; expected 'relu'"):
        expect_layers(FakeModel(Conv2D(6, (5, 5), "tanh"), Dense(10, "softmax")), expected)
    with pytest.raises(CheckFailed, match="should be a Keras model, got list"):
        expect_layers([], expected)
