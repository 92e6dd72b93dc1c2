"""The offline site in headless Chromium with the network cut off: math typeset by the site's
own MathJax, figures shown, and every request served from the file system.

``make test`` checks a small site built from two fake executed notebooks; ``make test-site``
(after ``make html``; ``.ci/run`` runs both) checks the real ``build/site/``, its index and a
notebook page with math and figures (04). Screenshots go to build/browser/.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from coursetools.notebooks import course_notebooks
from tests.browser import chromium, requested_urls, screenshot
from tests.test_site import build_demo

BUILT_SITE = os.environ.get("COURSE_SITE_DIR")  # set by `make test-site`

MATH_STATE = """
const typeset = document.querySelectorAll('.MathJax, .MathJax_Display, .MathJax_CHTML').length;
const sources = document.querySelectorAll('script[type^="math/tex"]').length;
const errors = document.querySelectorAll('.MathJax_Error, .MathJax_Preview:not(:empty)').length;
const done = !!(window.MathJax && MathJax.Hub && MathJax.Hub.queue.pending === 0
                && MathJax.Hub.queue.running === 0);
const images = Array.from(document.images).map(i => i.complete && i.naturalWidth > 0);
return {typeset, sources, errors, done, images, text: document.body.innerText};
"""


def page_state(driver, url: str, timeout: float = 30) -> dict:
    """Open ``url`` and wait until MathJax has finished; the page's math and image state."""
    driver.get(url)
    deadline = time.monotonic() + timeout
    while True:
        state = driver.execute_script(MATH_STATE)
        if state["done"] or time.monotonic() > deadline:
            return state
        time.sleep(0.2)


def check_offline_page(driver, page: Path, shot: str, min_math: int, min_images: int) -> dict:
    state = page_state(driver, page.resolve().as_uri())
    screenshot(driver, shot)
    assert state["done"], f"MathJax did not finish on {page.name} (see build/browser/{shot})"
    assert state["sources"] >= min_math and state["typeset"] >= min_math, state
    assert state["errors"] == 0, f"MathJax errors on {page.name}"
    assert len(state["images"]) >= min_images and all(state["images"]), \
        f"{page.name}: a figure did not load: {state['images']}"
    remote = [u for u in requested_urls(driver) if not u.startswith(("file:", "data:", "about:"))]
    assert not remote, f"{page.name} asked the network for {remote}"
    return state


def test_demo_site_offline(tmp_path):
    out, _ = build_demo(tmp_path)
    with chromium(offline=True) as driver:
        index = check_offline_page(driver, out / "index.html", "site-demo-index.png", 0, 0)
        assert "Demo" in index["text"] and "then more" in index["text"]
        state = check_offline_page(driver, out / "00_first.html", "site-demo-page.png", 4, 1)
        assert "\\sigma" not in state["text"], state["text"]
        assert "out 2" in state["text"]


@pytest.mark.skipif(not BUILT_SITE, reason="checks build/site: `make html` then `make test-site`")
def test_built_site_offline():
    out = Path(BUILT_SITE)
    assert (out / "index.html").is_file(), f"no site in {out}: run `make html` first"
    with chromium(offline=True) as driver:
        index = check_offline_page(driver, out / "index.html", "site-index.png", 0, 0)
        pages = sorted(out.glob("[0-9][0-9]_*.html"))
        assert [p.stem for p in pages] == [p.stem for p in course_notebooks()]
        assert all(p.stem[:2] in index["text"] for p in pages)
        readme_title = Path("README.md").read_text(encoding="utf-8").splitlines()[0].lstrip("# ")
        assert readme_title in index["text"]
        # 04 (training neural networks): many formulas and figures
        page = next(p for p in pages if p.name.startswith("04_"))
        state = check_offline_page(driver, page, "site-04.png", 10, 3)
        assert "Traceback (most recent call last)" not in state["text"]
