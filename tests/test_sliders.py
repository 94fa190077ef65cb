"""The book's sliders (``aligned_latents.book.sliders``): self-contained HTML over precomputed
frames, Procrustes alignment of 2-D frames, and the Figure 5 frame of the gaussians chapter.

The HTML is checked by parsing it (structure, escaping, no external URL); one test moves a
slider in headless Chromium (marked ``browser``, as tests/test_browser.py).
"""
from __future__ import annotations

import base64
import io
import re
from html.parser import HTMLParser
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pytest

from aligned_latents.book import sliders
from aligned_latents.book.sliders import frames_slider, png_size, procrustes_align


def _png(w=40, h=30, value=0) -> bytes:
    fig = plt.figure(figsize=(w / 10, h / 10), dpi=10)
    fig.patch.set_facecolor((value / 10, 0.2, 0.3))
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=10)
    plt.close(fig)
    return buf.getvalue()


class _Parse(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict]] = []
        self.text: dict[str, str] = {}
        self._open: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.append((tag, a))
        self._open.append(a.get("class", tag))

    def handle_endtag(self, tag):
        if self._open:
            self._open.pop()

    def handle_data(self, data):
        if self._open:
            key = self._open[-1]
            self.text[key] = self.text.get(key, "") + data


def _parse(out: str) -> _Parse:
    p = _Parse()
    p.feed(out)
    return p


def _slider(n=3, **kw):
    frames = [_png(value=i) for i in range(n)]
    values = list(range(n))
    captions = [f"k = {i}: cos = 0.{i}" for i in range(n)]
    return frames_slider(frames, values, captions, **kw), frames, captions


def test_structure():
    out, frames, captions = _slider(4)
    p = _parse(out)
    roots = [a for t, a in p.tags if t == "div" and "al-slider" in a.get("class", "")]
    assert len(roots) == 1 and roots[0]["id"].startswith("al-slider-")
    imgs = [a for t, a in p.tags if t == "img"]
    assert [a["class"] for a in imgs] == ["al-frame"] * 4
    assert [a["data-i"] for a in imgs] == ["0", "1", "2", "3"]
    for a, raw in zip(imgs, frames):
        assert a["src"] == "data:image/png;base64," + base64.b64encode(raw).decode()
        assert (int(a["width"]), int(a["height"])) == png_size(a["src"].split(",", 1)[1])
        assert a["alt"].startswith("k = ")
    shown = [a["data-i"] for a in imgs if "display:block" in a["style"]]
    assert shown == ["0"]
    (rng,) = [a for t, a in p.tags if t == "input"]
    assert rng["type"] == "range" and rng["class"] == "al-range"
    assert (rng["min"], rng["max"], rng["step"], rng["value"]) == ("0", "3", "1", "0")
    assert rng["aria-label"] == "k" and rng["aria-valuetext"] == captions[0]
    assert p.text["al-caption"] == captions[0]
    assert p.text["al-value"] == "0"
    assert out.count("<script>") == 1 and out.count("</script>") == 1
    assert "addEventListener(\"input\"" in out


def test_start_and_title_and_width():
    out, _, captions = _slider(3, start=2, title="Figure 5", width=200)
    p = _parse(out)
    imgs = [a for t, a in p.tags if t == "img"]
    assert [a["data-i"] for a in imgs if "display:block" in a["style"]] == ["2"]
    assert all(a["width"] == "200" and a["height"] == "150" for a in imgs)  # 40 x 30 PNG
    (rng,) = [a for t, a in p.tags if t == "input"]
    assert rng["value"] == "2"
    assert p.text["al-caption"] == captions[2]
    assert "<strong>Figure 5</strong>" in out


def test_accepts_figures_bytes_and_base64():
    fig = plt.figure(figsize=(2, 1))
    b64 = base64.b64encode(_png()).decode()
    out = frames_slider([fig, _png(), b64], ["a", "b", "c"], ["x", "y", "z"], name="t")
    assert not plt.fignum_exists(fig.number), "the figure should be closed"
    assert out.count('class="al-frame"') == 3
    assert png_size(re.search(r"base64,([^\"]+)", out).group(1)) == (200, 100)


def _scatter_figure():
    rng = np.random.default_rng(0)
    fig, ax = plt.subplots(figsize=(4, 4))
    ax.scatter(*rng.standard_normal((2, 500)), s=5, alpha=0.4)
    ax.scatter(*rng.standard_normal((2, 500)) + 1, s=5, alpha=0.4)
    return fig


def test_frames_reduced_to_a_palette():
    full = sliders.figure_png(_scatter_figure(), dpi=80, colors=None)
    pal = sliders.figure_png(_scatter_figure(), dpi=80)
    def colour_type(b64):
        return base64.b64decode(b64[:44])[25]   # the IHDR colour type
    assert colour_type(pal) == 3 and colour_type(full) in (2, 6)   # palette vs RGB(A)
    assert png_size(pal) == png_size(full) == (320, 320)
    assert len(pal) < 0.6 * len(full)
    with pytest.raises(ValueError, match="colors"):
        sliders.figure_png(_scatter_figure(), colors=1)


@pytest.mark.parametrize("figures, values, captions", [
    ([_png(), _png()], [0, 1, 2], ["a", "b", "c"]),
    ([_png()] * 3, [0, 1], ["a", "b", "c"]),
    ([_png()] * 3, [0, 1, 2], ["a", "b"]),
    ([], [], []),
])
def test_refuses_mismatched_lengths(figures, values, captions):
    with pytest.raises(ValueError, match="as many figures, values and captions"):
        frames_slider(figures, values, captions)


def test_refuses_bad_input():
    two = [_png(), _png()]
    with pytest.raises(ValueError, match="distinct"):
        frames_slider(two, [1, 1], ["a", "b"])
    with pytest.raises(ValueError, match="start"):
        frames_slider(two, [1, 2], ["a", "b"], start=3)
    with pytest.raises(ValueError, match="base64"):
        frames_slider(["data:image/png;base64,AAAA", _png()], [1, 2], ["a", "b"])
    with pytest.raises(ValueError, match="PNG"):
        frames_slider([base64.b64encode(b"GIF89a" + b"\0" * 40).decode(), _png()], [1, 2],
                      ["a", "b"])
    with pytest.raises(TypeError, match="frame"):
        frames_slider([np.zeros((2, 2)), _png()], [1, 2], ["a", "b"])
    with pytest.raises(TypeError, match="captions"):
        frames_slider(two, [1, 2], ["a", 2])
    with pytest.raises(ValueError, match="width"):
        frames_slider(two, [1, 2], ["a", "b"], width=0)


def test_no_external_urls():
    out, _, _ = _slider(3, title="t")
    assert not re.search(r"(https?:)?//[\w.-]", out), "the slider must not load anything"
    assert not re.search(r"<(link|iframe|object|embed)\b", out)
    srcs = re.findall(r'\bsrc="([^"]*)"', out)
    assert srcs and all(s.startswith("data:image/png;base64,") for s in srcs)
    assert re.search(r"<script\b[^>]*\bsrc=", out) is None


def test_escapes_captions_and_names():
    evil = '</script><script>alert(1)</script> & <b>"q"</b>'
    out = frames_slider([_png(), _png()], ["<1>", "2"], [evil, "ok"], name="<k>")
    assert out.count("</script>") == 1 and "alert(1)</script>" not in out
    assert "<b>" not in out and "<1>" not in out and "<k>" not in out
    p = _parse(out)
    assert p.text["al-caption"] == evil   # shown as text, not markup
    assert "\\u003c/script\\u003e" in out  # and escaped inside the script's JSON


def test_deterministic_ids():
    a, _, _ = _slider(3)
    b, _, _ = _slider(3)
    c, _, _ = _slider(3, start=1)
    d = frames_slider([_png(), _png()], [0, 1], ["k = 0", "k = 1 (other)"])
    assert a == b
    ids = {re.search(r'id="(al-slider-\w+)"', x).group(1) for x in (a, c, d)}
    assert len(ids) == 2   # the start value changes no id; other captions do


def test_alt_text_not_doubled():
    out = frames_slider([_png(), _png()], [1, 10], ["k = 1: cos 0.9", "cos 0.99"])
    alts = re.findall(r'alt="([^"]*)"', out)
    assert alts == ["k = 1: cos 0.9", "k = 10: cos 0.99"]


# --- Procrustes alignment --------------------------------------------------------------

def _rot(theta):
    return np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]])


def test_procrustes_recovers_rotation_reflection_scale_shift():
    rng = np.random.default_rng(0)
    F0 = rng.standard_normal((20, 2))
    reflect = np.diag([1.0, -1.0])
    F1 = 3.0 * F0 @ _rot(1.1) @ reflect + np.array([5.0, -2.0])
    F2 = 0.5 * F0 @ _rot(-2.0) + 1.0
    out = procrustes_align([F0, F1, F2])
    assert len(out) == 3
    assert np.array_equal(out[0], F0) and out[0] is not F0
    np.testing.assert_allclose(out[1], F0, atol=1e-12)
    np.testing.assert_allclose(out[2], F0, atol=1e-12)


def test_procrustes_chains_to_the_previous_frame():
    rng = np.random.default_rng(1)
    base = rng.standard_normal((30, 2))
    # a picture that drifts slowly, each frame given in a random pose
    true = [base + 0.05 * k * rng.standard_normal((30, 2)) for k in range(6)]
    posed = [2.0 ** k * F @ _rot(rng.uniform(0, 6.3)) @ np.diag([1, (-1) ** k])
             for k, F in enumerate(true)]
    out = procrustes_align(posed)
    for k in range(1, 6):
        jump = np.linalg.norm(out[k] - out[k - 1])
        raw = np.linalg.norm(posed[k] - posed[k - 1])
        assert jump < 0.5 * np.linalg.norm(out[k - 1]), k
        assert jump < raw
    # each output is the input up to a similarity: pairwise-distance ratios are kept
    for F, G in zip(posed, out):
        dF = np.linalg.norm(F[:, None] - F[None], axis=-1)
        dG = np.linalg.norm(G[:, None] - G[None], axis=-1)
        mask = dF > 0
        r = dG[mask] / dF[mask]
        assert np.ptp(r) < 1e-9 * r.mean()


def test_procrustes_without_scale_keeps_size():
    rng = np.random.default_rng(2)
    F0 = rng.standard_normal((10, 2))
    F1 = 4.0 * F0 @ _rot(0.3)
    out = procrustes_align([F0, F1], scale=False)
    c = out[1] - out[1].mean(0)
    c1 = F1 - F1.mean(0)
    assert np.isclose(np.linalg.norm(c), np.linalg.norm(c1))
    np.testing.assert_allclose(out[1], 4.0 * (F0 - F0.mean(0)) + F0.mean(0), atol=1e-12)


def test_procrustes_edge_cases():
    assert procrustes_align([]) == []
    one = procrustes_align([[[0.0, 1.0], [1.0, 0.0]]])
    assert len(one) == 1 and one[0].shape == (2, 2)
    zero = procrustes_align([np.eye(2), np.zeros((2, 2))])
    assert np.all(np.isfinite(zero[1]))
    with pytest.raises(ValueError, match="same points"):
        procrustes_align([np.zeros((3, 2)), np.zeros((4, 2))])
    with pytest.raises(ValueError, match="non-finite"):
        procrustes_align([np.zeros((3, 2)), np.full((3, 2), np.nan)])
    with pytest.raises(ValueError, match=r"\(n, d\)"):
        procrustes_align([np.zeros(3)])


def test_common_limits():
    a = np.array([[0.0, 0.0], [1.0, 2.0]])
    b = np.array([[-1.0, 1.0], [0.5, 3.0]])
    lims = sliders.common_limits([a, b], pad=0.1)
    np.testing.assert_allclose(lims, [(-1.2, 1.2), (-0.3, 3.3)])
    assert sliders.common_limits([np.zeros((2, 2))], pad=0.5) == ((-0.5, 0.5), (-0.5, 0.5))
    with pytest.raises(ValueError):
        sliders.common_limits([])
    with pytest.raises(ValueError):
        sliders.common_limits([np.zeros((2, 2)), np.zeros((2, 3))])


# --- Figure 5's frames -------------------------------------------------------------------

def test_figure5_frame():
    from aligned_latents.book.figures import gaussians as figs
    from aligned_latents.theory import closed_forms as cf
    from aligned_latents.theory import gaussians as g

    mix = g.cor1_mixture(-0.9)
    X, labels = g.sample_mixture(mix.mus, mix.covs, 50, np.random.default_rng(0))
    M = g.second_moment(X, 50)
    q1, q2 = cf.cor1_top_eigenvectors(-0.9)
    fig = figs.figure5_frame(X, labels, g.matrix_power_sym(M, 3, scale=2.25), q1, q2,
                             title="k = 3")
    ax = fig.axes[0]
    assert ax.get_xlim() == (-1.05, 1.05) and ax.get_ylim() == (-1.05, 1.05)
    assert len(ax.lines) == 2 and len(ax.collections) == 2
    pts = np.concatenate([c.get_offsets() for c in ax.collections])
    assert np.isclose(np.abs(pts).max(), 1.0)
    assert ax.get_title() == "k = 3"
    html = frames_slider([fig], [3], ["k = 3"])
    assert html.count('class="al-frame"') == 1
    with pytest.raises(ValueError, match="2 x N"):
        figs.figure5_frame(X.T, labels, np.eye(2), q1, q2)
    with pytest.raises(ValueError, match="2 x 2"):
        figs.figure5_frame(X, labels, np.eye(3), q1, q2)


# --- in a browser --------------------------------------------------------------------------

@pytest.mark.browser
def test_slider_moves_in_chromium():
    chromium = Path("/usr/bin/chromium")
    if not chromium.is_file():
        pytest.fail(f"{chromium} is missing: install Debian's chromium (make browser-deps)")
    from playwright.sync_api import sync_playwright

    out, _, captions = _slider(4)
    state = """() => ({shown: [...document.querySelectorAll('img.al-frame')]
        .filter(f => getComputedStyle(f).display !== 'none').map(f => f.dataset.i),
        caption: document.querySelector('.al-caption').textContent,
        value: document.querySelector('.al-value').textContent,
        aria: document.querySelector('.al-range').getAttribute('aria-valuetext')})"""
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(chromium), headless=True,
                              args=["--no-sandbox", "--disable-gpu"])
        try:
            pg = b.new_page()
            errors, requests = [], []
            pg.on("pageerror", lambda e: errors.append(str(e)))
            pg.on("request", lambda r: requests.append(r.url))
            pg.set_content(f"<html><body>{out}</body></html>")
            assert pg.evaluate(state) == {"shown": ["0"], "caption": captions[0],
                                          "value": "0", "aria": captions[0]}
            pg.evaluate("""() => { const r = document.querySelector('.al-range');
                r.value = 2; r.dispatchEvent(new Event('input', {bubbles: true})); }""")
            assert pg.evaluate(state) == {"shown": ["2"], "caption": captions[2],
                                          "value": "2", "aria": captions[2]}
            pg.focus(".al-range")
            pg.keyboard.press("ArrowRight")
            assert pg.evaluate(state)["shown"] == ["3"]
            pg.keyboard.press("Home")
            assert pg.evaluate(state)["caption"] == captions[0]
            assert not errors
            assert all(u.startswith(("data:", "about:")) for u in requests), requests
        finally:
            b.close()


def test_module_names_the_classes_the_browser_test_uses():
    text = (Path(__file__).parent / "test_browser.py").read_text()
    for cls in (sliders.SLIDER_CLASS, sliders.FRAME_CLASS, sliders.RANGE_CLASS,
                sliders.CAPTION_CLASS):
        assert cls in text
