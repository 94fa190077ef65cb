"""Sliders in the static HTML book: precomputed frames, a range input, no kernel, no network.

The paper's one knob is the degree k of the initialization. :func:`frames_slider` turns a
list of matplotlib figures (one per value of k) into a self-contained HTML block: the frames
as inline PNG images, an ``<input type="range">`` and a few lines of inline JavaScript that
show the frame of the chosen value and its caption (e.g. the cosine at that k). Nothing is
fetched from elsewhere, so the page works offline; without JavaScript the first frame and
its caption stay visible.

The range input is a native control: it takes the keyboard focus (Tab) and moves with the
arrow keys, Home/End and Page Up/Down; screen readers hear the caption of each value
(``aria-valuetext``) and the caption paragraph is a polite live region.

:func:`procrustes_align` keeps a sequence of 2-D pictures (MDS maps, one per k) from
jumping between frames: each frame is rotated/reflected and scaled onto the previous one;
:func:`common_limits` gives axis limits that hold every frame. For a slider over MDS
pictures (Figure 3, one per degree k)::

    frames = procrustes_align([mds_k for k in degrees])      # (n, 2) arrays
    xlim, ylim = common_limits(frames)
    figs = [draw(frame, xlim, ylim) for frame in frames]      # set_xlim/set_ylim inside
    HTML(frames_slider(figs, degrees, captions, name="k"))
"""
from __future__ import annotations

import base64
import hashlib
import html
import io
import json
import re
import struct

import numpy as np

#: The block's CSS classes, which the browser test (tests/test_browser.py) relies on.
SLIDER_CLASS, FRAME_CLASS, RANGE_CLASS, CAPTION_CLASS, VALUE_CLASS = (
    "al-slider", "al-frame", "al-range", "al-caption", "al-value")

_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
_B64 = re.compile(r"^[A-Za-z0-9+/]+={0,2}$")


def figure_png(fig, dpi: int = 100, colors: int | None = 128) -> str:
    """A matplotlib figure as a base64 PNG (the figure is closed afterwards, so that a
    notebook does not display it a second time).

    ``colors``: reduce the image to a palette of that many colours (median cut, no
    dithering), which makes a scatter plot's PNG 3 to 4 times smaller with no visible
    change; ``None`` keeps the full RGBA image."""
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    try:
        fig.savefig(buf, format="png", dpi=dpi)
    finally:
        plt.close(fig)
    if colors is not None:
        from PIL import Image

        if isinstance(colors, bool) or not isinstance(colors, int) or not 2 <= colors <= 256:
            raise ValueError(f"colors must be an integer in 2..256 or None, got {colors!r}")
        buf.seek(0)
        with Image.open(buf) as im:
            pal = im.convert("RGB").quantize(colors=colors, method=Image.Quantize.MEDIANCUT,
                                             dither=Image.Dither.NONE)
        buf = io.BytesIO()
        pal.save(buf, format="PNG", optimize=True)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def png_size(png_b64: str) -> tuple[int, int]:
    """``(width, height)`` in pixels of a base64 PNG, read from its IHDR chunk."""
    head = base64.b64decode(png_b64[:44])   # 33 bytes: signature, IHDR length, type, w, h
    if head[:8] != _PNG_MAGIC or head[12:16] != b"IHDR":
        raise ValueError("not a PNG image")
    return struct.unpack(">II", head[16:24])


def _as_png(frame, dpi: int, colors: int | None) -> str:
    """A frame (matplotlib Figure, PNG bytes or base64 PNG string) as base64 PNG."""
    if isinstance(frame, (bytes, bytearray)):
        frame = base64.b64encode(bytes(frame)).decode("ascii")
    elif not isinstance(frame, str):
        if not hasattr(frame, "savefig"):
            raise TypeError(f"a frame must be a matplotlib Figure, PNG bytes or a base64 "
                            f"PNG string, got {type(frame).__name__}")
        return figure_png(frame, dpi, colors)
    if not _B64.match(frame):
        raise ValueError("a string frame must be a base64-encoded PNG (no data: prefix)")
    png_size(frame)   # refuses anything that is not a PNG
    return frame


def _script_json(obj) -> str:
    """JSON safe inside an HTML ``<script>``: no ``</script>``, no HTML comment opener."""
    return (json.dumps(obj, ensure_ascii=False).replace("<", "\\u003c")
            .replace(">", "\\u003e").replace("&", "\\u0026"))


def frames_slider(figures, values, captions, name: str = "k", start=None,
                  title: str = "", dpi: int = 100, width: int | None = None,
                  colors: int | None = 128) -> str:
    """HTML for a slider over precomputed frames.

    Parameters
    ----------
    figures : list of matplotlib Figure, PNG bytes or base64 PNG strings, one per value;
        figures are rendered at ``dpi``, reduced to ``colors`` colours (``None``: full
        colour; see :func:`figure_png`) and closed; PNGs are used as they are
    values : list of the slider's values (shown as ``name = value``; distinct)
    captions : list of str, one per value: what the frame shows (plain text, escaped)
    name : the parameter's name shown beside the slider
    start : the value shown first (default: the first)
    title : an optional bold line above the slider
    width : the frames' display width in CSS pixels (default: the first frame's width in
        pixels; never wider than the page's text column)

    Returns
    -------
    str: a ``<div class="al-slider">`` block with the frames as ``data:`` PNG images (only
    the chosen one displayed), an ``<input type="range" class="al-range">``, the caption
    ``<p class="al-caption">`` and an inline script; display it in a notebook with
    ``IPython.display.HTML``.
    """
    figures, values, captions = list(figures), list(values), list(captions)
    if not (len(figures) == len(values) == len(captions)) or not values:
        raise ValueError(f"need as many figures, values and captions (>= 1), got "
                         f"{len(figures)}, {len(values)}, {len(captions)}")
    labels = [str(v) for v in values]
    if len(set(labels)) != len(labels):
        raise ValueError(f"the slider's values must be distinct, got {labels}")
    if not all(isinstance(c, str) for c in captions):
        raise TypeError("captions must be strings")
    if start is None:
        first = 0
    elif start in values:
        first = values.index(start)
    else:
        raise ValueError(f"start {start!r} is not one of the values {labels}")
    if width is not None and (isinstance(width, bool) or not isinstance(width, int)
                              or width <= 0):
        raise ValueError(f"width must be a positive integer (CSS pixels), got {width!r}")

    pngs = [_as_png(f, dpi, colors) for f in figures]
    w_px, h_px = png_size(pngs[0])
    disp_w = width or w_px
    disp_h = round(h_px * disp_w / w_px)
    digest = hashlib.sha1("\x00".join([name, *labels, *captions, *pngs]).encode()).hexdigest()
    uid = f"al-slider-{digest[:12]}"
    ename = html.escape(name)
    # each frame's alt text is its caption, led by "name = value" unless it says so
    alts = [c if re.match(re.escape(f"{name} = {v}") + r"(?![\w.])", c)
            else f"{name} = {v}: {c}" for v, c in zip(labels, captions)]
    imgs = "\n".join(
        f'<img class="{FRAME_CLASS}" data-i="{i}" alt="{html.escape(a)}" '
        f'width="{disp_w}" height="{disp_h}" '
        f'style="max-width:100%;height:auto;display:{"block" if i == first else "none"}" '
        f'src="data:image/png;base64,{p}">'
        for i, (a, p) in enumerate(zip(alts, pngs)))
    head = (f'<p class="al-title"><strong>{html.escape(title)}</strong></p>\n'
            if title else "")
    return f"""<div class="{SLIDER_CLASS}" id="{uid}" style="max-width:{disp_w}px">
{head}<label style="display:block">{ename} = <output class="{VALUE_CLASS}" \
for="{uid}-range">{html.escape(labels[first])}</output>
<input class="{RANGE_CLASS}" id="{uid}-range" type="range" min="0" \
max="{len(values) - 1}" step="1" value="{first}" \
aria-label="{ename}" aria-valuetext="{html.escape(captions[first])}" \
style="width:60%;vertical-align:middle">
</label>
<p class="{CAPTION_CLASS}" aria-live="polite">{html.escape(captions[first])}</p>
{imgs}
<script>
(function () {{
  var root = document.getElementById("{uid}");
  if (!root) {{ return; }}
  var values = {_script_json(labels)};
  var captions = {_script_json(captions)};
  var range = root.querySelector(".{RANGE_CLASS}");
  var frames = root.querySelectorAll(".{FRAME_CLASS}");
  function show(i) {{
    i = Math.max(0, Math.min(values.length - 1, parseInt(i, 10) || 0));
    for (var j = 0; j < frames.length; j++) {{
      frames[j].style.display = (j === i) ? "block" : "none";
    }}
    root.querySelector(".{VALUE_CLASS}").textContent = values[i];
    root.querySelector(".{CAPTION_CLASS}").textContent = captions[i];
    range.setAttribute("aria-valuetext", captions[i]);
  }}
  range.addEventListener("input", function () {{ show(range.value); }});
  range.addEventListener("change", function () {{ show(range.value); }});
  show(range.value);
}})();
</script>
</div>"""


def procrustes_align(frames, scale: bool = True) -> list[np.ndarray]:
    """Align each 2-D picture to the one before it, so that a slider does not jump.

    MDS (and any embedding defined up to an isometry) gives each frame in its own
    rotation, reflection and scale. Frame ``i`` is replaced by ``s (F_i - m_i) R + m'``,
    where ``R`` (orthogonal: a rotation or a reflection), ``s > 0`` (if ``scale``) minimise
    the squared distance to the already aligned frame ``i - 1``, ``m_i`` is the frame's
    centroid and ``m'`` that of the aligned frame ``i - 1`` (orthogonal Procrustes). The
    first frame is returned unchanged (a copy). Rows are the same points in every frame.

    Parameters
    ----------
    frames : sequence of arrays of shape ``(n, d)`` (``d = 2`` for the book's MDS pictures),
        all of the same shape, finite
    scale : also fit the scale ``s`` (default); ``False`` keeps each frame's size

    Returns
    -------
    list of arrays ``(n, d)``, one per frame
    """
    arrays = [np.array(f, dtype=float) for f in frames]
    if not arrays:
        return []
    shape = arrays[0].shape
    if len(shape) != 2 or shape[0] < 1 or shape[1] < 1:
        raise ValueError(f"each frame must be an (n, d) array, got shape {shape}")
    for i, a in enumerate(arrays):
        if a.shape != shape:
            raise ValueError(f"frame {i} has shape {a.shape}, frame 0 has {shape}: every "
                             "frame must hold the same points")
        if not np.all(np.isfinite(a)):
            raise ValueError(f"frame {i} has non-finite entries")
    out = [arrays[0].copy()]
    for a in arrays[1:]:
        ref = out[-1]
        ref_c, a_c = ref.mean(axis=0), a.mean(axis=0)
        A, P = a - a_c, ref - ref_c
        U, S, Vt = np.linalg.svd(A.T @ P)
        R = U @ Vt
        norm2 = float(np.sum(A * A))
        s = float(S.sum()) / norm2 if (scale and norm2 > 0 and S.sum() > 0) else 1.0
        out.append(s * A @ R + ref_c)
    return out


def common_limits(frames, pad: float = 0.05) -> tuple[tuple[float, float], ...]:
    """Axis limits that hold every frame (after :func:`procrustes_align`), padded by
    ``pad`` times the range on each side: give them to every frame's axes
    (``ax.set_xlim(*lims[0]); ax.set_ylim(*lims[1])``) so that the axes do not move
    between frames. Returns one ``(low, high)`` pair per column."""
    arrays = [np.asarray(f, dtype=float) for f in frames]
    if not arrays or any(a.ndim != 2 or a.size == 0 for a in arrays):
        raise ValueError("need at least one non-empty (n, d) frame")
    if len({a.shape[1] for a in arrays}) != 1:
        raise ValueError("every frame must have the same number of columns")
    allpts = np.concatenate(arrays)
    if not np.all(np.isfinite(allpts)):
        raise ValueError("frames have non-finite entries")
    lo, hi = allpts.min(axis=0), allpts.max(axis=0)
    span = np.where(hi > lo, hi - lo, 1.0)
    return tuple((float(a - pad * s), float(b + pad * s)) for a, b, s in zip(lo, hi, span))
