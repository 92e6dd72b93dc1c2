"""Run one notebook for the grader in a sandbox built with bubblewrap (``bwrap``).

Each submission gets its own sandbox, and :mod:`coursetools.execute_one` runs inside it: the
notebook client and the kernel both, talking over the loopback interface of the sandbox's
own, otherwise empty network namespace. Inside the sandbox:

- no network: a network namespace of its own, with only ``lo``;
- a private, empty, size-limited tmpfs at ``/tmp`` is the working directory and the only
  writable folder, with a smaller one at ``/dev/shm`` for POSIX shared memory
  (multiprocessing and joblib need it); ``/``, ``/dev`` and every bound folder are
  read-only; both are gone at the end;
- read-only: ``/usr`` (and ``/bin``, ``/lib``... as on the host), a few files of ``/etc``,
  the Python installation and the course's virtual environment, the course's ``helpers/``,
  ``coursetools/`` and ``data/`` folders, extra course code folders (``python_path``), the
  Keras cache (``~/.keras``, as ``/keras-cache``) and ``/sys/devices/system/cpu``. Nothing else
  of the host: not ``notebooks/`` (the instructor notebooks, hidden tests included), not the
  submissions, not ``build/``, not the home folder (beyond ``~/.keras``);
- its own PID, IPC, UTS and user namespaces, a new session (no access to the terminal), no
  capabilities, a clean environment; run as root, the grader runs the sandbox as user
  ``nobody`` (65534), from an outer bwrap that builds the same view;
- limits: RLIMIT_DATA (memory per process), RLIMIT_NPROC (tasks in the sandbox), RLIMIT_CPU
  (CPU seconds per process) on the kernel, see :mod:`coursetools.kernel_limits`; a watchdog
  here kills the sandbox when all its processes together hold more than the memory limit;
  a wall-clock limit for the whole notebook (kept by the runner inside, and enforced from
  here with a margin), on top of the per-cell timeout;
- when the runner ends, or the grader dies (``--die-with-parent``), the sandbox's PID
  namespace ends, and every process the submission started is killed.

Without bubblewrap, :func:`run` can run the same runner unsandboxed (``sandbox=False``): in a
temporary folder, with the memory and CPU limits only. The grader does that only when told to.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from coursetools.execute import CellResult
from coursetools.notebooks import ROOT

SANDBOX_UID = 65534  # "nobody": who runs the sandbox when the grader runs as root
INSTALL_HINT = ("install bubblewrap: `sudo apt-get install bubblewrap` (Debian, Ubuntu), "
                "`sudo dnf install bubblewrap` (Fedora), `sudo pacman -S bubblewrap` (Arch)")
ETC_FILES = ("ld.so.cache", "ld.so.conf", "ld.so.conf.d", "passwd", "group", "nsswitch.conf",
             "localtime", "hosts", "alternatives", "mime.types", "fonts")
PASS_ENV = ("KERAS_BACKEND", "OMP_NUM_THREADS", "TF_NUM_INTRAOP_THREADS",
            "TF_NUM_INTEROP_THREADS", "TZ")
SANDBOXED, UNSANDBOXED = "bwrap", "none (--no-sandbox)"


@dataclass(frozen=True)
class Limits:
    """What one submission may use."""

    memory_mb: int = 4096  # per process (RLIMIT_DATA) and all processes together (watchdog)
    processes: int = 512  # processes + threads in the sandbox (RLIMIT_NPROC)
    cpu_seconds: int = 7200  # CPU time per process (RLIMIT_CPU)
    wall_seconds: int = 1800  # the whole notebook, kernel start included
    tmp_mb: int = 1024  # the private /tmp
    output_kb: int = 2048  # output kept per cell


@dataclass(frozen=True)
class Isolation:
    """How submissions run: sandboxed or not, and under which limits."""

    sandbox: bool = True
    limits: Limits = field(default_factory=Limits)
    python_path: tuple[Path, ...] = ()  # extra read-only folders on the kernel's sys.path
    interrupt_grace: float = 30  # seconds a cell gets to stop after an interrupt

    @property
    def label(self) -> str:
        return SANDBOXED if self.sandbox else UNSANDBOXED


@dataclass
class Execution:
    """What running one notebook gave."""

    results: list[CellResult]
    notebook: nbformat.NotebookNode | None  # executed, with outputs; None if none came back
    log: str = ""  # the kernel's own stdout/stderr
    problem: str = ""  # why the run failed or was stopped, "" if it ran to the end
    sandbox: str = SANDBOXED
    seconds: float = 0.0
    peak_mb: float = 0.0


class SandboxUnavailable(ValueError):
    """bubblewrap is missing or cannot start a sandbox here."""


# --------------------------------------------------------------------------- availability


def bwrap() -> str | None:
    return shutil.which("bwrap")


@functools.cache
def _probe(python_path: tuple[Path, ...]) -> str:
    if bwrap() is None:
        return ("bubblewrap (bwrap) is not installed, so submissions cannot be sandboxed; "
                + INSTALL_HINT)
    code = ("import sys; sys.modules['rfc3987_syntax'] = None; "  # see execute_one.main
            "import coursetools.execute_one, coursetools.kernel_limits, nbclient, "
            "ipykernel.kernelapp")
    try:
        argv = _sandbox_command(Isolation(python_path=python_path),
                                [sys.executable, "-c", code])
        done = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    except (OSError, subprocess.SubprocessError) as exc:
        return f"bubblewrap could not start a sandbox: {exc}"
    if done.returncode != 0:
        lines = [line for line in (done.stderr or "").strip().splitlines() if line.strip()]
        detail = lines[-1] if lines else f"exit status {done.returncode}"
        return (f"bubblewrap could not start a sandbox here ({detail[:300]}). It needs "
                "unprivileged user namespaces: on Ubuntu 24.04 and later allow them for bwrap "
                "(an AppArmor profile) or set `kernel.apparmor_restrict_unprivileged_userns=0`; "
                "elsewhere check `sysctl kernel.unprivileged_userns_clone "
                "user.max_user_namespaces`")
    return ""


def unavailable(python_path: tuple[Path, ...] = ()) -> str:
    """Why submissions cannot be sandboxed here ("" when they can): checked once, by starting a
    sandbox that imports the runner."""
    return _probe(tuple(Path(p).resolve() for p in python_path))


def available() -> bool:
    return not unavailable()


# --------------------------------------------------------------------------- the sandbox


def _under(path: Path, roots: list[Path]) -> bool:
    return any(path == r or r in path.parents for r in roots)


KERAS_INSIDE = "/keras-cache"  # where the Keras cache is bound (read-only) in the sandbox


def _read_only_binds(isolation: Isolation) -> list[tuple[str, str]]:
    """(host path, sandbox path) pairs to bind read-only, in mount order."""
    binds: list[tuple[str, str]] = [("/usr", "/usr")]
    bound = [Path("/usr")]
    for name in ETC_FILES:
        if os.path.exists(f"/etc/{name}"):
            binds.append((f"/etc/{name}", f"/etc/{name}"))
    pythons = [sys.base_prefix, sys.base_exec_prefix, sys.prefix, sys.exec_prefix,
               str(Path(os.path.realpath(sys.executable)).parent.parent)]
    for prefix in pythons:
        path = Path(prefix).resolve()
        if path.is_dir() and not _under(path, bound):
            binds.append((str(path), str(path)))
            bound.append(path)
    for sub in ("helpers", "coursetools", "data"):
        if (ROOT / sub).is_dir():
            binds.append((str(ROOT / sub), str(ROOT / sub)))
    for extra in isolation.python_path:
        path = Path(extra).resolve()
        if path.is_dir():
            binds.append((str(path), str(path)))
    if Path("/sys/devices/system/cpu").is_dir():
        binds.append(("/sys/devices/system/cpu", "/sys/devices/system/cpu"))
    if _keras_dir().is_dir():
        binds.append((str(_keras_dir()), KERAS_INSIDE))
    return binds


def _keras_dir() -> Path:
    return Path(os.environ.get("KERAS_HOME") or Path.home() / ".keras")


def _view(isolation: Isolation, tmp_made: bool = False) -> list[str]:
    """bwrap arguments that build the read-only view of the host. The folders above each
    mount point are made 0755 first (bwrap would copy the host's modes, so that a Python
    installation under a private home folder could not be reached in the sandbox), except
    ``/tmp`` when ``tmp_made`` (already the sandbox's tmpfs)."""
    args: list[str] = []
    for top in ("bin", "sbin", "lib", "lib32", "lib64", "libx32"):
        host = Path("/") / top
        if host.is_symlink():
            args += ["--symlink", os.readlink(host), str(host)]
        elif host.is_dir():
            args += ["--ro-bind", str(host), str(host)]
    made: set[str] = {"/", "/tmp"} if tmp_made else {"/"}
    for host, inside in _read_only_binds(isolation):
        for parent in reversed(Path(inside).parents):
            if str(parent) not in made:
                args += ["--perms", "0755", "--dir", str(parent)]
                made.add(str(parent))
        made.add(inside)
        args += ["--ro-bind", host, inside]
    return args


DROP = ("import os, sys; u = int(sys.argv[1]); os.setgroups([]); os.setgid(u); os.setuid(u); "
        "os.execvp(sys.argv[2], sys.argv[2:])")


def _sandbox_command(isolation: Isolation, command: list[str]) -> list[str]:
    """The bwrap command line that runs ``command`` in a sandbox.

    As a normal user: one unprivileged bwrap (user namespace). As root: an outer bwrap
    builds the same read-only view (root can reach every path), drops to user ``nobody``,
    and runs the unprivileged bwrap inside it, so the sandbox never holds root's user ID
    (RLIMIT_NPROC does not hold root) or its capabilities."""
    limits = isolation.limits
    exe = bwrap() or "bwrap"
    inner = [exe, "--unshare-all", "--unshare-user", "--die-with-parent", "--new-session",
             "--hostname", "grader", "--clearenv"]
    root = os.geteuid() == 0
    tmpfs = ["--size", str(limits.tmp_mb << 20), "--perms", "1777", "--tmpfs", "/tmp"]
    if root:  # the outer bwrap built the view; bring back what the new /tmp hides
        inner += ["--ro-bind", "/", "/"] + tmpfs
        for _, inside in _read_only_binds(isolation):
            if Path("/tmp") in Path(inside).parents:
                inner += ["--ro-bind", inside, inside]
    else:
        inner += tmpfs + _view(isolation, tmp_made=True)
    inner += ["--proc", "/proc", "--dev", "/dev",
              "--size", str(max(16, limits.tmp_mb // 4) << 20), "--perms", "1777",
              "--tmpfs", "/dev/shm",  # POSIX shared memory: multiprocessing, joblib
              "--remount-ro", "/", "--remount-ro", "/dev", "--chdir", "/tmp"]
    env = {"HOME": "/tmp", "TMPDIR": "/tmp", "LANG": "C.UTF-8",
           "PATH": f"{Path(sys.executable).parent}:/usr/local/bin:/usr/bin:/bin",
           "PYTHONPATH": os.pathsep.join([str(Path(p).resolve())
                                          for p in isolation.python_path] + [str(ROOT)]),
           "PYTHONDONTWRITEBYTECODE": "1", "MPLCONFIGDIR": "/tmp/.config/matplotlib",
           "IPYTHONDIR": "/tmp/.ipython"}
    if _keras_dir().is_dir():
        env["KERAS_HOME"] = KERAS_INSIDE
    env.update({k: os.environ[k] for k in PASS_ENV if k in os.environ})
    for key, value in env.items():
        inner += ["--setenv", key, value]
    inner += ["--"] + command
    if not root:
        return inner
    outer = [exe, "--die-with-parent", "--new-session", "--cap-drop", "ALL",
             "--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"] + _view(isolation) + [
        "--bind", "/proc", "/proc", "--dev-bind", "/dev", "/dev", "--perms", "0755", "--dir",
        "/tmp",
        "--", sys.executable, "-I", "-S", "-c", DROP, str(SANDBOX_UID)]
    return outer + inner


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            continue
        ppid = int(stat.rpartition(b")")[2].split()[1])
        tree.setdefault(ppid, []).append(int(entry.name))
    return tree


def _descendants(pid: int) -> list[int]:
    tree, found, todo = _children(), [], [pid]
    while todo:
        p = todo.pop()
        found.append(p)
        todo.extend(tree.get(p, []))
    return found


def _rss_mb(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/statm", "rb") as f:
                total += int(f.read().split()[1])
        except (OSError, IndexError, ValueError):
            continue
    return total * os.sysconf("SC_PAGE_SIZE") / 2**20


def _kill_tree(pid: int) -> None:
    for p in reversed(_descendants(pid)):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(p, signal.SIGKILL)


_RUNNING: set[int] = set()  # pids of the runners started and not yet reaped
_RUNNING_LOCK = threading.Lock()


def stop_all() -> None:
    """Kill every sandbox this process is running (on Ctrl-C, say)."""
    with _RUNNING_LOCK:
        pids = list(_RUNNING)
    for pid in pids:
        _kill_tree(pid)


def _start_time(pid: int) -> str | None:
    """The process's start time (to tell it from a later one with its pid), None when it is
    gone or a zombie."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            fields = f.read().rpartition(b")")[2].split()
    except OSError:
        return None
    return None if fields[0] in (b"Z", b"X") else fields[19].decode()


class _Watchdog(threading.Thread):
    """Kills the process tree under ``pid`` when its resident memory passes the limit, and
    remembers the processes it saw."""

    def __init__(self, pid: int, limit_mb: int, every: float = 0.25):
        super().__init__(daemon=True)
        self.pid, self.limit_mb, self.every = pid, limit_mb, every
        self.peak_mb, self.tripped = 0.0, False
        self.seen: dict[int, str] = {}
        self.done = threading.Event()

    def run(self) -> None:
        while True:
            pids = _descendants(self.pid)
            for pid in pids:
                if pid not in self.seen and (started := _start_time(pid)):
                    self.seen[pid] = started
            used = _rss_mb(pids)
            self.peak_mb = max(self.peak_mb, used)
            if used > self.limit_mb:
                self.tripped = True
                _kill_tree(self.pid)
                return
            if self.done.wait(self.every):
                return

    def wait_gone(self, seconds: float = 10) -> bool:
        """Wait until every process it saw has exited. bwrap returns as soon as the
        sandbox's first process ends; the rest of its PID namespace is being killed then, and
        is gone once the namespace's init process is."""
        deadline = time.monotonic() + seconds
        while any(_start_time(pid) == started for pid, started in self.seen.items()):
            if time.monotonic() > deadline:
                return False
            time.sleep(0.05)
        return True


def run(nb: nbformat.NotebookNode, *, timeout: int = 120, isolation: Isolation | None = None,
        startup_timeout: int = 120) -> Execution:
    """Run every code cell of ``nb`` (not changed) in a fresh kernel under ``isolation``;
    never raises for what the notebook does."""
    isolation = isolation or Isolation()
    limits = isolation.limits
    nonce = secrets.token_hex(16)
    job = {"nonce": nonce, "notebook": nb, "timeout": timeout, "wall": limits.wall_seconds,
           "interrupt_grace": isolation.interrupt_grace, "startup_timeout": startup_timeout,
           "output_limit": limits.output_kb << 10,
           "limits": {"memory_mb": limits.memory_mb, "cpu_seconds": limits.cpu_seconds,
                      **({"processes": limits.processes} if isolation.sandbox else {})}}
    command = [sys.executable, "-m", "coursetools.execute_one"]
    start = time.monotonic()
    with contextlib.ExitStack() as stack:
        if isolation.sandbox:
            argv, kwargs = _sandbox_command(isolation, command), {}
        else:
            workdir = stack.enter_context(tempfile.TemporaryDirectory(prefix="grade-"))
            path = [str(Path(p).resolve()) for p in isolation.python_path] + [str(ROOT)]
            if os.environ.get("PYTHONPATH"):
                path.append(os.environ["PYTHONPATH"])
            argv, kwargs = command, {"cwd": workdir,
                                     "env": {**os.environ, "PYTHONPATH": os.pathsep.join(path)}}
        try:
            proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, start_new_session=True, **kwargs)
        except OSError as exc:
            return Execution([], None, problem=f"could not start the runner: {exc}",
                             sandbox=isolation.label)
        with _RUNNING_LOCK:
            _RUNNING.add(proc.pid)
        watchdog = _Watchdog(proc.pid, limits.memory_mb)
        watchdog.start()
        # the runner keeps the wall-clock limit itself; this is the backstop
        hard = limits.wall_seconds + startup_timeout + 2 * isolation.interrupt_grace + 30
        killed = ""
        try:
            out, err = proc.communicate(json.dumps(job).encode("utf-8"), timeout=hard)
        except subprocess.TimeoutExpired:
            _kill_tree(proc.pid)
            out, err = proc.communicate()
            killed = (f"the sandbox was stopped after {hard} s: it ran past the notebook's "
                      f"time limit of {limits.wall_seconds} s")
        except BaseException:
            _kill_tree(proc.pid)
            proc.wait()
            raise
        finally:
            watchdog.done.set()
            watchdog.join()
            if not watchdog.wait_gone():
                _kill_tree(proc.pid)
            with _RUNNING_LOCK:
                _RUNNING.discard(proc.pid)
    seconds = time.monotonic() - start
    if watchdog.tripped:
        killed = (f"the sandbox was stopped: its processes used more than the memory limit "
                  f"of {limits.memory_mb} MiB together")
    execution = _parse(out, nonce, isolation.label)
    execution.seconds, execution.peak_mb = seconds, watchdog.peak_mb
    if killed:
        execution.problem = killed
    elif execution.notebook is None and not execution.problem:
        detail = [line for line in err.decode("utf-8", "replace").splitlines() if line.strip()]
        execution.problem = ("the runner gave no result (exit status "
                             f"{proc.returncode}{': ' + detail[-1][:200] if detail else ''})")
    return execution


def _parse(out: bytes, nonce: str, label: str) -> Execution:
    try:
        answer = json.loads(out.decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        return Execution([], None, sandbox=label)
    if not isinstance(answer, dict) or answer.get("nonce") != nonce:
        return Execution([], None, problem="the runner's result was not the one it was asked "
                         "for (wrong nonce): the submission may have tampered with it",
                         sandbox=label)
    results = [CellResult(**r) for r in answer.get("results", [])]
    notebook = answer.get("notebook")
    return Execution(results, nbformat.from_dict(notebook) if notebook else None,
                     log=answer.get("log", ""), problem=answer.get("error", ""), sandbox=label)
