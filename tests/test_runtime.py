"""setup(): seeds, versions, and the GPU branch with a simulated device list."""

from __future__ import annotations

import random
from dataclasses import dataclass

import numpy as np
import pytest

from helpers.runtime import describe_device, setup

tf = pytest.importorskip("tensorflow")
keras = pytest.importorskip("keras")


@pytest.fixture(autouse=True)
def record_determinism(monkeypatch):
    """Keep op determinism (process-wide, irreversible) out of the test process; record calls.
    Also keep these simulated GPUs out of the suite's runtime log (the timing table's device)."""
    monkeypatch.delenv("COURSE_RUNTIME_LOG", raising=False)
    calls = []
    monkeypatch.setattr(tf.config.experimental, "enable_op_determinism",
                        lambda: calls.append(True))
    return calls


def test_op_determinism_is_on_by_default_and_can_be_refused(record_determinism):
    info = setup(5, verbose=False)
    assert record_determinism == [True] and info.deterministic
    assert "determinism" not in info.line()
    info = setup(5, deterministic=False, verbose=False)
    assert record_determinism == [True] and not info.deterministic
    assert info.line().endswith("| op determinism off")
    with pytest.raises(TypeError, match="deterministic must be True or False"):
        setup(5, deterministic="yes")


def test_prints_one_line_and_seeds(capsys):
    info = setup(7)
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1, out
    assert out[0] == info.line()
    assert f"TensorFlow {tf.__version__}" in out[0] and f"Keras {keras.__version__}" in out[0]
    assert "seed: 7" in out[0] and info.device == "CPU"
    a = (random.random(), np.random.rand(), float(keras.random.uniform(()).numpy()))
    setup(7, verbose=False)
    b = (random.random(), np.random.rand(), float(keras.random.uniform(()).numpy()))
    assert a == b


@dataclass
class FakeGPU:
    name: str
    device_type: str = "GPU"


def test_gpu_branch_with_simulated_devices(monkeypatch, capsys):
    grown = []
    monkeypatch.setattr(tf.config.experimental, "set_memory_growth",
                        lambda dev, on: grown.append((dev.name, on)))
    monkeypatch.setattr(tf.config.experimental, "get_device_details",
                        lambda dev: {"device_name": "NVIDIA H100 80GB HBM3"})
    gpu = FakeGPU("/physical_device:GPU:0")
    info = setup(1, gpus=[gpu])
    assert grown == [("/physical_device:GPU:0", True)]
    assert info.device == "GPU: NVIDIA H100 80GB HBM3"
    assert "device: GPU: NVIDIA H100 80GB HBM3" in capsys.readouterr().out


def test_gpu_already_initialised_is_tolerated(monkeypatch):
    def refuse(dev, on):
        raise RuntimeError("Physical devices cannot be modified after being initialized")

    monkeypatch.setattr(tf.config.experimental, "set_memory_growth", refuse)
    monkeypatch.setattr(tf.config.experimental, "get_device_details", lambda dev: {})
    info = setup(1, gpus=[FakeGPU("/physical_device:GPU:0")], verbose=False)
    assert info.device == "GPU: /physical_device:GPU:0"


def test_describe_device():
    assert describe_device([]) == "CPU"
    assert describe_device(["A"]) == "GPU: A"
    assert describe_device(["A", "B"]) == "2 GPUs: A, B"


@pytest.mark.parametrize("seed,error", [(-1, ValueError), (2**32, ValueError),
                                        (1.5, TypeError), ("42", TypeError), (True, TypeError)])
def test_bad_seed(seed, error):
    with pytest.raises(error, match="seed"):
        setup(seed)


def test_native_startup_noise_is_hidden_but_python_errors_are_not():
    import subprocess
    import sys

    code = ("import helpers; helpers.setup(3)\n"
            "from tensorflow.python.framework import config\n"
            "print('determinism', config.is_op_determinism_enabled())\n"
            "import sys; print('after', file=sys.stderr)\n")
    env = {k: v for k, v in __import__("os").environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            env=env, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "TensorFlow" in result.stdout and "seed: 3" in result.stdout
    assert "determinism True" in result.stdout
    assert "cudart_stub" not in result.stderr and "cuInit" not in result.stderr
    assert "after" in result.stderr  # stderr works again once setup() returns


def test_runtime_log_for_the_timing_table(tmp_path, monkeypatch):
    log = tmp_path / "runtime.jsonl"
    monkeypatch.setenv("COURSE_RUNTIME_LOG", str(log))
    setup(4, verbose=False)
    setup(5, verbose=False)
    import json

    lines = [json.loads(line) for line in log.read_text().splitlines()]
    assert [entry["seed"] for entry in lines] == [4, 5]
    assert lines[0]["device"] == "CPU" and lines[0]["tensorflow"] == tf.__version__
