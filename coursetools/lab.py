"""JupyterLab for the course: ``make lab`` / ``python -m coursetools.lab [jupyter lab options]``.

It opens JupyterLab at the notebooks with the course's settings, and nothing else differs
from a plain ``jupyter lab``: students are often offline, so JupyterLab neither asks "Would
you like to get notified about official Jupyter news?" nor checks for updates. The settings
go into the environment's own JupyterLab overrides
(``<venv>/share/jupyter/lab/settings/overrides.json``), where settings a user chose in
JupyterLab's settings editor still win; a setting already in that file is kept.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from coursetools.notebooks import NOTEBOOK_DIR

COURSE_SETTINGS: dict[str, dict[str, object]] = {
    "@jupyterlab/apputils-extension:notification": {"fetchNews": "false",
                                                     "checkForUpdates": False},
}


class LabSettingsError(RuntimeError):
    """The overrides file exists but is not a JSON object; the message says which file."""


def overrides_path(prefix: str | Path = sys.prefix) -> Path:
    """JupyterLab's overrides file of the environment at ``prefix``."""
    return Path(prefix) / "share" / "jupyter" / "lab" / "settings" / "overrides.json"


def install_settings(path: Path | None = None,
                     settings: dict[str, dict[str, object]] = COURSE_SETTINGS) -> Path:
    """Add the course's settings to the overrides file at ``path``; keys already set there,
    and every other entry, are kept. Returns the path."""
    path = Path(path or overrides_path())
    current: dict[str, object] = {}
    if path.exists():
        try:
            current = json.loads(path.read_text(encoding="utf-8") or "{}")
        except json.JSONDecodeError as exc:
            raise LabSettingsError(f"{path} is not valid JSON ({exc}); fix or delete it, then "
                                   "run `make lab` again") from None
        if not isinstance(current, dict):
            raise LabSettingsError(f"{path} must hold a JSON object of settings; fix or delete "
                                   "it, then run `make lab` again")
    merged = dict(current)
    for plugin, values in settings.items():
        existing = merged.get(plugin)
        section = dict(existing) if isinstance(existing, dict) else {}
        for key, value in values.items():
            section.setdefault(key, value)
        merged[plugin] = section
    if merged != current:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(merged, indent=2) + "\n", encoding="utf-8")
    return path


def lab_command(root_dir: str | Path = NOTEBOOK_DIR, extra: Sequence[str] = (),
                python: str = sys.executable) -> list[str]:
    """The ``jupyter lab`` command ``make lab`` runs (``extra``: more options, e.g. a port;
    a ``--ServerApp.root_dir=`` among them replaces ``root_dir``)."""
    command = [python, "-m", "jupyterlab"]
    if not any(arg.startswith("--ServerApp.root_dir") for arg in extra):
        command.append(f"--ServerApp.root_dir={Path(root_dir)}")
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--allow-root")  # containers often run as root
    return command + list(extra)


def main(argv: Sequence[str] | None = None) -> int:
    extra = list(sys.argv[1:] if argv is None else argv)
    try:
        install_settings()
    except LabSettingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    command = lab_command(extra=extra)
    os.execv(command[0], command)
    return 0  # not reached


if __name__ == "__main__":
    sys.exit(main())
