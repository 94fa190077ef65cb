"""Registry of the book's chapters and their papermill parameters.

A chapter's short name is the name of its MyST notebook under ``book/`` and of its
results folder ``results/<name>/``. Its parameters are the assignments in the one code
cell tagged ``parameters``; each is written ``name = literal  # one-line meaning``. What
values each parameter accepts (type and range) is declared beside this registry, in
:data:`aligned_latents.runs.params.PARAMS` (``tests/test_params.py`` keeps the two in step).
"""
from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

from aligned_latents.util.paths import book_dir


@dataclass(frozen=True)
class Chapter:
    """One chapter: its short name, title and where in the paper it is."""

    name: str
    title: str
    paper: str  # where in the paper
    #: About how many seconds a default execution takes on a 2-core CPU (a clean clone,
    #: measured): only orders the chapters a book build executes side by side, longest
    #: first (:mod:`aligned_latents.book.side_by_side`).
    cost: float = 10.0

    @property
    def path(self) -> Path:
        """The chapter's MyST notebook, ``book/<name>.md``."""
        return book_dir() / f"{self.name}.md"


CHAPTERS: dict[str, Chapter] = {c.name: c for c in [
    Chapter("stretching", "Producing alignment through stretching",
            "Section 3, Appendix A", cost=4),
    Chapter("gaussians", "Stretching along left singular vectors",
            "Section 4, Appendices B-D", cost=9),
    Chapter("autoencoders", "Alignment with over-parameterized autoencoders",
            "Section 5, Appendices E-G", cost=26),
    Chapter("glove", "Aligning GloVe word embeddings",
            "Sections 6.1-6.2, Appendices H-I", cost=157),
    Chapter("cmap", "Aligning drug signatures across cell types",
            "Section 6.3, Appendix H", cost=25),
]}


#: Every page that writes ``results/<name>/claims.csv``: the chapters, in reading order,
#: then the opening page (``intro``), which checks Figure 1 from the chapters' results.
RESULT_PAGES: tuple[str, ...] = (*CHAPTERS, "intro")


def get_chapter(name: str) -> Chapter:
    """The chapter called ``name`` (``ValueError`` listing the chapters otherwise)."""
    if name not in CHAPTERS:
        raise ValueError(f"unknown chapter {name!r}; chapters are: "
                         f"{', '.join(CHAPTERS)}")
    return CHAPTERS[name]


@dataclass(frozen=True)
class Parameter:
    """A parameter as its chapter's parameters cell defines it."""

    name: str
    default: object
    meaning: str


_CELL = re.compile(r"```\{code-cell\}[^\n]*\n"
                   r":tags: \[[^\]]*parameters[^\]]*\]\n(.*?)```", re.S)


def parameters(name: str) -> dict[str, Parameter]:
    """The chapter's parameters (name -> default and meaning), read from its parameters
    cell."""
    text = get_chapter(name).path.read_text(encoding="utf-8")
    cells = _CELL.findall(text)
    if len(cells) != 1:
        raise ValueError(f"chapter {name!r} must have exactly one cell tagged "
                         f"'parameters', found {len(cells)}")
    out: dict[str, Parameter] = {}
    for line in cells[0].splitlines():
        code, _, comment = line.partition("#")
        if "=" not in code:
            continue
        key, _, value = code.partition("=")
        key = key.strip()
        if not key.isidentifier():
            continue
        try:
            default = ast.literal_eval(value.strip())
        except (ValueError, SyntaxError):
            raise ValueError(f"parameter {key!r} of chapter {name!r} must be a literal "
                             "(number, string, list, bool or None), got "
                             f"{value.strip()!r}") from None
        out[key] = Parameter(key, default, comment.strip())
    return out
