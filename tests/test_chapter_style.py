"""The chapters as a reader sees their source: code lines fit the page, each chapter
checks its parameters right after its parameters cell (direct papermill runs too), the
computations are on the page (visible or one click away: ``hide-input``; only imports,
glue and file writes are removed) and each figure has its caption in the cell's metadata
(numbered, referenceable)."""
from __future__ import annotations

import re

import pytest

from aligned_latents.util.chapters import CHAPTERS
from aligned_latents.util.paths import book_dir

CELL = re.compile(r"```\{code-cell\}[^\n]*\n(.*?)```", re.S)
META = re.compile(r"\A---\n(.*?)\n---\n", re.S)
PAGES = sorted(p.name for p in book_dir().glob("*.md"))
#: What may be removed from a chapter's page: its imports and setup (a cell that starts
#: with an import), and cells of glue only (glue, verdict boxes, file writes, the claims'
#: summary), judged on their top-level lines.
GLUE = re.compile(r"(import |from |glue\(|display\(|show_verdict\(|claims\.write\(\)|"
                  r"claims\.show\(\)|style\.use\(\)|[\w\[\]\"'.]+\.to_csv\(|#|\)|\]|\})")


def code_of(cell: str) -> str:
    """A cell's code, without its options (``:tags:`` lines or a YAML block)."""
    cell = META.sub("", cell, count=1)
    return "\n".join(line for line in cell.splitlines() if not line.startswith(":"))


@pytest.mark.parametrize("page", PAGES)
def test_code_lines_fit_the_page(page):
    text = (book_dir() / page).read_text(encoding="utf-8")
    long = [(i, line) for cell in CELL.findall(text)
            for i, line in enumerate(code_of(cell).splitlines()) if len(line) > 88]
    assert not long, f"{page}: code lines over 88 characters: {long[:3]}"


@pytest.mark.parametrize("chapter", sorted(CHAPTERS))
def test_parameters_checked_first(chapter):
    cells = CELL.findall((book_dir() / f"{chapter}.md").read_text(encoding="utf-8"))
    at = [i for i, c in enumerate(cells)
          if re.match(r":tags: \[parameters(, hide-input)?\]\n", c)]
    assert len(at) == 1, f"{chapter}: one parameters cell expected"
    nxt = cells[at[0] + 1]
    assert f'check_notebook_parameters("{chapter}", globals())' in nxt, (
        f"{chapter}: the cell after the parameters cell must call "
        f'check_notebook_parameters("{chapter}", globals())')


@pytest.mark.parametrize("page", PAGES)
def test_markdown_outputs_render_as_myst(page):
    """Pages that display Markdown outputs (the parameter tables, the verdict lines with
    their link to the opening page's ``verdicts`` label) render them as MyST: myst-nb's
    default, CommonMark, shows a pipe table as raw text and cannot resolve the label."""
    text = (book_dir() / page).read_text(encoding="utf-8")
    if "display(Markdown(" not in text and "show_verdict(" not in text:
        return
    front = re.match(r"\A---\n(.*?)\n---\n", text, re.S)
    assert front and re.search(r"^mystnb:\n(?:  .*\n)*?  render_markdown_format: myst$",
                               front.group(1) + "\n", re.M), (
        f"{page}: set mystnb: render_markdown_format: myst in its front matter")


def test_table_of_contents_lists_the_chapters_in_order():
    """``book/_toc.yml`` and :data:`aligned_latents.util.chapters.CHAPTERS` (the one list
    of chapters the code uses) name the same chapters in the same order."""
    toc = (book_dir() / "_toc.yml").read_text(encoding="utf-8")
    files = re.findall(r"^\s*-\s*file:\s*(\S+)", toc, re.M)
    assert [f for f in files if f in CHAPTERS] == list(CHAPTERS)
    assert set(CHAPTERS) <= set(files)


def _removed_but_not_glue(cell: str) -> bool:
    tags = re.search(r"tags: \[([^\]]*)\]", cell)
    if not tags or "remove-input" not in tags.group(1):
        return False
    lines = [line for line in code_of(cell).splitlines() if line.strip()]
    if lines and lines[0].startswith("import "):
        return False
    return not all(GLUE.match(line) for line in lines if not line[0].isspace())


@pytest.mark.parametrize("chapter", sorted(CHAPTERS))
def test_computations_are_on_the_page(chapter):
    cells = CELL.findall((book_dir() / f"{chapter}.md").read_text(encoding="utf-8"))
    hidden = [code_of(c).strip().splitlines()[0] for c in cells if _removed_but_not_glue(c)]
    assert not hidden, (f"{chapter}: computations removed from the page (use hide-input): "
                        f"{hidden[:3]}")


def test_removed_glue_is_recognized():
    assert not _removed_but_not_glue(':tags: [remove-input]\nglue("a", 1)\n'
                                     'x.to_csv(out / "x.csv")\n')
    assert _removed_but_not_glue(':tags: [remove-input]\nglue("a", 1)\ny = f(x)\n')
    assert not _removed_but_not_glue(':tags: [hide-input]\ny = f(x)\n')


@pytest.mark.parametrize("page", PAGES)
def test_figures_have_captions_in_metadata(page):
    """A cell that draws one of the book's figures (``figures_<chapter>.<name>(...)``)
    carries ``mystnb: figure: caption/name``, so the figure is numbered and can be
    referenced (sliders, which show HTML, and conditional figures are exempt)."""
    text = (book_dir() / page).read_text(encoding="utf-8")
    bare = [code_of(c).strip().splitlines()[-1] for c in CELL.findall(text)
            if re.search(r"^fig = figures_\w+\.\w+\(", code_of(c), re.M)
            and not re.search(r"mystnb:\n  figure:\n    name: fig-[\w-]+\n    caption: ",
                              c)]
    assert not bare, f"{page}: figure cells without a caption in their metadata: {bare}"
