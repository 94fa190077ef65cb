"""The rendered book, opened in a real browser (headless Debian Chromium via Playwright).

The built HTML (``$BOOK_HTML``, default ``_build/html``, written by ``make book``) is served on
127.0.0.1 by ``http.server`` in a thread; every page of the book (every built ``.html`` file
except Sphinx's genindex/search and the redirecting index.html) is opened once, in a window
1280 pixels wide, and must

* load without a console error, page error or failed request (a broken figure link, a
  missing MathJax file), show every ``<img>`` decoded (``naturalWidth > 0``), and at least
  one figure on the pages that the paper's content puts figures on (the opening page's
  Figure 1);
* have its math typeset: a page whose source holds math (``div.math``/``span.math`` written
  by Sphinx) must contain MathJax output elements ``mjx-container`` and no MathJax error
  (``mjx-merror``);
* show no raw TeX: the text a reader sees, outside MathJax's output, code cells and
  ``pre``/``code``, holds no TeX command (``\\frac``, ``\\alpha``, ``\\mathbb``, ...), no
  ``\\|``/``\\{``, no ``^T``/``^{``/``_{`` and no ``$`` (a ``$...$`` that MathJax did not
  typeset, or an unmatched one);
* have no horizontal scroll bar in a code cell or a table (``div.cell_input pre``,
  ``div.cell_output pre``, ``table`` and the containers that scroll them:
  ``scrollWidth > clientWidth + 1``);
* show no stray output: an output whose whole text is ``True``, ``False``, ``None`` or a
  matplotlib object's repr (``<Figure size ...>``, ``[<matplotlib.lines.Line2D ...>]``,
  ``Text(...)``) is a forgotten ``;`` or return value;
* caption every figure: a picture in a cell's output (a matplotlib figure, a slider) needs
  a ``figcaption``/``*caption`` element in its cell or its ``<figure>`` (``{glue:figure}``
  with a caption, the slider's ``al-caption``), or the block right after its cell must be
  a caption: a paragraph that starts with bold or emphasised text (the chapters' Markdown
  captions, ``**Figure 5** ...``, ``**The power method aligns...**``) or with "Figure", or
  an element with a caption class;
* have working sliders (``aligned_latents.book.sliders``): on each ``.al-slider`` exactly one
  frame (``img.al-frame``) is displayed, and moving the range input, by setting its value
  and dispatching ``input`` and by the keyboard (ArrowRight/ArrowLeft), changes the
  displayed frame and the caption (``.al-caption``);
* weigh at most 5 MiB: the page's HTML plus the images, scripts and style sheets it loads
  (``scripts/page_weights.py``, which prints the table for the whole book).

The text, scroll, output and caption checks run with every collapsed block opened
(``<details>``, sphinx-togglebutton): a reader can open them. A full-page screenshot of
each page, as it first appears, is saved under ``test-output/screenshots/``. A missing
build is a failure that says to run ``make book``, not a skip. The rules that decide what
is raw TeX, a stray output or a caption are plain functions, tested here without a browser.
"""
from __future__ import annotations

import functools
import http.server
import importlib.util
import os
import re
import sys
import threading
from pathlib import Path

import pytest

from aligned_latents.util.chapters import CHAPTERS
from aligned_latents.util.paths import REPO_ROOT

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
VIEWPORT = {"width": 1280, "height": 900}
#: Page weight limit: HTML + images + scripts + style sheets (scripts/page_weights.py).
MAX_PAGE_MIB = 5.0


def _load_page_weights():
    path = REPO_ROOT / "scripts" / "page_weights.py"
    spec = importlib.util.spec_from_file_location("page_weights", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module   # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


page_weights = _load_page_weights()


def book_pages(root: Path) -> list[str]:
    """Every built page of the book (relative paths), without Sphinx's generated indexes."""
    pages = sorted(p.relative_to(root).as_posix() for p in root.rglob("*.html")
                   if not p.relative_to(root).parts[0].startswith(("_", "."))
                   and p.name not in SKIP_PAGES)
    return pages


PAGES = (book_pages(BOOK_HTML) if BOOK_HTML.is_dir() else []) or ["intro.html"]


# --- the rules, as plain functions -----------------------------------------------------

#: TeX a reader should never see: a command (\frac, \alpha, \mathbb, \sum, \Sigma...), an
#: escaped delimiter (\|, \{, \}), a transpose or a braced super/subscript.
_TEX = re.compile(r"\\[A-Za-z]+|\\[|{}]|\^T(?![A-Za-z])|\^\{|_\{")
_DOLLAR_PAIR = re.compile(r"\$[^$\n]+\$")
_CONTEXT = 30


def raw_tex_fragments(text: str, context: int = _CONTEXT) -> list[str]:
    """The places in ``text`` (visible prose, math and code left out) that show raw TeX:
    TeX commands and subscripts (:data:`_TEX`), a ``$...$`` that was not typeset, or an
    unmatched ``$``. Overlapping places are merged; each comes with ``context``
    characters either side."""
    spans = [m.span() for m in _TEX.finditer(text)]
    spans += [m.span() for m in _DOLLAR_PAIR.finditer(text)]
    paired = {i for m in _DOLLAR_PAIR.finditer(text) for i in (m.start(), m.end() - 1)}
    spans += [(i, i + 1) for i, ch in enumerate(text) if ch == "$" and i not in paired]
    if not spans:
        return []
    spans.sort()
    merged = [list(spans[0])]
    for a, b in spans[1:]:
        if a <= merged[-1][1] + context:
            merged[-1][1] = max(merged[-1][1], b)
        else:
            merged.append([a, b])
    out = []
    for a, b in merged:
        frag = text[max(0, a - context):b + context]
        out.append(re.sub(r"\s+", " ", frag).strip())
    return out


_STRAY = re.compile(
    r"^(True|False|None"
    r"|<Figure size [\d.]+x[\d.]+ with \d+ Axes>"
    r"|\[?<matplotlib\.[\w.]+ (object )?at 0x[0-9a-f]+>(, <matplotlib[^>]*>)*\]?"
    r"|Text\(.*\)|\[<matplotlib\..*\]|<matplotlib\..*>"
    r")$", re.DOTALL)


def is_stray_output(text: str) -> bool:
    """Whether an output area's whole text is a value nobody meant to show: ``True``,
    ``False``, ``None`` or a matplotlib object's repr (a missing ``;`` or ``_ =``)."""
    return bool(_STRAY.match(text.strip()))


_FIGURE_WORD = re.compile(r"^(Figure|Fig\.|Table)\b")


def has_caption(fig: dict) -> bool:
    """The caption rule for one figure (a dict written by the page's inspection script):

    * ``in_caption``: its cell or its ``<figure>`` holds a ``figcaption`` or an element
      with a ``*caption`` class (``{glue:figure}``, a slider's ``al-caption``); or
    * the next block after its cell (``next_tag``, ``next_class``, ``next_text``,
      ``next_lead``: the tag of an element that opens the block's text) is a
      ``figcaption``/caption-class element, or a paragraph that opens with ``strong``/
      ``b``/``em``/``i`` text, or whose text starts with "Figure"."""
    if fig.get("in_caption"):
        return True
    tag = (fig.get("next_tag") or "").lower()
    cls = fig.get("next_class") or ""
    text = (fig.get("next_text") or "").strip()
    if tag == "figcaption" or re.search(r"(^|[\s_-])caption\b", cls):
        return bool(text)
    if tag == "p" and text:
        return (fig.get("next_lead") or "").lower() in {"strong", "b", "em", "i"} \
            or bool(_FIGURE_WORD.match(text))
    return False


def test_raw_tex_rule():
    assert raw_tex_fragments("The map cos(Bq, Bq) = 0.97 and x = 2.") == []
    assert raw_tex_fragments("a caption (Figure 5) with 1–2 % and a/b") == []
    frags = raw_tex_fragments(r"known exactly: $\mathbb{E}|\frac1n XX^T - x|_F^2 = y")
    assert len(frags) == 1 and r"\mathbb" in frags[0]
    assert raw_tex_fragments("after $t$ steps") == ["after $t$ steps"]
    assert raw_tex_fragments("costs 5$ here") != []          # unmatched $
    assert raw_tex_fragments(r"norm \|x\|") != []
    assert raw_tex_fragments("the transpose X^T here") != []
    assert raw_tex_fragments("x_{ij} and y^{2}") != []
    assert raw_tex_fragments("T-shirt, ^Tab, a_b") == []
    long = r"\alpha" + " word" * 40 + r" \beta"
    assert len(raw_tex_fragments(long)) == 2                 # far apart: two places


def test_stray_output_rule():
    for text in ("True", " False\n", "None", "<Figure size 700x360 with 2 Axes>",
                 "[<matplotlib.lines.Line2D at 0x7f3a2c1b0d90>]",
                 "Text(0.5, 1.0, 'title')"):
        assert is_stray_output(text), text
    for text in ("True positives: 3", "c = 0.5", "", "k\tcos\n1\t0.99", "None of them"):
        assert not is_stray_output(text), text


def test_caption_rule():
    assert has_caption({"in_caption": True})
    assert has_caption({"next_tag": "P", "next_lead": "STRONG", "next_text": "Figure 5 (a)"})
    assert has_caption({"next_tag": "p", "next_lead": "", "next_text": "Figure 3. Arrows"})
    assert has_caption({"next_tag": "p", "next_lead": "em", "next_text": "Left: ..."})
    assert has_caption({"next_tag": "figcaption", "next_text": "Arrows"})
    assert has_caption({"next_tag": "div", "next_class": "caption", "next_text": "x"})
    assert not has_caption({"next_tag": "p", "next_lead": "", "next_text": "The error of"})
    assert not has_caption({"next_tag": "div", "next_class": "cell docutils container",
                            "next_text": "fig = plot()"})
    assert not has_caption({"next_tag": None})


# --- the browser ------------------------------------------------------------------------

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


#: Opens every collapsed block a reader can open, marking those that were closed.
_OPEN_ALL_JS = """() => {
  document.querySelectorAll('details:not([open]), .toggle-hidden').forEach(
    e => { e.dataset.alClosed = '1'; });
  document.querySelectorAll('details').forEach(d => { d.open = true; });
  document.querySelectorAll('.toggle-hidden').forEach(e => e.classList.remove('toggle-hidden'));
}"""

#: Collects what the checks need, in one pass over the (opened) page.
_INSPECT_JS = r"""() => {
  const HIDDEN_TEXT = 'mjx-container, mjx-assistive-mml, script, style, noscript, template, '
    + 'pre, code, kbd, samp, textarea, svg, div.cell_input, .highlight, '
    + '.visually-hidden, .sr-only, .screen-reader-text';
  const BLOCK = 'p, li, td, th, dt, dd, h1, h2, h3, h4, h5, h6, caption, figcaption, '
    + 'summary, blockquote, div, section, article, aside, nav, body';
  const visible = el => el.checkVisibility({checkVisibilityCSS: true});
  const collapsed = el => !!el.closest('[data-al-closed]') && !el.closest('summary');
  const firstLine = el => ((el.innerText || el.textContent || '').trim().split('\n')[0]
                           || '').slice(0, 100);
  // 1. visible text, by block, outside math and code
  const blocks = new Map();
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const el = n.parentElement;
    if (!el || !n.nodeValue.trim() || el.closest(HIDDEN_TEXT) || !visible(el)) continue;
    const block = el.closest(BLOCK);
    blocks.set(block, (blocks.get(block) || '') + n.nodeValue);
  }
  const text = [...blocks.entries()].map(([b, t]) => ({
    where: b.tagName.toLowerCase() + (b.id ? '#' + b.id : ''), text: t,
    collapsed: collapsed(b)}));
  // 2. horizontal scroll bars in code cells and tables, and their scroll containers
  const scroll = [], seen = new Set();
  const targets = document.querySelectorAll(
    'div.cell_input pre, div.cell_output pre, table');
  for (const t of targets) {
    if (!visible(t)) continue;
    const stop = t.closest('div.cell, article, main') || document.body;
    for (let el = t; el && el !== stop.parentElement; el = el.parentElement) {
      if (seen.has(el)) break;
      const ox = getComputedStyle(el).overflowX;
      const scrolls = el === t || ox === 'auto' || ox === 'scroll';
      if (scrolls && el.scrollWidth > el.clientWidth + 1) {
        seen.add(el);
        const cls = String(el.className || '').trim();
        scroll.push({element: el.tagName.toLowerCase() + (cls ? '.' + cls.split(/\s+/)
                       .join('.') : ''),
                     first_line: firstLine(t), scroll_width: el.scrollWidth,
                     client_width: el.clientWidth, collapsed: collapsed(t)});
        break;
      }
      if (el === stop) break;
    }
  }
  const page_overflow = document.documentElement.scrollWidth
    > document.documentElement.clientWidth + 1;
  // 3. output areas
  const outputs = [];
  document.querySelectorAll('div.cell_output').forEach(area => {
    const parts = area.querySelectorAll(':scope > div.output');
    (parts.length ? [...parts] : [area]).forEach(o => outputs.push(
      {text: (o.innerText || o.textContent || '').trim().slice(0, 200),
       // (the copy button's svg icon is no picture)
       has_media: [...o.querySelectorAll('img, svg, canvas, video, iframe, table')].some(
         e => !e.closest('button')),
       collapsed: collapsed(o)}));
  });
  // 4. figures in cell outputs and what follows their cell
  const CAPTION_IN = 'figcaption, [class*="caption"]';
  const figures = [], cells = new Set();
  document.querySelectorAll('div.cell_output img').forEach(img => {
    const slider = img.closest('.al-slider');
    const cell = img.closest('div.cell') || img.closest('figure') || slider
      || img.parentElement;
    if (cells.has(cell)) return;
    cells.add(cell);
    const fig = img.closest('figure');
    const inCaption = !!((slider && slider.querySelector(CAPTION_IN))
      || (fig && fig.querySelector('figcaption'))
      || [...cell.querySelectorAll(CAPTION_IN)].some(e => e.tagName !== 'CAPTION'
                                                      && e.textContent.trim()));
    let next = cell.nextElementSibling;
    while (next && !next.textContent.trim() && !next.querySelector('img')) {
      next = next.nextElementSibling;   // label targets, removed cells
    }
    let lead = '';
    if (next) {
      const first = [...next.childNodes].find(c => c.nodeType === 1
        || (c.nodeType === 3 && c.nodeValue.trim()));
      if (first && first.nodeType === 1) lead = first.tagName;
    }
    figures.push({src: (img.currentSrc || img.src).replace(/^data:[^,]{0,40},.*/, 'data:...')
                    .split('/').pop().slice(0, 60),
                  alt: (img.alt || '').slice(0, 80), in_caption: inCaption,
                  collapsed: collapsed(img),
                  next_tag: next ? next.tagName : null,
                  next_class: next ? String(next.className || '') : '',
                  next_text: next ? (next.textContent || '').trim().slice(0, 80) : '',
                  next_lead: lead});
  });
  return {text, scroll, page_overflow, outputs, figures,
          n_sliders: document.querySelectorAll('.al-slider').length};
}"""

_SLIDER_STATE_JS = """(i) => {
  const root = document.querySelectorAll('.al-slider')[i];
  const range = root.querySelector('input.al-range');
  const shown = [...root.querySelectorAll('img.al-frame')].filter(
    f => f.checkVisibility() && f.getBoundingClientRect().height > 0);
  return {shown: shown.map(f => f.dataset.i), decoded: shown.every(f => f.naturalWidth > 0),
          caption: (root.querySelector('.al-caption') || {}).textContent,
          value: range ? range.value : null, min: range ? range.min : null,
          max: range ? range.max : null, n: root.querySelectorAll('img.al-frame').length};
}"""

_SLIDER_SET_JS = """([i, v]) => {
  const range = document.querySelectorAll('.al-slider')[i].querySelector('input.al-range');
  range.value = v;
  range.dispatchEvent(new Event('input', {bubbles: true}));
}"""


def _exercise_sliders(pg, n: int) -> list[str]:
    """Move each slider by script and by keyboard; the problems found."""
    problems = []
    for i in range(n):
        label = f"slider {i + 1}"
        s0 = pg.evaluate(_SLIDER_STATE_JS, i)
        if s0["value"] is None:
            problems.append(f"{label}: no input.al-range")
            continue
        if s0["n"] < 2:
            problems.append(f"{label}: {s0['n']} frame(s), nothing to move")
            continue
        if len(s0["shown"]) != 1 or not s0["decoded"]:
            problems.append(f"{label}: {len(s0['shown'])} frames displayed at first "
                            f"(decoded: {s0['decoded']}), want exactly one")
            continue
        lo, hi, v0 = int(s0["min"]), int(s0["max"]), int(s0["value"])
        target = v0 + 1 if v0 < hi else lo
        pg.evaluate(_SLIDER_SET_JS, [i, target])
        s1 = pg.evaluate(_SLIDER_STATE_JS, i)
        if len(s1["shown"]) != 1 or s1["shown"] == s0["shown"] or not s1["decoded"]:
            problems.append(f"{label}: setting the value {v0} -> {target} shows frames "
                            f"{s1['shown']} (before {s0['shown']})")
        if s1["caption"] == s0["caption"]:
            problems.append(f"{label}: the caption stays {s0['caption']!r} when the value "
                            f"moves {v0} -> {target}")
        # the keyboard: focus the range and press an arrow key
        key = "ArrowRight" if int(s1["value"]) < hi else "ArrowLeft"
        pg.locator(".al-slider").nth(i).locator("input.al-range").focus()
        pg.keyboard.press(key)
        s2 = pg.evaluate(_SLIDER_STATE_JS, i)
        if s2["value"] == s1["value"] or len(s2["shown"]) != 1 \
                or s2["shown"] == s1["shown"] or s2["caption"] == s1["caption"]:
            problems.append(f"{label}: {key} moves the value {s1['value']} -> "
                            f"{s2['value']}, frames {s1['shown']} -> {s2['shown']}, "
                            f"caption changed: {s2['caption'] != s1['caption']}")
    return problems


def _has_math_source(html: str) -> bool:
    """Sphinx marks math as div.math / span.math (MathJax typesets those)."""
    return bool(re.search(r'class="[^"]*\bmath\b[^"]*"', html))


def _inspect(browser, server: str, page: str) -> dict:
    """Open ``page`` once and gather everything the checks need."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    root = _require_build()
    source = (root / page).read_text(encoding="utf-8")
    ctx = browser.new_context(viewport=VIEWPORT)
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
    report = {"page": page, "math": _has_math_source(source)}
    try:
        pg.goto(f"{server}/{page}", wait_until="load", timeout=60_000)
        if report["math"]:
            pg.wait_for_selector("mjx-container", state="attached", timeout=MATH_TIMEOUT_MS)
            # wait until MathJax has finished the whole page (its startup promise resolves)
            pg.evaluate("() => MathJax.startup.promise.then(() => true)")
        try:
            pg.wait_for_load_state("networkidle", timeout=30_000)
        except PlaywrightTimeout:   # a loaded machine: wait for the images alone
            pg.wait_for_function("() => [...document.images].every(i => i.complete)",
                                 timeout=30_000)
        report["imgs"] = pg.eval_on_selector_all(
            "img", "els => els.map(e => ({src: (e.currentSrc || e.src).slice(0, 120), "
                   "complete: e.complete, w: e.naturalWidth}))")
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        shot = SCREENSHOTS / (page.replace("/", "__").removesuffix(".html") + ".png")
        pg.screenshot(path=str(shot), full_page=True)
        report["shot"] = shot
        report["n_mjx"] = pg.eval_on_selector_all("mjx-container", "els => els.length")
        report["n_merror"] = pg.eval_on_selector_all("mjx-merror", "els => els.length")
        pg.evaluate(_OPEN_ALL_JS)
        report.update(pg.evaluate(_INSPECT_JS))
        report["slider_problems"] = _exercise_sliders(pg, report["n_sliders"])
    finally:
        ctx.close()
    report["errors"] = errors
    return report


_COLLAPSED = ", in a collapsed block"


@pytest.fixture(scope="module")
def inspected(server, browser):
    """``inspected(page)``: the page's report, computed once per page."""
    cache: dict[str, dict | Exception] = {}

    def get(page: str) -> dict:
        if page not in cache:
            try:
                cache[page] = _inspect(browser, server, page)
            except Exception as exc:  # noqa: BLE001 - reported by every check of the page
                cache[page] = exc
        if isinstance(cache[page], Exception):
            raise cache[page]
        return cache[page]

    return get


def test_book_is_built():
    root = _require_build()
    pages = book_pages(root)
    # the table of contents names these pages; each must have been built
    for name in ("intro", *CHAPTERS, "errata", "reruns"):
        assert f"{name}.html" in pages, f"{name}.html was not built in {root}"


def test_page_list_excludes_indexes(tmp_path):
    for name in ("intro.html", "genindex.html", "search.html", "_static/x.html", "sub/a.html"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("<html></html>")
    assert book_pages(tmp_path) == ["intro.html", "sub/a.html"]
    assert page_weights.book_pages(tmp_path) == book_pages(tmp_path)


@pytest.mark.parametrize("page", PAGES)
def test_page_renders(page, inspected):
    r = inspected(page)
    assert not r["errors"], f"{page}: " + "; ".join(r["errors"])
    broken = [i["src"] for i in r["imgs"] if not (i["complete"] and i["w"] > 0)]
    assert not broken, f"{page}: images not decoded: {broken}"
    if page in PAGES_WITH_FIGURES:
        assert r["imgs"], f"{page} should show a figure and has no <img>"
    if r["math"]:
        assert r["n_mjx"] > 0, f"{page} has math but no MathJax output"
        assert r["n_merror"] == 0, f"{page}: MathJax reports {r['n_merror']} error(s)"
    assert r["shot"].is_file() and r["shot"].stat().st_size > 0


@pytest.mark.parametrize("page", PAGES)
def test_no_raw_tex(page, inspected):
    r = inspected(page)
    found = [f"[{b['where']}{_COLLAPSED if b['collapsed'] else ''}] {frag}" for b in r["text"]
             for frag in raw_tex_fragments(b["text"])]
    assert not found, (f"{page}: {len(found)} place(s) show raw TeX outside typeset math:\n"
                       + "\n".join(found))


@pytest.mark.parametrize("page", PAGES)
def test_no_horizontal_scroll(page, inspected):
    r = inspected(page)
    bad = [f"{s['element']} ({s['scroll_width']} > {s['client_width']} px"
           f"{_COLLAPSED if s['collapsed'] else ''}): {s['first_line']!r}"
           for s in r["scroll"]]
    if r["page_overflow"]:
        bad.append("the page itself scrolls sideways at 1280 px")
    assert not bad, (f"{page}: {len(bad)} code cell(s)/table(s) scroll sideways at "
                     f"{VIEWPORT['width']} px:\n" + "\n".join(bad))


@pytest.mark.parametrize("page", PAGES)
def test_no_stray_outputs(page, inspected):
    r = inspected(page)
    stray = [o["text"] + (_COLLAPSED if o["collapsed"] else "") for o in r["outputs"]
             if not o["has_media"] and is_stray_output(o["text"])]
    assert not stray, f"{page}: stray output(s) {stray} (a missing ';' or '_ ='?)"


@pytest.mark.parametrize("page", PAGES)
def test_figures_have_captions(page, inspected):
    r = inspected(page)
    bare = [f"{f['src'] or f['alt']}{_COLLAPSED if f['collapsed'] else ''} (next block: "
            f"<{(f['next_tag'] or 'none').lower()}> {f['next_text'][:50]!r})"
            for f in r["figures"] if not has_caption(f)]
    assert not bare, (f"{page}: {len(bare)} of {len(r['figures'])} figure(s) without a "
                      "caption right below their cell:\n" + "\n".join(bare))


@pytest.mark.parametrize("page", PAGES)
def test_sliders_work(page, inspected):
    r = inspected(page)
    assert not r["slider_problems"], f"{page}: " + "; ".join(r["slider_problems"])


@pytest.mark.parametrize("page", PAGES)
def test_page_weight(page):
    root = _require_build()
    w = page_weights.page_weight(root, page)
    table = page_weights.format_table([w], MAX_PAGE_MIB)
    assert not w.missing, f"{page} references missing files:\n{table}"
    assert w.total <= MAX_PAGE_MIB * page_weights.MB, (
        f"{page} weighs {w.total / page_weights.MB:.2f} MiB > {MAX_PAGE_MIB:g} MiB:\n{table}")
