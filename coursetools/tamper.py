"""Catch a submission that tampers with the checks its tests rely on.

A test cell passes when it raises nothing, so a submission could make its tests pass without
a right answer: replace ``ex.q1.check`` or ``Exercise.check``, rebind ``ex`` or ``np``,
shadow ``isinstance``, add an IPython AST transformer that drops ``assert`` statements, set a
trace function that jumps over them, patch the kernel's reply... The grader therefore runs,
in the same kernel:

- a *baseline* cell first, before any of the student's cells (:func:`install`): it records
  the builtins, numpy's namespace, IPython's and the kernel's classes and hooks;
- a *guard* cell right before and right after every test cell (:func:`verify`): it checks
  that what the test cell relies on is still the original: the builtins and the names the
  test cell uses (an imported name must still be what the instructor notebook imports), each
  ``NAME.qN`` the test cell calls ``check`` on (a real ``Exercise``, no replaced method, and,
  for a checks module such as ``helpers.exercises.nbNN``, every function of that module and
  of ``helpers.exercises`` the same code as a fresh copy read from the read-only files), and
  no new hooks (trace or profile functions, AST or input transformers, event callbacks,
  import finders) whose code does not come from the installed libraries or the course.

Each guard prints one line with a nonce that the grader chose for that cell, and the grader
(:func:`findings`) reads those lines from the executed notebook: an exercise whose guard
found something, printed no valid line, or did not run while its test cell did, gets no
points, and the report says what was found.

This is a tripwire, not a proof: the guard runs in the kernel that runs the student's code,
so a student who studies this module can still defeat it (patch :func:`verify` itself, forge
its line from a background thread...). The sandbox limits what such code can reach; it does
not make checks in the same process unforgeable.
"""

from __future__ import annotations

import ast
import json
import re
import secrets
import sys
import types
from collections.abc import Iterable
from pathlib import Path
from typing import Any

MODULE = "coursetools.tamper"
PREFIX = "course-guard"
_LINE = re.compile(rf"^{PREFIX} (\w+) (.*)$")
_MAGIC = re.compile(r"^(\s*)[%!].*$", re.MULTILINE)
_SKIP_BUILTINS = {"_", "__", "___"}
# builtins that IPython and ipykernel set again for each cell: changes must come from them
_KERNEL_BUILTINS = {"input", "raw_input", "exit", "quit", "get_ipython", "display"}
_SKIP_MODULE_NAMES = {"__name__", "__file__", "__spec__", "__loader__", "__builtins__",
                      "__cached__", "__package__", "__path__", "__doc__"}
_WATCHED_PREFIXES = ("IPython.", "ipykernel.", "jupyter_client.", "zmq.", "traitlets.")


# =========================================================================== grader side


def _parse(source: str) -> ast.Module | None:
    try:
        return ast.parse(_MAGIC.sub(r"\1pass", source))
    except SyntaxError:
        return None


def notebook_imports(sources: Iterable[str]) -> dict[str, tuple[str, str | None]]:
    """Names that top-level import statements of these cells bind: name -> (module, attribute
    or None). ``import a.b`` binds ``a``; ``from m import x as y`` binds ``y`` -> (m, x)."""
    bound: dict[str, tuple[str, str | None]] = {}
    for source in sources:
        tree = _parse(source)
        for node in tree.body if tree else []:
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.asname:
                        bound[alias.asname] = (alias.name, None)
                    else:
                        top = alias.name.split(".")[0]
                        bound[top] = (top, None)
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                for alias in node.names:
                    if alias.name != "*":
                        bound[alias.asname or alias.name] = (node.module, alias.name)
    return bound


def test_spec(test_source: str, imports: dict[str, tuple[str, str | None]]) -> dict[str, Any]:
    """What a test cell relies on: the ``NAME.qN`` it calls ``check`` on, the imported names
    and the builtins it uses."""
    tree = _parse(test_source)
    if tree is None:
        return {"checks": [], "imports": {}, "builtins": []}
    loaded = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
    checks = sorted({(n.func.value.value.id, n.func.value.attr) for n in ast.walk(tree)
                     if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)
                     and n.func.attr == "check" and isinstance(n.func.value, ast.Attribute)
                     and isinstance(n.func.value.value, ast.Name)})
    import builtins

    return {"checks": [list(c) for c in checks],
            "imports": {name: list(imports[name]) for name in sorted(loaded & set(imports))},
            "builtins": sorted(name for name in loaded if hasattr(builtins, name)
                               and name not in imports)}


def trusted_dirs(course_dirs: Iterable[Path]) -> list[str]:
    """Where trusted code lives: the Python installation, the environment, the course."""
    dirs = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix}
    dirs |= {str(Path(d).resolve()) for d in course_dirs}
    return sorted(str(Path(d).resolve()) for d in dirs)


def baseline_source(course_dirs: Iterable[Path]) -> str:
    course = sorted(str(Path(d).resolve()) for d in course_dirs)
    return (f"__import__({MODULE!r}).tamper.install({trusted_dirs(course)!r}, {course!r})"
            "  # the grader's baseline for its tamper checks")


def guard_source(ex_id: str, when: str, nonce: str, spec: dict[str, Any]) -> str:
    return (f"__import__('sys').modules[{MODULE!r}].verify({ex_id!r}, {when!r}, {nonce!r}, "
            f"{spec!r})  # the grader's tamper check")


def add_guards(graded: Any, origin: list[int | None], instructor: Any,
               course_dirs: Iterable[Path]) -> list[int | None]:
    """Insert the baseline cell first and guard cells around every test cell of ``graded``
    (changed in place, as ``origin``, which is returned). Guard cells carry
    ``metadata.course = {"exercise", "role": "guard", "when", "nonce"}``."""
    import nbformat

    from coursetools.notebooks import cell_source

    course_dirs = list(course_dirs)
    imports = notebook_imports(cell_source(c) for c in instructor.cells
                               if c.cell_type == "code")
    cells: list[Any] = []
    new_origin: list[int | None] = []
    base = nbformat.v4.new_code_cell(baseline_source(course_dirs))
    base.metadata["course"] = {"exercise": "", "role": "baseline"}
    cells.append(base)
    new_origin.append(None)
    for cell, where in zip(graded.cells, origin, strict=True):
        tag = cell.metadata.get("course", {})
        is_test = tag.get("role") == "tests" and cell.cell_type == "code"
        spec = test_spec(cell_source(cell), imports) if is_test else {}
        for when in (["before"] if is_test else []) + [""] + (["after"] if is_test else []):
            if not when:
                cells.append(cell)
                new_origin.append(where)
                continue
            nonce = secrets.token_hex(8)
            guard = nbformat.v4.new_code_cell(guard_source(tag["exercise"], when, nonce, spec))
            guard.metadata["course"] = {"exercise": tag["exercise"], "role": "guard",
                                        "when": when, "nonce": nonce}
            cells.append(guard)
            new_origin.append(None)
    graded.cells = cells
    return new_origin


def _guard_text(cell: Any) -> str:
    return "".join(o.get("text", "") for o in cell.get("outputs", [])
                   if o.get("output_type") == "stream" and o.get("name") == "stdout")


def findings(graded: Any, results: dict[int, Any]) -> tuple[dict[str, list[str]], str]:
    """From an executed notebook with guards: what each exercise's guards found (exercise ->
    problems, only exercises whose test cell ran), and "" or why nothing could be checked."""
    baseline = [j for j, c in enumerate(graded.cells)
                if c.metadata.get("course", {}).get("role") == "baseline"]
    if baseline:
        result = results.get(baseline[0])
        if result is None or result.status != "ok":
            why = result.summary if result is not None else "it did not run"
            return {}, f"the grader's baseline cell failed ({why})"
    tests_ran = {c.metadata["course"]["exercise"] for j, c in enumerate(graded.cells)
                 if c.metadata.get("course", {}).get("role") == "tests"
                 and j in results and results[j].status in ("ok", "error")}
    found: dict[str, list[str]] = {}
    for j, cell in enumerate(graded.cells):
        tag = cell.metadata.get("course", {})
        if tag.get("role") != "guard" or tag["exercise"] not in tests_ran:
            continue
        problems = found.setdefault(tag["exercise"], [])
        result = results.get(j)
        if result is None or result.status != "ok":
            why = result.summary if result is not None else "it did not run"
            problems.append(f"the check {tag['when']} its test cell failed ({why})")
            continue
        lines = [m for line in _guard_text(cell).splitlines() if (m := _LINE.match(line))]
        mine = [m for m in lines if m.group(1) == tag["nonce"]]
        if len(lines) != 1 or len(mine) != 1:
            problems.append(f"the check {tag['when']} its test cell gave "
                            f"{len(mine)} valid and {len(lines) - len(mine)} forged results")
            continue
        try:
            reported = json.loads(mine[0].group(2))
        except ValueError:
            reported = ["its result could not be read"]
        for problem in reported if isinstance(reported, list) else [str(reported)]:
            if str(problem) not in problems:
                problems.append(str(problem))
    return {k: v for k, v in found.items() if v}, ""


def strip_guards(graded: Any) -> Any:
    """A copy of the executed notebook without the grader's cells (for people to read)."""
    import copy

    clean = copy.deepcopy(graded)
    clean.cells = [c for c in clean.cells
                   if c.metadata.get("course", {}).get("role") not in ("guard", "baseline")]
    return clean


# =========================================================================== kernel side

_STATE: dict[str, Any] = {}


def _catch_assertion() -> type:
    try:
        assert False  # noqa: B011, PT015  (the statement raises the real AssertionError)
    except BaseException as exc:  # noqa: BLE001
        return type(exc)
    return AssertionError  # under python -O


def _watched(shell: Any) -> dict[str, Any]:
    kernel = getattr(shell, "kernel", None)
    objects = {"shell": shell, "compiler": getattr(shell, "compile", None), "kernel": kernel,
               "session": getattr(kernel, "session", None),
               "displayhook": getattr(shell, "displayhook", None),
               "display_pub": getattr(shell, "display_pub", None),
               "input_transformer_manager": getattr(shell, "input_transformer_manager", None),
               "stdout": sys.stdout, "stderr": sys.stderr}
    return {k: v for k, v in objects.items() if v is not None}


def _hook_lists(shell: Any) -> dict[str, list[Any]]:
    lists: dict[str, list[Any]] = {
        "ast_transformers": list(getattr(shell, "ast_transformers", [])),
        "input_transformers_cleanup": list(getattr(shell, "input_transformers_cleanup", [])),
        "input_transformers_post": list(getattr(shell, "input_transformers_post", [])),
        "custom_exceptions": list(getattr(shell, "custom_exceptions", ())),
        "sys.meta_path": list(sys.meta_path), "sys.path_hooks": list(sys.path_hooks)}
    manager = getattr(shell, "input_transformer_manager", None)
    for name in ("cleanup_transforms", "line_transforms", "token_transformers"):
        lists[f"input_transformer_manager.{name}"] = list(getattr(manager, name, []))
    events = getattr(getattr(shell, "events", None), "callbacks", {})
    for name, callbacks in dict(events).items():
        lists[f"events.{name}"] = list(callbacks)
    kernel = getattr(shell, "kernel", None)
    handlers = getattr(kernel, "shell_handlers", {})
    lists["kernel.shell_handlers"] = [(k, v) for k, v in dict(handlers).items()]
    return lists


def _hooks() -> dict[str, Any]:
    import threading

    hooks = {"sys.gettrace": sys.gettrace(), "sys.getprofile": sys.getprofile(),
             "threading.gettrace": getattr(threading, "_trace_hook", None),
             "threading.getprofile": getattr(threading, "_profile_hook", None)}
    monitoring = getattr(sys, "monitoring", None)
    if monitoring is not None:
        for tool in range(6):
            hooks[f"sys.monitoring tool {tool}"] = monitoring.get_tool(tool)
    return hooks


def install(trusted: list[str], course: list[str]) -> None:
    """The baseline: record what the guards compare against. Runs before student code."""
    import builtins

    import numpy
    from IPython import get_ipython

    shell = get_ipython()
    classes = {}
    for obj in _watched(shell).values():
        for cls in type(obj).__mro__:
            if cls.__module__.startswith(_WATCHED_PREFIXES) or cls.__module__ in (
                    "IPython", "ipykernel"):
                classes[cls] = dict(vars(cls))
    _STATE.clear()
    _STATE.update(
        trusted=tuple(trusted), course=tuple(course), builtins=dict(vars(builtins)),
        assertion=_catch_assertion(), numpy=dict(vars(numpy)), shell=shell,
        objects=_watched(shell), classes=classes,
        instance_keys={k: set(vars(v)) for k, v in _watched(shell).items()},
        lists=_hook_lists(shell), hooks=_hooks(), out=sys.stdout, memo={})


def _origin_trusted(obj: Any, depth: int = 0) -> bool:
    """Whether a hook's code comes from a file of the installed libraries or the course."""
    if depth > 5:
        return False
    if isinstance(obj, tuple):
        return all(_origin_trusted(o, depth + 1) for o in obj)
    if isinstance(obj, str):
        return True
    if isinstance(obj, types.MethodType):
        return _origin_trusted(obj.__func__, depth + 1)
    func = getattr(obj, "func", None)
    if func is not None and type(obj).__name__ == "partial":
        return _origin_trusted(func, depth + 1)
    if isinstance(obj, types.FunctionType):
        path = obj.__code__.co_filename
    else:
        module = sys.modules.get(type(obj).__module__ if not isinstance(obj, type)
                                 else obj.__module__)
        path = getattr(module, "__file__", None) or ""
    return bool(path) and any(path.startswith(d.rstrip("/") + "/")
                              for d in _STATE["trusted"])


def _code_fp(code: types.CodeType) -> tuple:
    return (code.co_code, code.co_names, code.co_varnames, code.co_freevars,
            code.co_cellvars, code.co_argcount, code.co_posonlyargcount,
            code.co_kwonlyargcount, code.co_flags,
            tuple(_code_fp(c) if isinstance(c, types.CodeType) else repr(c)
                  for c in code.co_consts))


def _fp(obj: Any, seen: set[int] | None = None, depth: int = 0) -> Any:
    """A fingerprint of a function, class or value, equal for equal code."""
    seen = set() if seen is None else seen
    if depth > 12 or id(obj) in seen:
        return ("ref", getattr(obj, "__qualname__", type(obj).__name__))
    while type(obj).__name__ == "_lru_cache_wrapper" and hasattr(obj, "__wrapped__"):
        obj = obj.__wrapped__
    if isinstance(obj, (int, float, complex, str, bytes, bool, type(None))):
        return repr(obj)
    seen = seen | {id(obj)}
    if isinstance(obj, types.FunctionType):
        cells = tuple(_fp(c.cell_contents, seen, depth + 1) if _has_contents(c) else "<empty>"
                      for c in obj.__closure__ or ())
        return ("function", obj.__qualname__, _code_fp(obj.__code__),
                _fp(obj.__defaults__, seen, depth + 1), _fp(obj.__kwdefaults__, seen, depth + 1),
                cells)
    if isinstance(obj, (staticmethod, classmethod, types.MethodType)):
        return (type(obj).__name__, _fp(obj.__func__, seen, depth + 1))
    if isinstance(obj, property):
        return ("property",) + tuple(_fp(f, seen, depth + 1)
                                     for f in (obj.fget, obj.fset, obj.fdel))
    if isinstance(obj, types.ModuleType):
        return ("module", obj.__name__, sys.modules.get(obj.__name__) is obj)
    if isinstance(obj, type):
        return ("class", obj.__qualname__, tuple(
            (k, _fp(v, seen, depth + 1)) for k, v in sorted(vars(obj).items())
            if k not in ("__dict__", "__weakref__", "__doc__")))
    if isinstance(obj, (tuple, list)):
        return (type(obj).__name__,) + tuple(_fp(o, seen, depth + 1) for o in obj)
    if isinstance(obj, dict):
        return ("dict",) + tuple(sorted((repr(k), _fp(v, seen, depth + 1))
                                        for k, v in obj.items()))
    if isinstance(obj, (set, frozenset)):
        return (type(obj).__name__,) + tuple(sorted(repr(o) for o in obj))
    if type(obj).__name__ == "Exercise" and isinstance(getattr(obj, "__dict__", None), dict):
        return ("Exercise", _fp(vars(obj).get("_checker"), seen, depth + 1),
                repr(vars(obj).get("_hint")))
    return ("object", type(obj).__module__, type(obj).__qualname__)


def _has_contents(cell: Any) -> bool:
    try:
        cell.cell_contents  # noqa: B018
    except ValueError:
        return False
    return True


def _fresh(module: types.ModuleType) -> types.ModuleType:
    """A new copy of ``module``, executed from its source file (read-only in the sandbox)."""
    import io

    path = module.__file__
    with io.open_code(path) as f:
        source = f.read()
    fresh = types.ModuleType(module.__name__)  # not put in sys.modules
    fresh.__file__ = path
    fresh.__package__ = module.__package__
    if hasattr(module, "__path__"):
        fresh.__path__ = list(module.__path__)
    exec(compile(source, path, "exec", dont_inherit=True), fresh.__dict__)  # noqa: S102
    return fresh


def _in_course(module: Any) -> bool:
    path = getattr(module, "__file__", None) or ""
    return isinstance(module, types.ModuleType) and any(
        path.startswith(d.rstrip("/") + "/") for d in _STATE["course"])


def _compare_module(live: types.ModuleType, label: str, problems: list[str],
                    done: set[str]) -> None:
    """Every name the module's file defines must still be what the file says."""
    if live.__name__ in done:
        return
    done.add(live.__name__)
    if sys.modules.get(live.__name__) is not live:
        problems.append(f"{label} is not the imported module {live.__name__}")
        return
    fresh = _fresh(live)
    for name, value in vars(fresh).items():
        if name in _SKIP_MODULE_NAMES:
            continue
        if name not in vars(live):
            problems.append(f"{label}.{name} was deleted")
        elif _fp(vars(live)[name]) != _fp(value):
            problems.append(f"{label}.{name} was replaced")


def _check_machinery(problems: list[str]) -> None:
    import builtins

    current = vars(builtins)
    for name, value in _STATE["builtins"].items():
        now = current.get(name, _STATE)
        if name in _SKIP_BUILTINS or now is value:
            continue
        if name in _KERNEL_BUILTINS and now is not _STATE and _origin_trusted(now):
            continue
        problems.append(f"the builtin {name} was replaced")
    import numpy

    members = vars(numpy)
    for name, value in _STATE["numpy"].items():
        if callable(value) and members.get(name, _STATE) is not value:
            problems.append(f"numpy.{name} was replaced")
    for cls, members in _STATE["classes"].items():
        now_members = vars(cls)
        for name, value in members.items():
            if now_members.get(name, _STATE) is not value:
                problems.append(f"{cls.__qualname__}.{name} was replaced")
        for name in set(now_members) - set(members):
            if callable(now_members[name]):
                problems.append(f"{cls.__qualname__}.{name} was added")
    for label, obj in _STATE["objects"].items():
        new = set(vars(obj)) - _STATE["instance_keys"][label]
        for name in sorted(new):
            if callable(getattr(type(obj), name, None)):
                problems.append(f"{label}.{name} was replaced on the instance")
    from IPython import get_ipython

    if get_ipython() is not _STATE["shell"]:
        problems.append("the IPython shell was replaced")
    lists = _hook_lists(_STATE["shell"])
    for name, before in _STATE["lists"].items():
        now_list = lists.get(name, [])
        if any(not any(o is b for b in now_list) for o in before if not isinstance(o, tuple)):
            problems.append(f"{name}: an entry was removed")
        for item in now_list:
            known = any(item is b or (isinstance(item, tuple) and item == b) for b in before)
            if not known and not _origin_trusted(item):
                problems.append(f"{name}: a hook was added ({_describe(item)})")
    for name in set(lists) - set(_STATE["lists"]):
        for item in lists[name]:
            if not _origin_trusted(item):
                problems.append(f"{name}: a hook was added ({_describe(item)})")
    for name, value in _hooks().items():
        if value is not _STATE["hooks"].get(name) and not _origin_trusted(value):
            problems.append(f"{name}() is set ({_describe(value)})")


def _describe(obj: Any) -> str:
    name = getattr(obj, "__qualname__", None) or type(obj).__qualname__
    return str(name)[:60]


def _check_names(spec: dict[str, Any], problems: list[str], done: set[str]) -> None:
    import importlib

    ns = _STATE["shell"].user_ns
    for name in spec.get("builtins", []):
        value = ns.get(name, _STATE)
        original = _STATE["builtins"].get(name)
        if value is _STATE or value is original or not callable(value):
            continue  # a number or string in its place just makes the test fail
        if not _origin_trusted(value):  # `from numpy import *` rebinds `abs`: fine
            problems.append(f"the notebook redefines the builtin {name}")
    for name, (module, attr) in spec.get("imports", {}).items():
        if name not in ns:
            continue
        try:
            target = importlib.import_module(module)
            if attr is not None:
                target = getattr(target, attr)
        except (ImportError, AttributeError):
            target = _STATE
        if ns[name] is not target:
            what = module + (f".{attr}" if attr else "")
            problems.append(f"`{name}` is no longer {what}")
        elif _in_course(target):
            _compare_module(target, name, problems, done)


def _check_exercises(spec: dict[str, Any], problems: list[str], done: set[str]) -> None:
    import inspect

    ns = _STATE["shell"].user_ns
    package = sys.modules.get("helpers.exercises")
    if package is not None and spec.get("checks"):
        _compare_module(package, "helpers.exercises", problems, done)
    exercise_cls = getattr(package, "Exercise", None)
    for name, q in spec.get("checks", []):
        if name not in ns:
            continue
        holder = ns[name]
        try:
            exercise = inspect.getattr_static(holder, q)
        except AttributeError:
            continue  # the test cell fails with an AttributeError on its own
        label = f"{name}.{q}"
        if exercise_cls is None or type(exercise) is not exercise_cls:
            problems.append(f"{label} is not an Exercise of helpers.exercises")
            continue
        if "check" in vars(exercise):
            problems.append(f"{label}.check was replaced")
        if isinstance(holder, types.ModuleType) and _in_course(holder):
            _compare_module(holder, name, problems, done)
        else:  # checks defined in the notebook: compare with the first time they were seen
            key = (name, q)
            print_ = _fp(exercise)
            first = _STATE["memo"].setdefault(key, print_)
            if first != print_:
                problems.append(f"{label} was replaced since its first test")
        checker = vars(exercise).get("_checker")
        module = sys.modules.get(getattr(checker, "__module__", "") or "")
        if module is not None and module is not holder and _in_course(module):
            _compare_module(module, module.__name__, problems, done)


def verify(ex_id: str, when: str, nonce: str, spec: dict[str, Any]) -> None:
    """A guard: check what the test cell of ``ex_id`` relies on; print one result line."""
    problems: list[str] = []
    try:
        if not _STATE:
            problems.append("the grader's baseline is gone")
        else:
            done: set[str] = set()
            _check_machinery(problems)
            _check_names(spec, problems, done)
            _check_exercises(spec, problems, done)
    except Exception as exc:  # noqa: BLE001  (a broken check counts against the submission)
        problems.append(f"the check could not run ({type(exc).__name__}: {exc})"[:200])
    unique = list(dict.fromkeys(problems))[:20]
    out = _STATE.get("out", sys.stdout)
    out.write(f"{PREFIX} {nonce} {json.dumps(unique)}\n")
    out.flush()
