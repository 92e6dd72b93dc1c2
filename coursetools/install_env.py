"""Install the course's requirements, with TensorFlow's CUDA build where a GPU is listed.

``make venv`` (and so ``make lab``, ``make test`` and ``.ci/run``) runs
``.venv/bin/python -m coursetools.install_env``. When ``nvidia-smi -L`` lists a GPU, it adds
``tensorflow[and-cuda]`` with the same version range as ``requirements.txt``'s ``tensorflow``
line, so pip installs the CUDA libraries with TensorFlow; elsewhere it installs
``requirements.txt`` as it is. ``--dry-run`` prints the pip command without running it.
Only the standard library is used: this runs before anything is installed.
"""

from __future__ import annotations

import argparse
import re
import shlex
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

_TENSORFLOW = re.compile(r"^\s*tensorflow\s*(?P<spec>[<>=!~][^#;]*)?(?:[;#].*)?$")


def listed_gpus(nvidia_smi: str = "nvidia-smi", timeout: float = 20.0) -> list[str]:
    """The GPUs ``nvidia-smi -L`` lists ("GPU 0: NVIDIA H100 ..."); [] when there is no
    ``nvidia-smi``, it fails, or it lists none."""
    try:
        result = subprocess.run([nvidia_smi, "-L"], capture_output=True, text=True,
                                timeout=timeout, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return []
    if result.returncode != 0:
        return []
    return [line.strip() for line in result.stdout.splitlines()
            if line.strip().startswith("GPU ")]


def tensorflow_spec(requirements: str) -> str:
    """The version range of the ``tensorflow`` line of a requirements file's text."""
    for line in requirements.splitlines():
        match = _TENSORFLOW.match(line)
        if match:
            return (match.group("spec") or "").strip()
    raise ValueError("requirements.txt has no `tensorflow` line; add one such as "
                     "`tensorflow>=2.16,<2.22`")


def pip_command(python: str, requirements: Path, gpus: Sequence[str]) -> list[str]:
    """The pip command that installs ``requirements`` (plus the CUDA build if ``gpus``)."""
    command = [python, "-m", "pip", "install", "--disable-pip-version-check", "-q",
               "-r", str(requirements)]
    if gpus:
        spec = tensorflow_spec(Path(requirements).read_text(encoding="utf-8"))
        command.append(f"tensorflow[and-cuda]{spec}")
    return command


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m coursetools.install_env",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("-r", "--requirements", type=Path, default=Path("requirements.txt"))
    parser.add_argument("--nvidia-smi", default="nvidia-smi", help=argparse.SUPPRESS)
    parser.add_argument("--dry-run", action="store_true", help="print the pip command only")
    args = parser.parse_args(argv)
    if not args.requirements.is_file():
        print(f"error: {args.requirements} not found; run this from the course's folder",
              file=sys.stderr)
        return 2
    gpus = listed_gpus(args.nvidia_smi)
    try:
        command = pip_command(sys.executable, args.requirements, gpus)
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    if gpus:
        print(f"nvidia-smi lists {len(gpus)} GPU(s) ({gpus[0]}): installing TensorFlow's CUDA "
              f"build, {command[-1]}")
    else:
        print("no GPU listed by nvidia-smi: installing the CPU build of TensorFlow")
    print(shlex.join(command))
    if args.dry_run:
        return 0
    return subprocess.run(command, check=False).returncode


if __name__ == "__main__":
    sys.exit(main())
