"""Sphinx glue for the book (listed in ``_config.yml`` under ``sphinx.extra_extensions``).

* The ledger pages (the opening page and the errata page) read every chapter's
  ``results/<chapter>/claims.csv``. Sphinx reads (and myst-nb executes) documents in sorted
  name order, and re-reads only changed ones; so this extension (1) moves the ledger pages to
  the end of the reading order and (2) marks them outdated on every build. Together with
  ``execution_mode: force`` in their front matter this means they always show the results
  of the chapters as executed (or restored from the cache) in the same build.
* The reruns page lists every chapter's parameters, read from the chapters' sources at build
  time, so it is treated the same way (read last, re-read on every build).
* The repository, issues and Binder launch buttons follow the one ``repository.url`` setting
  of ``_config.yml`` (``html_theme_options['repository_url']``): when it is empty they are off
  (no invented address); when it is set they are switched on, and Binder (mybinder.org, which
  builds the environment from ``environment.yml``) unless a BinderHub is configured already.
* Two console errors of the theme stack are removed, so that the browser test can demand a
  clean console: sphinx-thebe 0.3.1 registers its inline configuration script twice under
  Sphinx 7.4 (``Identifier 'THEBE_JS_URL' has already been declared``), so duplicate scripts are
  dropped from each page; and pydata-sphinx-theme logs ``Got invalid theme mode: .`` when no
  ``default_mode`` is set, so it is set to ``auto`` (the reader's system setting).
* MathJax is served from the installed ``django-static-mathjax`` wheel (MathJax 3.2.2), so
  the book's math renders offline and the browser test needs no network.
"""
from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

LEDGER_PAGES = ("intro", "errata", "reruns")

#: BinderHub used for the launch button when ``repository.url`` is set and none is configured.
DEFAULT_BINDERHUB = "https://mybinder.org"


def package_digest(root: Path | None = None) -> str:
    """sha256 of the package's source files (``code/aligned_latents/**/*.py``).

    The execution cache keys a chapter on its notebook's code alone, so a change to the
    package (a fixed closed form, a faster search) would otherwise leave every chapter's cached
    outputs in place. :func:`_invalidate_on_package_change` compares this digest with the one
    stored beside the cache and re-executes everything when they differ.
    """
    root = Path(__file__).parents[1] if root is None else Path(root)
    h = hashlib.sha256()
    for f in sorted(root.rglob("*.py")):
        h.update(f.relative_to(root).as_posix().encode())
        h.update(f.read_bytes())
    return h.hexdigest()


def invalidate_cache_if_package_changed(cache_dir: Path, digest: str) -> bool:
    """Delete ``cache_dir`` (jupyter-cache) when the package digest stored in it differs from
    ``digest``; record ``digest``. Returns True when the cache was cleared."""
    cache_dir = Path(cache_dir)
    stamp = cache_dir / "aligned_latents.sha256"
    previous = stamp.read_text().strip() if stamp.is_file() else None
    cleared = previous != digest and cache_dir.exists()
    if cleared:
        shutil.rmtree(cache_dir)
    cache_dir.mkdir(parents=True, exist_ok=True)
    stamp.write_text(digest + "\n")
    return cleared


def _invalidate_on_package_change(app):
    cache = app.config.nb_execution_cache_path or Path(app.outdir).parent / ".jupyter_cache"
    app.env.aligned_latents_rerun_all = invalidate_cache_if_package_changed(
        Path(cache), package_digest())


def _outdated(app, env, added, changed, removed):
    if getattr(env, "aligned_latents_rerun_all", False):  # the package changed: re-read all
        return [d for d in env.found_docs if d not in added | changed]
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


def repository_buttons(theme_options: dict, repository_url: str | None = None) -> dict:
    """Theme options with the repository/issues/launch buttons driven by the repository URL.

    ``repository_url`` (else ``theme_options['repository_url']``) empty or missing: the
    repository and issues buttons are off and no BinderHub is set (the launch button
    disappears). Non-empty: both buttons on, and ``launch_buttons.binderhub_url`` set to
    :data:`DEFAULT_BINDERHUB` unless one was configured. Returns a new dict.
    """
    opts = dict(theme_options or {})
    url = (repository_url if repository_url is not None else opts.get("repository_url")) or ""
    url = str(url).strip().rstrip("/")
    launch = dict(opts.get("launch_buttons") or {})
    if url:
        if not url.startswith(("https://", "http://")):
            raise ValueError(f"repository.url must be an http(s) address, got {url!r}")
        opts["repository_url"] = url
        opts["use_repository_button"] = True
        opts["use_issues_button"] = True
        launch["binderhub_url"] = launch.get("binderhub_url") or DEFAULT_BINDERHUB
    else:
        opts["repository_url"] = ""
        opts["use_repository_button"] = False
        opts["use_issues_button"] = False
        opts["use_edit_page_button"] = False
        launch["binderhub_url"] = ""
    opts["launch_buttons"] = launch
    return opts


def _config_inited(app, config):
    if _mathjax_source() is not None:
        config.mathjax_path = "mathjax/tex-chtml.js"
    config.html_theme_options = repository_buttons(config.html_theme_options)
    config.html_context = dict(config.html_context or {})
    config.html_context.setdefault("default_mode", "auto")


def _script_key(script):
    attrs = getattr(script, "attributes", {}) or {}
    # sphinx-thebe's inline script is registered once with filename None and once with ''
    return (str(getattr(script, "filename", script) or ""),
            tuple(sorted((k, str(v)) for k, v in attrs.items())))


def _dedupe_scripts(app, pagename, templatename, context, doctree):
    scripts = context.get("script_files")
    if not scripts:
        return
    seen, unique = set(), []
    for s in scripts:
        key = _script_key(s)
        if key not in seen:
            seen.add(key)
            unique.append(s)
    context["script_files"] = unique


def _copy_mathjax(app, exception):
    src = _mathjax_source()
    if exception is None and src is not None and app.builder.format == "html":
        shutil.copytree(src, Path(app.outdir) / "_static" / "mathjax", dirs_exist_ok=True)


def setup(app):
    app.connect("config-inited", _config_inited)
    app.connect("builder-inited", _invalidate_on_package_change)
    app.connect("env-get-outdated", _outdated)
    app.connect("env-before-read-docs", _reorder)
    app.connect("build-finished", _copy_mathjax)
    app.connect("html-page-context", _dedupe_scripts)
    return {"parallel_read_safe": False, "parallel_write_safe": True, "env_version": 1}
