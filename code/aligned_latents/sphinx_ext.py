"""Sphinx glue for the book (listed in ``_config.yml`` under ``sphinx.extra_extensions``).

* The ledger pages (the opening page and the errata page) read every chapter's
  ``results/<chapter>/claims.csv``. Sphinx reads (and myst-nb executes) documents in sorted
  name order, and re-reads only changed ones; so this extension (1) moves the ledger pages to
  the end of the reading order and (2) marks them outdated on every build. Together with
  ``execution_mode: force`` in their front matter this means they always show the results
  of the chapters as executed (or restored from the cache) in the same build.
* MathJax is served from the installed ``django-static-mathjax`` wheel (MathJax 3.2.2), so
  the book's math renders offline and the browser test needs no network.
"""
from __future__ import annotations

import shutil
from pathlib import Path

LEDGER_PAGES = ("intro", "errata")


def _outdated(app, env, added, changed, removed):
    return [d for d in LEDGER_PAGES if d in env.found_docs and d not in added | changed]


def _reorder(app, env, docnames):
    for d in LEDGER_PAGES:
        if d in docnames:
            docnames.remove(d)
            docnames.append(d)


def _mathjax_source() -> Path | None:
    try:
        import mathjax  # the django-static-mathjax wheel's package
    except ImportError:
        return None
    src = Path(mathjax.__file__).parent / "static" / "mathjax" / "es5"
    return src if (src / "tex-chtml.js").is_file() else None


def _config_inited(app, config):
    if _mathjax_source() is not None:
        config.mathjax_path = "mathjax/tex-chtml.js"


def _copy_mathjax(app, exception):
    src = _mathjax_source()
    if exception is None and src is not None and app.builder.format == "html":
        shutil.copytree(src, Path(app.outdir) / "_static" / "mathjax", dirs_exist_ok=True)


def setup(app):
    app.connect("config-inited", _config_inited)
    app.connect("env-get-outdated", _outdated)
    app.connect("env-before-read-docs", _reorder)
    app.connect("build-finished", _copy_mathjax)
    return {"parallel_read_safe": False, "parallel_write_safe": True, "env_version": 1}
