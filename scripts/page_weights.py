#!/usr/bin/env python3
"""Print the weight of each page of the built book: its HTML plus the local files it loads.

A reader who opens a page downloads the page's HTML (inline ``data:`` images, such as a
slider's frames, are part of it), the figures under ``_images/`` it shows and the scripts
and style sheets it loads. This script sums, for every built page (``*.html`` outside
``_static``/``_sources``/..., without Sphinx's ``genindex``/``search`` and the redirecting
``index.html``), the sizes of those local files, each counted once per page. External
URLs are not counted (the book has none) and are listed; referenced files that do not
exist are listed as missing.

Usage::

    python scripts/page_weights.py [HTML_ROOT] [--limit-mb 5] [--check]

``HTML_ROOT`` defaults to ``$BOOK_HTML`` or ``_build/html``. With ``--check`` the exit
status is 1 if a page weighs more than the limit or references a missing file.
``tests/test_browser.py`` imports :func:`page_weights` from this file.
"""
from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

#: Sphinx's generated pages, not the book's (index.html only redirects to the first page).
SKIP_PAGES = frozenset({"genindex.html", "search.html", "index.html"})
LIMIT_MB = 5.0
MB = 1024 * 1024

_KINDS = ("html", "images", "scripts", "styles", "other")


@dataclass
class PageWeight:
    page: str
    sizes: dict = field(default_factory=lambda: dict.fromkeys(_KINDS, 0))
    files: dict = field(default_factory=dict)   # relative path -> (kind, bytes)
    missing: list = field(default_factory=list)
    external: list = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(self.sizes.values())


class _Refs(HTMLParser):
    """Collects (kind, url) for every resource the page loads by itself."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.refs: list[tuple[str, str]] = []

    def handle_starttag(self, tag, attrs):
        a = {k: (v or "") for k, v in attrs}
        if (tag == "img" or (tag == "source" and "srcset" not in a)) and a.get("src"):
            self.refs.append(("images", a["src"]))
        if tag in ("img", "source") and a.get("srcset"):
            for part in a["srcset"].split(","):
                if part.strip():
                    self.refs.append(("images", part.strip().split()[0]))
        elif tag == "script" and a.get("src"):
            self.refs.append(("scripts", a["src"]))
        elif tag == "link" and a.get("href"):
            rel = a.get("rel", "").lower().split()
            if "stylesheet" in rel:
                self.refs.append(("styles", a["href"]))
            elif "preload" in rel or "modulepreload" in rel:
                kind = {"script": "scripts", "style": "styles", "image": "images"}.get(
                    a.get("as", ""), "other")
                self.refs.append((kind if "modulepreload" not in rel else "scripts",
                                  a["href"]))
            elif "icon" in rel:
                self.refs.append(("images", a["href"]))
        elif tag in ("video", "audio", "embed", "iframe") and a.get("src"):
            self.refs.append(("other", a["src"]))
        elif tag == "object" and a.get("data"):
            self.refs.append(("other", a["data"]))


def book_pages(root: Path) -> list[str]:
    """Every built page of the book (paths relative to ``root``), sorted."""
    root = Path(root)
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*.html")
                  if not p.relative_to(root).parts[0].startswith(("_", "."))
                  and p.name not in SKIP_PAGES)


def page_weight(root: Path, page: str) -> PageWeight:
    """The page's HTML and the local files it references, by kind."""
    root = Path(root).resolve()
    path = root / page
    out = PageWeight(page)
    out.sizes["html"] = path.stat().st_size
    parser = _Refs()
    parser.feed(path.read_text(encoding="utf-8", errors="replace"))
    for kind, url in parser.refs:
        parts = urlsplit(url)
        if parts.scheme == "data":
            continue   # inline: already in the page's bytes
        if parts.scheme or parts.netloc:
            out.external.append(url)
            continue
        if not parts.path:
            continue
        target = (root / unquote(parts.path).lstrip("/") if parts.path.startswith("/")
                  else path.parent / unquote(parts.path)).resolve()
        try:
            rel = target.relative_to(root).as_posix()
        except ValueError:
            out.missing.append(url)   # outside the book
            continue
        if rel in out.files:
            continue
        if not target.is_file():
            out.missing.append(url)
            continue
        size = target.stat().st_size
        out.files[rel] = (kind, size)
        out.sizes[kind] += size
    return out


def page_weights(root: Path) -> list[PageWeight]:
    """:func:`page_weight` of every page of the book."""
    return [page_weight(root, p) for p in book_pages(root)]


def format_table(weights: list[PageWeight], limit_mb: float = LIMIT_MB) -> str:
    """A plain-text table, one row per page (sizes in KiB; total in MiB)."""
    head = (f"{'page':<28} {'html KiB':>9} {'images KiB':>11} {'scripts KiB':>12} "
            f"{'styles KiB':>11} {'other KiB':>10} {'total MiB':>10}  ")
    lines = [head, "-" * len(head)]
    for w in weights:
        s = w.sizes
        flag = "OVER" if w.total > limit_mb * MB else ""
        if w.missing:
            flag = (flag + " missing: " + ", ".join(w.missing)).strip()
        lines.append(f"{w.page:<28} {s['html'] / 1024:>9.0f} {s['images'] / 1024:>11.0f} "
                     f"{s['scripts'] / 1024:>12.0f} {s['styles'] / 1024:>11.0f} "
                     f"{s['other'] / 1024:>10.0f} {w.total / MB:>10.2f}  {flag}")
    lines.append(f"limit: {limit_mb:g} MiB per page")
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("root", nargs="?",
                    default=os.environ.get("BOOK_HTML", "_build/html"),
                    help="the built book's html folder (default: $BOOK_HTML or "
                         "_build/html)")
    ap.add_argument("--limit-mb", type=float, default=LIMIT_MB,
                    help="weight limit per page in MiB (default 5)")
    ap.add_argument("--check", action="store_true",
                    help="exit 1 if a page is over the limit or misses a file")
    args = ap.parse_args(argv)
    root = Path(args.root)
    if not root.is_dir():
        print(f"{root} is not a folder: build the book first (make book)", file=sys.stderr)
        return 2
    weights = page_weights(root)
    print(format_table(weights, args.limit_mb))
    bad = [w.page for w in weights if w.total > args.limit_mb * MB or w.missing]
    return 1 if (args.check and bad) else 0


if __name__ == "__main__":
    sys.exit(main())
