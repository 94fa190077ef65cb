"""The rendered book, opened in a real browser (headless Debian Chromium via Playwright).

The built HTML (``$BOOK_HTML``, default ``_build/html``, written by ``make book``) is served on
127.0.0.1 by ``http.server`` in a thread; every page of the book (every built ``.html`` file
except Sphinx's genindex/search) is opened and must

* load without a console error, page error or failed request (a broken figure link, a
  missing MathJax file);
* show every ``<img>`` decoded (``naturalWidth > 0``), and at least one figure on the pages that
  the paper's content puts figures on (the opening page's Figure 1);
* have its math typeset: a page whose source holds math (``div.math``/``span.math`` written
  by Sphinx) must contain MathJax output elements ``mjx-container`` and no MathJax error
  (``mjx-merror``).

A screenshot of each page is saved under ``test-output/screenshots/``. A missing build is a
failure that says to run ``make book``, not a skip.
"""
from __future__ import annotations

import functools
import http.server
import os
import re
import threading
from pathlib import Path

import pytest

from aligned_latents.paths import REPO_ROOT

pytestmark = pytest.mark.browser

BOOK_HTML = Path(os.environ.get("BOOK_HTML", REPO_ROOT / "_build" / "html"))
SCREENSHOTS = Path(os.environ.get("TEST_OUTPUT", REPO_ROOT / "test-output")) / "screenshots"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]
SKIP_PAGES = {"genindex.html", "search.html", "index.html"}  # index.html only redirects
#: Pages that must carry at least one figure (the paper's Figure 1 on the opening page).
PAGES_WITH_FIGURES = {"intro.html"}
#: Time for MathJax to typeset a page (ms). Generous: two shared CPU cores, some pages long.
MATH_TIMEOUT_MS = 30_000


def book_pages(root: Path) -> list[str]:
    """Every built page of the book (relative paths), without Sphinx's generated indexes."""
    pages = sorted(p.relative_to(root).as_posix() for p in root.rglob("*.html")
                   if not p.relative_to(root).parts[0].startswith(("_", "."))
                   and p.name not in SKIP_PAGES)
    return pages


def _require_build() -> Path:
    if not (BOOK_HTML / "intro.html").is_file():
        pytest.fail(f"{BOOK_HTML}/intro.html is missing: build the book first (make book), or "
                    "point BOOK_HTML at a built book's html folder")
    return BOOK_HTML


@pytest.fixture(scope="module")
def server():
    root = _require_build()

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(Quiet, directory=str(root)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).is_file():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium and chromium-driver "
                    "(make browser-deps)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


def test_book_is_built():
    root = _require_build()
    pages = book_pages(root)
    # the table of contents names these pages; each must have been built
    for name in ("intro", "stretching", "gaussians", "autoencoders", "glove", "cmap",
                 "errata", "reruns"):
        assert f"{name}.html" in pages, f"{name}.html was not built in {root}"


def test_page_list_excludes_indexes(tmp_path):
    for name in ("intro.html", "genindex.html", "search.html", "_static/x.html", "sub/a.html"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("<html></html>")
    assert book_pages(tmp_path) == ["intro.html", "sub/a.html"]


def _has_math_source(html: str) -> bool:
    """Sphinx marks math as div.math / span.math (MathJax typesets those)."""
    return bool(re.search(r'class="[^"]*\bmath\b[^"]*"', html))


@pytest.mark.parametrize("page", book_pages(BOOK_HTML) if BOOK_HTML.is_dir() else ["intro.html"])
def test_page_renders(page, server, browser):
    root = _require_build()
    source = (root / page).read_text(encoding="utf-8")
    ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    pg = ctx.new_page()
    errors = []
    # Chromium itself asks for /favicon.ico (the book declares none): that 404 is not the page's
    pg.on("console", lambda m: errors.append(f"console {m.type}: {m.text} "
                                             f"(at {m.location.get('url', '?')})")
          if m.type == "error" and not m.location.get("url", "").endswith("/favicon.ico")
          else None)
    pg.on("pageerror", lambda e: errors.append(f"page error: {e}"))
    pg.on("requestfailed", lambda r: errors.append(f"request failed: {r.url} ({r.failure})"))
    pg.on("response", lambda r: errors.append(f"HTTP {r.status}: {r.url}")
          if r.status >= 400 else None)
    try:
        pg.goto(f"{server}/{page}", wait_until="load", timeout=60_000)
        math = _has_math_source(source)
        if math:
            pg.wait_for_selector("mjx-container", state="attached", timeout=MATH_TIMEOUT_MS)
            # wait until MathJax has finished the whole page (its startup promise resolves)
            pg.evaluate("() => MathJax.startup.promise.then(() => true)")
        pg.wait_for_load_state("networkidle", timeout=30_000)
        imgs = pg.eval_on_selector_all(
            "img", "els => els.map(e => ({src: e.currentSrc || e.src, complete: e.complete,"
                   " w: e.naturalWidth}))")
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        shot = SCREENSHOTS / (page.replace("/", "__").removesuffix(".html") + ".png")
        pg.screenshot(path=str(shot), full_page=True)
        n_mjx = pg.eval_on_selector_all("mjx-container", "els => els.length")
        n_merror = pg.eval_on_selector_all("mjx-merror", "els => els.length")
    finally:
        ctx.close()
    assert not errors, f"{page}: " + "; ".join(errors)
    broken = [i["src"] for i in imgs if not (i["complete"] and i["w"] > 0)]
    assert not broken, f"{page}: images not decoded: {broken}"
    if page in PAGES_WITH_FIGURES:
        assert imgs, f"{page} should show a figure and has no <img>"
    if math:
        assert n_mjx > 0, f"{page} has math but no MathJax output"
        assert n_merror == 0, f"{page}: MathJax reports {n_merror} error(s)"
    assert shot.is_file() and shot.stat().st_size > 0
