"""The set-up picks TensorFlow's CUDA build exactly when nvidia-smi lists a GPU (a fake one
here), and the plain build otherwise."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from coursetools.install_env import listed_gpus, pip_command, tensorflow_spec
from coursetools.notebooks import ROOT

GPU_LINE = "GPU 0: NVIDIA H100 80GB HBM3 (UUID: GPU-5a3e0c4e-0000-0000-0000-000000000000)"


def fake_nvidia_smi(folder: Path, output: str, status: int = 0) -> Path:
    path = folder / "nvidia-smi"
    path.write_text(f"#!/bin/sh\nprintf '%s\\n' '{output}'\nexit {status}\n")
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return path


def run_dry(tmp_path: Path, with_gpu: bool) -> str:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    if with_gpu:
        fake_nvidia_smi(bin_dir, GPU_LINE)
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}/usr/bin:/bin"}
    result = subprocess.run([sys.executable, "-m", "coursetools.install_env", "--dry-run"],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_a_listed_gpu_selects_the_cuda_build(tmp_path):
    out = run_dry(tmp_path, with_gpu=True)
    spec = tensorflow_spec((ROOT / "requirements.txt").read_text())
    assert "NVIDIA H100" in out and "CUDA build" in out
    assert f"'tensorflow[and-cuda]{spec}'" in out.splitlines()[-1]
    assert "-r requirements.txt" in out.splitlines()[-1]


@pytest.mark.skipif(Path("/usr/bin/nvidia-smi").exists(), reason="this machine has nvidia-smi")
def test_no_gpu_installs_requirements_as_they_are(tmp_path):
    out = run_dry(tmp_path, with_gpu=False)
    assert "and-cuda" not in out and "CPU build" in out


def test_listed_gpus(tmp_path):
    assert listed_gpus(str(fake_nvidia_smi(tmp_path, GPU_LINE))) == [GPU_LINE]
    failing = tmp_path / "other"
    failing.mkdir()
    assert listed_gpus(str(fake_nvidia_smi(failing, "NVIDIA-SMI has failed", 9))) == []
    assert listed_gpus(str(tmp_path / "missing")) == []


def test_tensorflow_spec_and_command(tmp_path):
    assert tensorflow_spec("numpy\ntensorflow>=2.16,<2.22  # CPU\nkeras") == ">=2.16,<2.22"
    assert tensorflow_spec("tensorflow\n") == ""
    assert tensorflow_spec("tensorflow-datasets>=4\ntensorflow==2.21.0") == "==2.21.0"
    with pytest.raises(ValueError, match="no `tensorflow` line"):
        tensorflow_spec("tensorflow-datasets>=4.9\n")
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("tensorflow>=2.16,<2.22\n")
    assert pip_command("py", requirements, [])[-2:] == ["-r", str(requirements)]
    assert pip_command("py", requirements, [GPU_LINE])[-1] == "tensorflow[and-cuda]>=2.16,<2.22"
