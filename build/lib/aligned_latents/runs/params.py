"""The parameter schema of every chapter: each parameter's type and valid range.

A chapter's parameters are read from its ``parameters`` cell
(:func:`aligned_latents.util.chapters.parameters`: name, default, meaning); this module says
what values each one accepts, in one place, so that a wrong value is refused *before*
anything runs, with one line naming the chapter and the parameter:

* by the command line (``aligned-latents rerun``, every value of a ``--sweep`` first),
* by :func:`aligned_latents.runs.rerun.execute_chapter`,
* by the chapter itself, for a direct papermill run: a hidden cell right after its
  parameters cell calls :func:`check_notebook_parameters`.

``PARAMS[chapter][name]`` is a :class:`Spec`. Kinds: ``int``, ``float``, ``bool``,
``str``, ``path`` (an existing file, resolved to an absolute path against the caller's
working directory), lists of those (``list[int]``, ``list[list[float]]``, ...) and
unions (``path|list[str]``). ``tests/test_params.py`` checks that the names here are the
names of every chapter's parameters cell, and that every default passes.

Why one module of ~550 lines: the schema is one table (one entry per parameter of every
chapter, about a third of the file) with the parser and checker of its kinds and the
cross-parameter checks; kept together so that a parameter's rule is found in one place.
"""
from __future__ import annotations

import math
import numbers
import os
from dataclasses import dataclass
from pathlib import Path

from aligned_latents.util.chapters import get_chapter, parameters
from aligned_latents.util.paper import C_MIN
from aligned_latents.util.paths import note_parameters
from aligned_latents.util.validation import check_int

_SCALARS = ("int", "float", "bool", "str", "path")


@dataclass(frozen=True)
class Spec:
    """What one parameter accepts.

    ``kind``: ``int``, ``float``, ``bool``, ``str``, ``path``, ``list[KIND]`` (nested
    lists allowed) or alternatives joined by ``|`` (chosen by the value: a string takes
    the ``path``/``str`` alternative, a list the list one). ``minimum``/``maximum``
    bound every number (in a list: every element), exclusive with
    ``open_min``/``open_max``. ``optional``: ``None`` is accepted. For lists:
    ``nonempty``, ``min_items``, ``unique`` (no value twice; ``1`` and ``1.0`` are the
    same value), ``width`` (the length of every inner list of a nested list).
    ``choices``: the only strings accepted (``str``). ``names``: strings a ``path``
    parameter also accepts as they are (a named data set). ``reported``: the name under
    which the chapter glues the value it actually used (a rerun records it in
    ``run.json``'s ``parameters.used``: ``vocab_size`` asks for at most so many words, a
    shorter file gives fewer).
    """

    kind: str
    minimum: float | None = None
    maximum: float | None = None
    open_min: bool = False
    open_max: bool = False
    optional: bool = False
    nonempty: bool = False
    min_items: int = 0
    unique: bool = False
    width: int | None = None
    choices: tuple = ()
    names: tuple = ()
    reported: str = ""

    def __post_init__(self):
        for alt in self.kind.split("|"):
            base = alt
            while base.startswith("list[") and base.endswith("]"):
                base = base[5:-1]
            if base not in _SCALARS:
                raise ValueError(f"unknown parameter kind {self.kind!r}; kinds are "
                                 f"{', '.join(_SCALARS)}, list[...] of them, and A|B")

    def describe(self) -> str:
        """One line: the type and range (``list[int] >= 0, non-empty, no repeats``)."""
        text = self.kind.replace("path", "file path")
        rng = _range_text(self)
        if rng:
            text += " " + rng
        for name in self.names:
            text += f" or {name!r}"
        extra = []
        if self.choices:
            extra.append("one of " + ", ".join(repr(c) for c in self.choices))
        if self.width is not None:
            extra.append(f"inner lists of {self.width}")
        least = max(self.min_items, 1 if self.nonempty else 0)
        if least == 1:
            extra.append("non-empty")
        elif least > 1:
            extra.append(f"at least {least} items")
        if self.unique:
            extra.append("no repeats")
        text += "".join(", " + e for e in extra)
        return text + (", or None" if extra and self.optional else
                       " or None" if self.optional else "")


def _range_text(spec: Spec) -> str:
    lo, hi = spec.minimum, spec.maximum
    if lo is not None and hi is not None:
        return (f"in {'(' if spec.open_min else '['}{lo:g}, {hi:g}"
                f"{')' if spec.open_max else ']'}")
    if lo is not None:
        return f"{'>' if spec.open_min else '>='} {lo:g}"
    if hi is not None:
        return f"{'<' if spec.open_max else '<='} {hi:g}"
    return ""


def _int(minimum=0, **kw) -> Spec:
    return Spec("int", minimum=minimum, **kw)


def _ints(minimum=0, **kw) -> Spec:
    return Spec("list[int]", minimum=minimum, nonempty=True, unique=True, **kw)


def _pos(**kw) -> Spec:
    return Spec("float", minimum=0.0, open_min=True, **kw)


_SEED = _int(0)
_FRACTION = Spec("float", minimum=0.0, maximum=1.0)
_STEP = Spec("float", minimum=0.0, maximum=1.0, open_min=True, open_max=True)
_PATH = Spec("path", optional=True)

#: The schema: chapter -> parameter -> :class:`Spec`.
PARAMS: dict[str, dict[str, Spec]] = {
    "stretching": {
        "seed": _SEED,
        "n_seeds": _int(1),
        "n_draws": _int(1),
        "shapes": Spec("list[list[int]]", minimum=1, width=2, nonempty=True,
                       unique=True),
        "fig2_c": Spec("float", minimum=C_MIN),
        "fig2_stretch": _pos(),
        "fig2_samples": _int(1),
    },
    "gaussians": {
        "seed": _SEED,
        "n_seeds": _int(1),
        "power_samples": _int(2),
        "power_steps": _ints(0),
        "partial_steps": _int(0),
        "n_pairs": _int(1),
        "lemma2_means": Spec("list[list[float]]", nonempty=True),
        "lemma2_c": _pos(),
        "lemma2_n": _ints(1, min_items=2),
        "lemma2_reps": _int(1),
        "cor1_c_grid": Spec("list[float]", minimum=C_MIN, nonempty=True, unique=True),
        "cor1_ab_grid": Spec("list[list[float]]", width=2, nonempty=True, unique=True),
        "cor2_c": Spec("list[float]", minimum=C_MIN, nonempty=True, unique=True),
        "cor2_degrees": _ints(1),
        "cor2_n": _int(1),
        "fig5_c": Spec("float", minimum=C_MIN),
        "fig5_k": _int(1),
        "fig5_scale": _pos(),
        "fig5_points": _int(1),
    },
    "autoencoders": {
        "seed": _SEED,
        "n_seeds": _int(1),
        "n_linear": _int(2),
        "d_linear": _int(1),
        "spectrum": Spec("list[float]", minimum=0.0, open_min=True, nonempty=True,
                         unique=True),
        "k_asym": _int(0),
        "gd_step_fraction": _STEP,
        "step_study": Spec("list[float]", minimum=0.0, maximum=1.0, open_min=True,
                           open_max=True, nonempty=True, unique=True),
        "n_mixture": _int(2),
        "c_mixture": _pos(),
        "degrees": _ints(0),
        "relu_d": _int(1),
        "relu_norm": _pos(),
        "relu_lr": _pos(),
        "relu_max_steps": _int(1),
        "relu_tol": _pos(),
        "relu_record_every": _int(1),
    },
    "glove": {
        "embeddings": Spec("path", optional=True, names=("glove.6B.50d",)),
        "vocab_size": _int(1, optional=True, reported="n_words"),
        "degrees": _ints(0),
        "sweep_degrees": _ints(0),
        "train_leaky_relu": Spec("bool"),
        "leaky_hidden": _int(1),
        "leaky_max_epochs": _int(1),
        "leaky_seeds": _ints(0),
        "leaky_workers": _int(1, optional=True),
        "mds_seeds": _ints(0),
        "gd_words": _int(2),
        "gd_steps": _int(1),
        "seed": _SEED,
    },
    "cmap": {
        "gctx_path": _PATH,
        "inst_info_path": _PATH,
        "pert_info_path": _PATH,
        "cell_info_path": _PATH,
        "gene_info_path": _PATH,
        "drug_list": Spec("path|list[str]", optional=True, nonempty=True, unique=True),
        "cell_a": Spec("str"),
        "cell_b": Spec("str"),
        "train_cell_types": Spec("list[str]", optional=True, nonempty=True,
                                 unique=True),
        "degrees": _ints(0),
        "relu_hidden": _int(1),
        "relu_lr": _pos(),
        "relu_batch_size": _int(1),
        "relu_max_epochs": _int(1),
        "relu_tol": Spec("float", minimum=0.0),
        "cmap_seeds": _ints(0),
        "seed": _SEED,
        "sim_n_genes": _int(20),
        "sim_cell_types": Spec("list[str]", min_items=2, unique=True),
        "sim_n_drugs": _int(1),
        "sim_replicates": _int(1),
        "sim_n_controls": _int(4),
        "sim_p_present": Spec("float", minimum=0.0, maximum=1.0, open_min=True),
        "sim_shared_scale": Spec("float", minimum=0.0),
        "sim_shared_on_top": _FRACTION,
        "sim_specific_scale": Spec("float", minimum=0.0),
        "sim_noise_sd": Spec("float", minimum=0.0),
        "sim_outlier_fraction": _FRACTION,
        "sweep_shared_on_top": Spec("list[float]", minimum=0.0, maximum=1.0,
                                    nonempty=True, unique=True),
        "run_fluvaccine": Spec("bool"),
    },
}


# -- checks that involve several parameters (run on the defaults overlaid with the value
def _autoencoders(v: dict):
    if len(v["spectrum"]) > v["d_linear"]:
        yield ("spectrum", f"has {len(v['spectrum'])} eigenvalues, more than "
                           f"d_linear = {v['d_linear']} (the data's rank is at most "
                           "its dimension)")


def _gaussians(v: dict):
    widths = {len(row) for row in v["lemma2_means"]}
    if len(widths) > 1 or 0 in widths:
        yield ("lemma2_means", "must be rows of one same non-zero length (one mean "
                               f"per row), got row lengths {sorted(widths)}")
    elif not any(abs(sum(col)) > 0 for col in zip(*v["lemma2_means"])):
        yield ("lemma2_means", "must not sum to zero (Lemma 2's top eigenvector is "
                               "their sum, normalized)")
    for a, b in v["cor1_ab_grid"]:
        if a == 0 and b == 0:
            yield ("cor1_ab_grid", "pair (0, 0) is not a map B (alpha and beta both "
                                   "zero)")
    if v["fig5_points"] > v["cor2_n"]:
        yield ("fig5_points", f"= {v['fig5_points']} exceeds cor2_n = {v['cor2_n']} "
                              "(Figure 5 draws its points from that sample)")


def _cmap(v: dict):
    real = ("inst_info_path", "pert_info_path", "cell_info_path")
    if v["gctx_path"] is not None:
        lacking = [n for n in real if v[n] is None]
        if lacking:
            yield ("gctx_path", f"is given, so give {', '.join(lacking)} too")
    else:
        given = [n for n in (*real, "gene_info_path") if v[n] is not None]
        if given:
            yield (given[0], "is given without gctx_path (the simulated data set would "
                             "be used and this file ignored); give gctx_path too")
        cells = set(v["sim_cell_types"])
        for name in ("cell_a", "cell_b"):
            if v[name] not in cells:
                yield (name, f"= {v[name]!r} is not among sim_cell_types "
                             f"{v['sim_cell_types']} (the simulated data set's cell "
                             "types)")
        extra = [c for c in (v["train_cell_types"] or []) if c not in cells]
        if extra:
            yield ("train_cell_types", f"names {extra}, not among sim_cell_types "
                                       f"{v['sim_cell_types']}")
    if v["cell_a"] == v["cell_b"]:
        yield ("cell_b", f"must differ from cell_a (both {v['cell_a']!r})")


def _glove(v: dict):
    if v["vocab_size"] is not None and v["embeddings"] in (None, "glove.6B.50d"):
        from aligned_latents.data.embeddings import default_size

        size = default_size()
        if v["vocab_size"] > size:
            yield ("vocab_size", f"= {v['vocab_size']} exceeds the {size:,} words of the "
                                 "default embeddings glove.6B.50d; give at most "
                                 f"{size} (or None: all), or a larger file with "
                                 "-p embeddings")


#: Checks across parameters, per chapter: each yields (parameter, problem) pairs.
CROSS_CHECKS = {"autoencoders": _autoencoders, "gaussians": _gaussians, "cmap": _cmap,
                "glove": _glove}


# -- validation ------------------------------------------------------------------------
def _label(chapter: str, name: str) -> str:
    return f"chapter {chapter!r}: parameter {name!r}"


def _same_key(value):
    """A hashable key under which equal values collide (``1`` and ``1.0`` alike)."""
    if isinstance(value, bool):
        return ("bool", value)
    if isinstance(value, numbers.Real):
        return ("num", float(value))
    if isinstance(value, (list, tuple)):
        return ("list", tuple(_same_key(v) for v in value))
    return ("other", repr(value))


def first_repeat(values) -> tuple[int, int] | None:
    """Positions ``(i, j)``, ``i < j``, of the first value given twice (``1`` and
    ``1.0`` count as the same value), or ``None``."""
    seen = {}
    for j, v in enumerate(values):
        key = _same_key(v)
        if key in seen:
            return seen[key], j
        seen[key] = j
    return None


def repeat_note(values, shown=None, noun: str = "items") -> str | None:
    """``"repeats 1.0 (items 1 and 2) (1 and 1.0 are the same value)"`` for the first
    value given twice in ``values`` (:func:`first_repeat`), or ``None``; ``shown`` are the
    values as the user wrote them (default ``values``)."""
    rep = first_repeat(values)
    if rep is None:
        return None
    shown = values if shown is None else shown
    i, j = rep
    same = ("" if repr(shown[i]) == repr(shown[j])
            else f" ({shown[i]!r} and {shown[j]!r} are the same value)")
    return f"repeats {shown[j]!r} ({noun} {i + 1} and {j + 1}){same}"


def _bounds(x: float, spec: Spec, label: str, what: str):
    lo, hi = spec.minimum, spec.maximum
    bad = ((lo is not None and (x <= lo if spec.open_min else x < lo))
           or (hi is not None and (x >= hi if spec.open_max else x > hi)))
    if bad:
        raise ValueError(f"{label} must be {what} {_range_text(spec)}, got {x!r}")


def _scalar(value, kind: str, spec: Spec, label: str, base: Path):
    if kind == "int":
        lo = spec.minimum
        if lo is not None and not spec.open_min and float(lo).is_integer():
            x = check_int(value, label, minimum=int(lo))
        else:
            x = check_int(value, label)
        _bounds(x, spec, label, "an integer")
        return x
    if kind == "float":
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise ValueError(f"{label} must be a number, got {value!r}")
        x = float(value)
        if not math.isfinite(x):
            raise ValueError(f"{label} must be a finite number, got {value!r}")
        _bounds(x, spec, label, "a number")
        return x
    if kind == "bool":
        if not isinstance(value, bool):
            raise ValueError(f"{label} must be True or False, got {value!r}")
        return value
    if kind == "str":
        if not isinstance(value, str) or not value.strip():
            raise ValueError(f"{label} must be a non-empty string, got {value!r}")
        if spec.choices and value not in spec.choices:
            allowed = ", ".join(repr(c) for c in spec.choices)
            raise ValueError(f"{label} must be one of {allowed}, got {value!r}")
        return value
    # path
    if not isinstance(value, (str, os.PathLike)) or not str(value).strip():
        raise ValueError(f"{label} must be the path of a file (a string), "
                         f"got {value!r}")
    if str(value) in spec.names:
        return str(value)
    path = Path(value).expanduser()
    if not path.is_absolute():
        path = base / path
    path = Path(os.path.normpath(path))
    if not path.exists():
        also = f" (or one of {', '.join(map(repr, spec.names))})" if spec.names else ""
        raise ValueError(f"{label}: no such file {str(path)!r}{also}")
    if path.is_dir():
        raise ValueError(f"{label} must be a file, {str(path)!r} is a folder")
    return str(path)


def _where(label: str, at: tuple) -> str:
    if not at:
        return label
    text = f"item {at[0] + 1}" + "".join(f", entry {i + 1}" for i in at[1:])
    return f"{label} ({text})"


def _value(value, kind: str, spec: Spec, label: str, base: Path, at: tuple = ()):
    """Check ``value`` against ``kind`` (one alternative); return the normalized value.

    ``at`` is the position inside the parameter's (nested) list, empty at the top.
    """
    if not kind.startswith("list["):
        return _scalar(value, kind, spec, _where(label, at), base)
    inner = kind[5:-1]
    top = not at
    if isinstance(value, tuple):
        value = list(value)
    if not isinstance(value, list):
        if top and not inner.startswith("list["):
            value = [value]  # one value given to a list parameter: a list of one
        else:
            raise ValueError(f"{_where(label, at)} must be a list ({kind}), "
                             f"got {value!r}")
    if top:
        least = max(spec.min_items, 1 if spec.nonempty else 0)
        if len(value) < least:
            what = ("must not be empty" if least == 1
                    else f"needs at least {least} items")
            raise ValueError(f"{label} {what}, got {value!r}")
    elif spec.width is not None and len(value) != spec.width:
        raise ValueError(f"{_where(label, at)} must have {spec.width} entries, "
                         f"got {value!r}")
    out = [_value(v, inner, spec, label, base, at + (i,)) for i, v in enumerate(value)]
    if top and spec.unique:
        note = repeat_note(out, shown=value)
        if note is not None:
            raise ValueError(f"{label} {note}; give each value once")
    return out


def check_value(chapter: str, name: str, value, base=None):
    """One parameter's value, checked against its :class:`Spec` and normalized: an int
    for a float parameter becomes a float, one value for a list parameter a list of one,
    a relative path an absolute one (against ``base``, default the current directory).

    Raises a one-line ``ValueError`` naming the chapter and the parameter.
    """
    spec = schema(chapter)
    if name not in spec:
        raise ValueError(f"chapter {chapter!r} has no parameter {name!r}; valid names: "
                         + ", ".join(spec))
    s = spec[name]
    label = _label(chapter, name)
    if value is None:
        if s.optional:
            return None
        raise ValueError(f"{label} must be {s.describe()}, got None")
    base = Path(base) if base is not None else Path.cwd()
    kinds = s.kind.split("|")
    if len(kinds) > 1:
        listy = isinstance(value, (list, tuple))
        chosen = [k for k in kinds if k.startswith("list[") == listy] or kinds[:1]
        kinds = chosen[:1]
    return _value(value, kinds[0], s, label, base)


def schema(chapter: str) -> dict[str, Spec]:
    """The chapter's :class:`Spec` per parameter (``ValueError`` for an unknown
    chapter)."""
    get_chapter(chapter)
    if chapter not in PARAMS:
        raise ValueError(f"chapter {chapter!r} has no parameter schema in "
                         "aligned_latents.runs.params.PARAMS")
    return PARAMS[chapter]


def _cross(chapter: str, values: dict):
    check = CROSS_CHECKS.get(chapter)
    if check is None:
        return
    for name, problem in check(values):
        raise ValueError(f"{_label(chapter, name)} {problem}")


def validate(chapter: str, given: dict, base=None) -> dict:
    """Check every value of ``given`` against the chapter's schema; return them
    normalized.

    Unknown names, wrong types, values out of range, repeated list values and missing
    files raise a one-line ``ValueError`` naming the chapter and the parameter; so do
    values that do not fit together (checked with the defaults of the parameters not
    given). Relative paths are resolved against ``base`` (default: the current working
    directory) and returned absolute. Only the names in ``given`` are returned (what
    papermill injects).
    """
    spec = schema(chapter)
    if not isinstance(given, dict):
        raise ValueError(f"parameters must be a dict of name -> value, got {given!r}")
    out = {name: check_value(chapter, name, value, base)
           for name, value in given.items()}
    defaults = {p.name: p.default for p in parameters(chapter).values()}
    _cross(chapter, {**{n: defaults.get(n) for n in spec}, **out})
    return out


def check_notebook_parameters(chapter: str, namespace: dict) -> dict:
    """Validate a chapter's parameters where they live: in the notebook's globals.

    A chapter calls ``check_notebook_parameters("glove", globals())`` in a hidden cell
    right after its parameters cell, so that a direct papermill run is checked like a
    rerun by the command line. Every parameter of the schema must be in ``namespace``;
    each is validated (:func:`validate`) and written back normalized (relative paths
    made absolute against the kernel's working directory). Returns the validated values.
    """
    spec = schema(chapter)
    lacking = [n for n in spec if n not in namespace]
    if lacking:
        raise ValueError(f"chapter {chapter!r}: parameter(s) {', '.join(lacking)} not "
                         "defined before the parameter check (is the parameters cell "
                         "first?)")
    values = {name: check_value(chapter, name, namespace[name]) for name in spec}
    _cross(chapter, values)
    namespace.update(values)
    defaults = parameters(chapter)
    note_parameters(chapter, {n: v for n, v in values.items() if n in defaults
                              and v != check_value(chapter, n, defaults[n].default)})
    return values


def describe(chapter: str) -> dict[str, str]:
    """Each parameter's type and range, one line each (``aligned-latents list``)."""
    return {name: s.describe() for name, s in schema(chapter).items()}


def reported_parameters(chapter: str) -> dict[str, str]:
    """``{parameter: glue name}`` for the parameters whose value used the chapter
    reports (:attr:`Spec.reported`)."""
    return {n: s.reported for n, s in schema(chapter).items() if s.reported}


def path_parameters(chapter: str) -> list[str]:
    """The names of the chapter's parameters that can hold a file path."""
    return [n for n, s in schema(chapter).items() if "path" in s.kind.split("|")]


def schema_markdown(chapter: str) -> str:
    """The chapter's parameters as a MyST table: name, default, type and range,
    meaning."""
    from aligned_latents.record.ledger import md_escape

    spec = schema(chapter)
    lines = ["| parameter | default | type and range | meaning |", "|---|---|---|---|"]
    for p in parameters(chapter).values():
        kind = spec[p.name].describe() if p.name in spec else "(not in the schema)"
        lines.append(f"| `{p.name}` | `{p.default!r}` | {md_escape(kind)} | "
                     f"{md_escape(p.meaning)} |")
    return "\n".join(lines)
