"""The chapters as a reader sees their source: code lines fit the page, and each chapter
checks its parameters right after its parameters cell (direct papermill runs too)."""
from __future__ import annotations

import re

import pytest

from aligned_latents.util.chapters import CHAPTERS
from aligned_latents.util.paths import book_dir

CELL = re.compile(r"```\{code-cell\}[^\n]*\n(.*?)```", re.S)
PAGES = sorted(p.name for p in book_dir().glob("*.md"))


@pytest.mark.parametrize("page", PAGES)
def test_code_lines_fit_the_page(page):
    text = (book_dir() / page).read_text(encoding="utf-8")
    long = [(i, line) for cell in CELL.findall(text)
            for i, line in enumerate(cell.splitlines()) if len(line) > 88]
    assert not long, f"{page}: code lines over 88 characters: {long[:3]}"


@pytest.mark.parametrize("chapter", sorted(CHAPTERS))
def test_parameters_checked_first(chapter):
    cells = CELL.findall((book_dir() / f"{chapter}.md").read_text(encoding="utf-8"))
    at = [i for i, c in enumerate(cells) if c.startswith(":tags: [parameters]")]
    assert len(at) == 1, f"{chapter}: one parameters cell expected"
    nxt = cells[at[0] + 1]
    assert f'check_notebook_parameters("{chapter}", globals())' in nxt, (
        f"{chapter}: the cell after the parameters cell must call "
        f'check_notebook_parameters("{chapter}", globals())')


def test_table_of_contents_lists_the_chapters_in_order():
    """``book/_toc.yml`` and :data:`aligned_latents.util.chapters.CHAPTERS` (the one list
    of chapters the code uses) name the same chapters in the same order."""
    toc = (book_dir() / "_toc.yml").read_text(encoding="utf-8")
    files = re.findall(r"^\s*-\s*file:\s*(\S+)", toc, re.M)
    assert [f for f in files if f in CHAPTERS] == list(CHAPTERS)
    assert set(CHAPTERS) <= set(files)
