"""Hostile submissions, graded in the bubblewrap sandbox: one per escape (writes outside its
folder, reads the instructor notebook, connects to a listener on 127.0.0.1, forks many
processes, allocates far beyond the memory limit, spins past the timeout ignoring the
interrupt, tampers with the checks). Each must be graded, contained and reported, and nothing
outside the output folder may change. A tiny course (no TensorFlow) keeps the kernels fast;
its checks live in a module, as a course's do, on a read-only ``--pythonpath`` folder.

Skipped, saying why, where bubblewrap cannot start a sandbox."""

from __future__ import annotations

import os
import secrets
import socket
import threading
import time
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell as code
from nbformat.v4 import new_notebook

from coursetools import grade, sandbox, tamper
from coursetools.exercise_metadata import stamp
from coursetools.sandbox import Isolation, Limits
from coursetools.student import student_notebook
from tests.test_grade import GOOD, digest, tiny_course

REASON = sandbox.unavailable()
pytestmark = pytest.mark.skipif(bool(REASON), reason=f"the grader's sandbox cannot start "
                                f"here: {REASON}")

TOKEN = secrets.token_hex(6)
MARK = f"{400 + int(TOKEN[:4], 16) % 500}.{int(TOKEN[4:], 16) % 9000 + 1000}"  # a sleep time
LIMITS = Limits(memory_mb=512, processes=64, cpu_seconds=120, wall_seconds=150, tmp_mb=64)
TINYCHECKS = """\
from helpers.exercises import Exercise, expect_close, expect_equal

q1 = Exercise(lambda v: expect_equal(v, 6, "six"), hint="", id="q1")
q2 = Exercise(lambda f: expect_close(f(3.0), 9.0, "square(3.0)"), hint="", id="q2")
"""


def course_notebook() -> nbformat.NotebookNode:
    nb = tiny_course()
    nb.cells[1].source = "import tinychecks as ex"
    return stamp(nb, "00_tiny.ipynb")


def hostile(answers: dict[int, str], cells: list[str] = (), at: int = 2) -> str:
    """A student copy with ``answers`` and the hostile ``cells`` inserted at ``at``."""
    nb = student_notebook(course_notebook(), "00_tiny.ipynb")
    for index, source in {**GOOD, **answers}.items():
        nb.cells[index].source = source
    for offset, source in enumerate(cells):
        nb.cells.insert(at + offset, code(source))
    return nbformat.writes(nb)


def host_processes_with(text: str, wait: float = 0) -> list[str]:
    """Processes on the host whose command line holds ``text`` (their state and parent), after
    waiting up to ``wait`` seconds for them to go."""
    deadline = time.monotonic() + wait
    while True:
        found = []
        for entry in os.scandir("/proc"):
            if entry.name.isdigit():
                try:
                    cmdline = Path(f"/proc/{entry.name}/cmdline").read_bytes()
                    status = Path(f"/proc/{entry.name}/status").read_text()
                except OSError:
                    continue
                if text.encode() in cmdline:
                    state = [line for line in status.splitlines()
                             if line.startswith(("State", "PPid", "NSpid"))]
                    found.append(f"{entry.name} {cmdline!r} {state}")
        if not found or time.monotonic() > deadline:
            return found
        time.sleep(0.2)


class Listener(threading.Thread):
    """A TCP server on 127.0.0.1 that counts the connections it gets."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.server = socket.create_server(("127.0.0.1", 0))
        self.server.settimeout(0.2)
        self.port = self.server.getsockname()[1]
        self.connections = 0
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.server.accept()
            except (TimeoutError, OSError):
                continue
            self.connections += 1
            conn.close()
        self.server.close()


@pytest.fixture(scope="module")
def course(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("hostile")
    (root / "notebooks").mkdir()
    (root / "checks").mkdir(mode=0o755)
    (root / "checks").chmod(0o755)  # run as root, the sandbox reads it as user nobody
    (root / "checks" / "tinychecks.py").write_text(TINYCHECKS)
    nbformat.write(course_notebook(), root / "notebooks" / "00_tiny.ipynb")
    return root


@pytest.fixture(scope="module")
def targets(course) -> dict[str, Path]:
    """Host paths a submission must not reach."""
    return {"home": Path.home() / f".grader-escape-{TOKEN}",
            "home_secret": Path.home() / f".grader-secret-{TOKEN}",
            "tmp": Path("/tmp") / f"grader-escape-{TOKEN}",
            "notebooks": course / "notebooks" / "escape.txt",
            "helpers": Path(grade.ROOT) / "helpers" / f"escape-{TOKEN}.py",
            "instructor": course / "notebooks" / "00_tiny.ipynb",
            "submissions": course / "submissions"}


@pytest.fixture(scope="module")
def run(course, targets):
    """Grade the hostile class (2 jobs); the rows by student and what changed outside."""
    listener = Listener()
    listener.start()
    t = {k: str(v) for k, v in targets.items()}
    subs = course / "submissions"
    subs.mkdir()
    classes = {
        "good": hostile({}),
        "writer": hostile({}, [f"open({t['tmp']!r}, 'w').write('x')  # private /tmp: works",
                               f"open({t['home']!r}, 'w').write('escaped')",
                               f"open({t['notebooks']!r}, 'w').write('escaped')",
                               f"open({t['helpers']!r}, 'w').write('escaped')"]),
        "reader": hostile({}, [f"print(open({t['instructor']!r}).read())",
                               f"print(open({t['home_secret']!r}).read())",
                               f"print(__import__('os').listdir({t['submissions']!r}))"]),
        "caller": hostile({}, ["import socket\n"
                               f"socket.create_connection(('127.0.0.1', {listener.port}), "
                               "timeout=3).sendall(b'hello')"]),
        "forker": hostile({}, ["import os\nborn = 0\nwhile born < 5000:\n"
                               "    if os.fork() == 0:\n"
                               f"        os.execv('/bin/sleep', ['sleep', {MARK!r}])\n"
                               "    born += 1"]),
        "hog": hostile({}, ["blocks = []\nwhile len(blocks) < 1000:  # 64 GiB\n"
                            "    blocks.append(bytearray(64 << 20))"]),
        "herd": hostile({}, ["import subprocess, sys, time\n"
                             "hold = 'b = b\"x\" * (200 << 20); __import__(\"time\").sleep(60)'\n"
                             "for _ in range(5):  # 5 x 200 MiB, each under the limit\n"
                             "    subprocess.Popen([sys.executable, '-c', hold])\n"
                             "time.sleep(60)"]),
        # tampering: each would pass its tests without a right answer
        "mallory": hostile({
            3: "six = 7\nex.q1.check = lambda *a, **k: None",
            6: "del ex.q1.check\ndef square(x):\n    return 0\n"
               "ex.expect_close = lambda *a, **k: None",
            9: "import ast, helpers.exercises\nex.expect_close = helpers.exercises.expect_close\n"
               "greeting = 'bye'\nclass Drop(ast.NodeTransformer):\n"
               "    def visit_Assert(self, node):\n        return None\n"
               "get_ipython().ast_transformers.append(Drop())"}),
        "trudy": hostile({
            3: "six = 7\nimport helpers.exercises\n"
               "helpers.exercises.Exercise.check = lambda self, *a, **k: None\n"
               "isinstance = lambda *a: True"}),
        "eve": hostile({
            3: "six = 7\nimport types\nok = types.SimpleNamespace(check=lambda *a: None)\n"
               "ex = types.SimpleNamespace(q1=ok, q2=ok)"}),
    }
    for student, text in classes.items():
        (subs / f"{student}__00_tiny.ipynb").write_text(text)
    targets["home_secret"].write_text("the instructor's secret")
    before = {k: digest(course / k) for k in ("notebooks", "submissions", "checks")}
    out = course / "build" / "grades"
    isolation = Isolation(limits=LIMITS, python_path=(course / "checks",), interrupt_grace=3)
    start = time.monotonic()
    try:
        grade.grade_all(subs, out, notebooks=course / "notebooks", timeout=60,
                        isolation=isolation, jobs=2)
    finally:
        targets["home_secret"].unlink()
        listener.stop.set()
        listener.join()
    seconds = time.monotonic() - start
    rows = grade.read_csv(out / "grades.csv")
    by = {}
    for r in rows:
        by.setdefault(r["student"], {})[r["exercise"]] = r
    after = {k: digest(course / k) for k in ("notebooks", "submissions", "checks")}
    return {"rows": by, "before": before, "after": after, "listener": listener, "out": out,
            "seconds": seconds}


def passed(rows: dict[str, dict[str, str]]) -> dict[str, str]:
    return {k: r["passed"] for k, r in rows.items() if k != "(notebook)"}


def test_nothing_outside_the_output_folder_changed(run, targets):
    assert run["before"] == run["after"]
    for key in ("home", "tmp", "notebooks", "helpers"):
        assert not targets[key].exists(), f"a submission wrote {targets[key]}"
    leftovers = host_processes_with(MARK)
    assert not leftovers, f"processes of a submission outlived its grading: {leftovers}"


def test_every_submission_was_sandboxed_and_graded(run):
    assert set(run["rows"]) == {"good", "writer", "reader", "caller", "forker", "hog", "herd",
                                "mallory", "trudy", "eve"}
    for student, rows in run["rows"].items():
        assert {r["sandbox"] for r in rows.values()} == {"bwrap"}, student
    good = run["rows"]["good"]
    assert passed(good) == {"q1": "yes", "q2": "yes", "q3": "yes", "q4": "manual"}
    assert good["q1"]["tamper"] == "none found"


def test_writes_outside_the_private_tmp_fail(run):
    rows = run["rows"]["writer"]
    assert rows["(notebook)"]["error"].startswith("cell 3 (`open(")
    assert "(and 2 more)" in rows["(notebook)"]["error"]
    assert "Read-only file system" in rows["(notebook)"]["error"] or (
        "No such file" in rows["(notebook)"]["error"])
    assert passed(rows)["q1"] == "yes"  # and the notebook was graded on


def test_instructor_notebook_home_and_other_submissions_are_not_visible(run):
    rows = run["rows"]["reader"]
    assert "FileNotFoundError" in rows["(notebook)"]["error"]
    assert "(and 2 more)" in rows["(notebook)"]["error"]
    executed = nbformat.read(run["out"] / "executed" / "reader" / "00_tiny.ipynb", as_version=4)
    printed = "".join(o.get("text", "") for c in executed.cells for o in c.get("outputs", [])
                      if o.get("output_type") == "stream")
    assert "HIDDEN" not in printed and "the instructor's secret" not in printed
    assert passed(rows)["q2"] == "yes"


def test_no_network_not_even_the_hosts_loopback(run):
    rows = run["rows"]["caller"]
    assert "ConnectionRefusedError" in rows["(notebook)"]["error"]
    assert run["listener"].connections == 0
    assert passed(rows)["q3"] == "yes"


def test_fork_bomb_hits_the_process_limit_and_its_processes_are_gone(run):
    rows = run["rows"]["forker"]
    assert "BlockingIOError" in rows["(notebook)"]["error"]
    assert not host_processes_with(MARK)
    assert passed(rows)["q1"] == "yes"


def test_allocating_past_the_memory_limit_fails_in_the_cell(run):
    rows = run["rows"]["hog"]
    assert "MemoryError" in rows["(notebook)"]["error"]
    assert passed(rows)["q2"] == "yes"  # the kernel survived


def test_processes_over_the_memory_limit_together_stop_the_sandbox(run):
    rows = run["rows"]["herd"]
    assert list(rows) == ["(notebook)"]
    assert rows["(notebook)"]["error"] == (
        "the sandbox was stopped: its processes used more than the memory limit of "
        f"{LIMITS.memory_mb} MiB together")
    assert rows["(notebook)"]["max_points"] == "4"


def test_tampered_checks_get_no_points(run):
    mallory = run["rows"]["mallory"]
    assert passed(mallory) == {"q1": "no", "q2": "no", "q3": "no", "q4": "manual"}
    assert mallory["q1"]["error"].startswith("tampered: ex.q1.check was replaced | tests: ")
    assert mallory["q2"]["error"].startswith("tampered: ex.expect_close was replaced | tests:")
    assert mallory["q3"]["error"].startswith("tampered: ast_transformers: a hook was added")
    assert mallory["q1"]["tamper"] == "tampered: q1, q2, q3"
    trudy = run["rows"]["trudy"]
    assert passed(trudy)["q1"] == "no" and passed(trudy)["q2"] == "no"
    assert "helpers.exercises.Exercise was replaced" in trudy["q1"]["error"]
    assert "the notebook redefines the builtin isinstance" in trudy["q1"]["error"]
    assert trudy["q3"]["passed"] == "yes"  # its test calls no check and uses no isinstance
    eve = run["rows"]["eve"]
    assert eve["q1"]["error"].startswith("tampered: `ex` is no longer tinychecks")
    assert eve["q1"]["points"] == eve["q2"]["points"] == "0"


def test_the_report_and_feedback_say_what_happened(run):
    report = (run["out"] / "report.md").read_text()
    assert "| mallory | 00_tiny.ipynb | 0 | 4 |" in report
    assert "| bwrap | tampered: q1, q2, q3 |" in report
    assert "sandboxed with bubblewrap" in report
    page = (run["out"] / "feedback" / "mallory" / "00_tiny.html").read_text()
    assert "not counted" in page and "ex.q1.check was replaced" in page


def test_a_cell_ignoring_the_interrupt_is_stopped_with_everything_it_started(course, tmp_path):
    hang = hostile({}, ["import subprocess, sys\n"
                        f"subprocess.Popen(['/bin/sleep', {MARK!r}], start_new_session=True)",
                        "import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\n"
                        "while True:\n    pass"], at=1)
    (tmp_path / "sam__00_tiny.ipynb").write_text(hang)
    [sub] = grade.find_submissions(tmp_path)
    isolation = Isolation(limits=LIMITS, python_path=(course / "checks",), interrupt_grace=2)
    start = time.monotonic()
    rows = {r.exercise: r for r in grade.grade_submission(sub, course / "notebooks",
                                                          timeout=2, isolation=isolation)}
    assert time.monotonic() - start < 60
    assert rows["(notebook)"].error.startswith(
        "cell 2 (`import signal`): timed out after 2 s and did not stop when interrupted")
    assert rows["q1"].error == "not run: cell 2 hung (timed out, ignored the interrupt)"
    leftovers = host_processes_with(MARK)
    assert not leftovers, f"processes of a submission outlived its grading: {leftovers}"


def test_notebook_time_limit_and_cpu_limit():
    nb = new_notebook(cells=[code("import time"), code("time.sleep(1)"), code("time.sleep(30)"),
                             code("x = 1")])
    slow = sandbox.run(nb, timeout=60, isolation=Isolation(limits=Limits(wall_seconds=12)))
    status = [(r.status, r.evalue) for r in slow.results]
    assert status[1] == ("ok", "")
    assert status[2] == ("timeout", "stopped at the notebook's time limit of 12 s (interrupted)")
    assert status[3] == ("not run", "not run: the notebook's time limit of 12 s was reached")
    spin = new_notebook(cells=[code("while True:\n    pass"), code("x = 1")])
    busy = sandbox.run(spin, timeout=60, isolation=Isolation(limits=Limits(cpu_seconds=2)))
    assert busy.results[0].ename == "DeadKernelError"
    assert busy.results[0].evalue == "the kernel was stopped: it used up its CPU-time limit"
    assert busy.results[1].status == "not run"


def test_guard_spec_from_a_test_cell():
    imports = tamper.notebook_imports(["import numpy as np\nfrom helpers.exercises import nb00 "
                                       "as ex\n%matplotlib inline\nimport os.path"])
    assert imports == {"np": ("numpy", None), "ex": ("helpers.exercises", "nb00"),
                       "os": ("os", None)}
    spec = tamper.test_spec("ex.q1.check(np.ones(3))\nassert isinstance(x, int)", imports)
    assert spec == {"checks": [["ex", "q1"]], "imports": {"ex": ["helpers.exercises", "nb00"],
                                                          "np": ["numpy", None]},
                    "builtins": ["int", "isinstance"]}
