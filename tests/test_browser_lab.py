"""JupyterLab in a real browser: start it as ``make lab`` does (``python -m coursetools.lab``,
on a free port, with a token), open a notebook in headless Chromium, run all its cells and
check that none shows an error; then open a student version, run an exercise's ``hint()`` and
``solution()``, and check that the solution shows as multi-line code. Screenshots go to
build/browser/ for a person to look at.

The lab serves a temporary copy of notebook 00 (so autosave cannot write outputs into the
committed notebook), with fresh user settings and workspaces (so a developer's own settings
cannot hide a problem with the ones the course ships).
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest

from coursetools.notebooks import NOTEBOOK_DIR, ROOT
from tests.browser import chromium, require_browser, screenshot

NOTEBOOK = "00_getting_started.ipynb"
PANEL = ".jp-NotebookPanel:not(.lm-mod-hidden)"  # the notebook on show
PROMPTS = f"""return Array.from(document.querySelectorAll(
    '{PANEL} .jp-CodeCell .jp-InputPrompt')).map(e => e.textContent.trim());"""
OUTPUTS = f"""return Array.from(document.querySelectorAll('{PANEL} .jp-CodeCell')).map(cell => [
    cell.querySelector('.jp-InputArea').innerText,
    Array.from(cell.querySelectorAll('.jp-OutputArea-output')).map(o => ({{
        mime: o.getAttribute('data-mime-type'), text: o.innerText,
        code: Array.from(o.querySelectorAll('pre code')).map(c => c.textContent)}}))]);"""


@dataclass
class Lab:
    url: str
    token: str
    root: Path

    def page(self, path: str) -> str:
        return f"{self.url}/lab/tree/{path}?reset&token={self.token}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    require_browser()
    from coursetools.student import student_notebook

    tmp = tmp_path_factory.mktemp("lab")
    root = tmp / "notebooks"
    (root / "student").mkdir(parents=True)
    shutil.copy(NOTEBOOK_DIR / NOTEBOOK, root / NOTEBOOK)
    nb = nbformat.read(NOTEBOOK_DIR / NOTEBOOK, as_version=4)
    nbformat.write(student_notebook(nb, NOTEBOOK), root / "student" / NOTEBOOK)
    port, token = free_port(), secrets.token_hex(16)
    env = {**os.environ, **{f"JUPYTER{k}": str(tmp / v) for k, v in {
        "LAB_SETTINGS_DIR": "settings", "LAB_WORKSPACES_DIR": "workspaces",
        "_RUNTIME_DIR": "runtime", "_CONFIG_DIR": "config"}.items()}}
    log = open(tmp / "lab.log", "wb")  # noqa: SIM115 (closed below)
    server = subprocess.Popen(
        [sys.executable, "-m", "coursetools.lab", "--no-browser", f"--port={port}",
         "--ServerApp.port_retries=0", f"--ServerApp.token={token}",
         f"--ServerApp.root_dir={root}"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while True:
        try:
            urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=5)
            break
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                server.kill()
                pytest.fail("JupyterLab did not start:\n" + (tmp / "lab.log").read_text()[-3000:])
            time.sleep(0.5)
    try:
        yield Lab(url, token, root)
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


def open_notebook(driver, lab: Lab, path: str) -> None:
    from selenium.webdriver.common.by import By

    driver.get(lab.page(path))
    wait_for(lambda: driver.find_elements(By.CSS_SELECTOR, f"{PANEL} .jp-CodeCell"), 90,
             f"JupyterLab did not show {path}")


def wait_for(condition, timeout: float, message: str):
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(message)
        time.sleep(0.5)


def run_all(driver) -> list[str]:
    """Run > Run All Cells, as a student would; the prompts once nothing is left running."""
    from selenium.webdriver.common.by import By

    menu = next(m for m in driver.find_elements(By.CSS_SELECTOR, ".lm-MenuBar-item")
                if m.text.strip() == "Run")
    menu.click()
    wait_for(lambda: driver.find_elements(
        By.CSS_SELECTOR, 'li.lm-Menu-item[data-command="runmenu:run-all"]'), 10,
        "the Run menu has no 'Run All Cells'")[0].click()

    def finished():
        prompts = driver.execute_script(PROMPTS)
        started = any(p.strip("[]: ") for p in prompts)
        return prompts if started and not any("*" in p for p in prompts) else None

    time.sleep(1)
    return wait_for(finished, 300, "the cells did not finish running within 300 s")


def errors_shown(driver) -> list[str]:
    return [o["text"] for _, outs in driver.execute_script(OUTPUTS) for o in outs
            if "Traceback (most recent call last)" in o["text"]]


def test_lab_starts_clean_at_the_notebooks(lab):
    import json

    with urllib.request.urlopen(f"{lab.url}/lab/api/settings/@jupyterlab/apputils-extension:"
                                f"notification?token={lab.token}", timeout=30) as reply:
        schema = json.load(reply)["schema"]["properties"]
    assert schema["fetchNews"]["default"] == "false", "the course's lab settings are not applied"
    assert schema["checkForUpdates"]["default"] is False
    from selenium.webdriver.common.by import By

    with chromium(size=(1400, 900)) as driver:
        driver.get(f"{lab.url}/lab?reset&token={lab.token}")
        names = wait_for(lambda: [e.text for e in driver.find_elements(
            By.CSS_SELECTOR, ".jp-DirListing-itemText") if e.text], 90, "no file browser listing")
        time.sleep(3)  # the news question, when asked, comes a moment after start-up
        screenshot(driver, "lab-start.png")
        text = driver.find_element(By.TAG_NAME, "body").text
    assert NOTEBOOK in names and "student" in names, names
    assert "Jupyter news" not in text


def test_lab_runs_a_notebook_without_errors(lab):
    from selenium.webdriver.common.by import By

    code_cells = sum(c.cell_type == "code"
                     for c in nbformat.read(lab.root / NOTEBOOK, as_version=4).cells)
    with chromium(size=(1400, 1000)) as driver:
        open_notebook(driver, lab, NOTEBOOK)
        prompts = run_all(driver)
        screenshot(driver, "lab-00-ran.png")
        errors = errors_shown(driver)
        images = driver.find_elements(By.CSS_SELECTOR, f"{PANEL} .jp-RenderedImage img")
        passes = [o["text"] for _, outs in driver.execute_script(OUTPUTS) for o in outs
                  if ": correct." in o["text"]]
    assert len(prompts) == code_cells
    assert prompts == [f"[{i}]:" for i in range(1, code_cells + 1)], prompts
    assert not errors, errors[0][-1500:]
    assert images and len(passes) >= 3, (len(images), passes)


def test_student_version_hint_and_solution(lab):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    from helpers.exercises import nb00, reference

    solution = reference()["nb00"]["exercises"]["q1"]["solution"]
    with chromium(size=(1400, 1000)) as driver:
        open_notebook(driver, lab, f"student/{NOTEBOOK}")
        run_all(driver)
        errors = errors_shown(driver)
        # Run All stops at the first exercise: its stub asks for the student's code
        assert len(errors) == 1 and "NotImplementedError" in errors[0], errors
        cells = len(driver.execute_script(PROMPTS))
        driver.find_element(By.CSS_SELECTOR, f"{PANEL} .jp-Notebook-footer").click()
        wait_for(lambda: len(driver.execute_script(PROMPTS)) == cells + 1, 10,
                 "clicking below the last cell did not add a cell")
        ActionChains(driver).send_keys(Keys.ENTER).perform()  # edit the new (active) cell
        wait_for(lambda: driver.find_elements(By.CSS_SELECTOR, f"{PANEL} .jp-mod-editMode"), 10,
                 "the new cell did not open for typing")
        # Enter starts a new line in the cell, Shift+Enter runs it
        (ActionChains(driver).send_keys("ex.q1.hint()", Keys.ENTER, "ex.q1.solution()")
         .key_down(Keys.SHIFT).send_keys(Keys.ENTER).key_up(Keys.SHIFT).perform())
        outputs = wait_for(lambda: next((outs for source, outs in driver.execute_script(OUTPUTS)
                                         if "ex.q1.solution()" in source and len(outs) >= 2),
                                        None), 60, "hint() and solution() showed nothing")
        screenshot(driver, "lab-student-solution.png")
    hint, shown = outputs[0], outputs[-1]
    assert hint["text"].strip() == f"Hint for {nb00.q1.name}: {nb00.q1._hint}".strip()
    assert len(shown["code"]) == 1, shown
    code = shown["code"][0].rstrip("\n")
    assert code == solution.rstrip("\n") and code.count("\n") >= 2, code
