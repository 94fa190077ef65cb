"""The parameter schema (aligned_latents.runs.params): one place, every chapter, checked
early."""
from __future__ import annotations

from pathlib import Path

import pytest

from aligned_latents.runs import params as P
from aligned_latents.util.chapters import CHAPTERS, parameters


def _defaults(chapter: str) -> dict:
    return {p.name: p.default for p in parameters(chapter).values()}


# -- the schema matches the chapters ---------------------------------------------------
@pytest.mark.parametrize("chapter", list(CHAPTERS))
def test_schema_names_are_the_parameters_cell_names(chapter):
    assert chapter in P.PARAMS, f"no schema for chapter {chapter}"
    schema, cell = set(P.PARAMS[chapter]), set(parameters(chapter))
    assert schema == cell, (
        f"aligned_latents.runs.params.PARAMS[{chapter!r}] and book/{chapter}.md's "
        "parameters cell must list the same names; only in the schema: "
        f"{sorted(schema - cell)}, only in the cell: {sorted(cell - schema)}")


@pytest.mark.parametrize("chapter", list(CHAPTERS))
def test_every_default_passes_its_own_schema(chapter):
    defaults = _defaults(chapter)
    assert set(P.validate(chapter, defaults)) == set(defaults)
    ns = dict(defaults, unrelated=object())
    P.check_notebook_parameters(chapter, ns)
    assert set(ns) == set(defaults) | {"unrelated"}


def test_c_min_has_one_home():
    from aligned_latents.theory import closed_forms
    from aligned_latents.util import paper

    assert P.C_MIN is closed_forms.C_MIN is paper.C_MIN


def test_unknown_kind_is_refused():
    with pytest.raises(ValueError, match="unknown parameter kind"):
        P.Spec("integer")
    with pytest.raises(ValueError, match="unknown parameter kind"):
        P.Spec("list[int]|dict")


# -- refusals: one line naming the chapter and the parameter ---------------------------
REFUSED = [
    ("glove", "degrees", [1.5], "must be an integer >= 0, got 1.5"),
    ("glove", "degrees", [-1], "must be an integer >= 0, got -1"),
    ("glove", "degrees", [], "must not be empty"),
    ("glove", "degrees", [1, 1], "repeats 1"),
    ("glove", "degrees", "[1]", "must be an integer"),
    ("glove", "vocab_size", 0, "must be an integer >= 1, got 0"),
    ("glove", "vocab_size", 5e5, "write 500000 without a decimal point or exponent"),
    ("glove", "sweep_degrees", [], "must not be empty"),
    ("glove", "sweep_degrees", [2, 2], "repeats 2"),
    ("glove", "train_leaky_relu", 1, "must be True or False"),
    ("glove", "gd_words", True, "must be an integer"),
    ("glove", "embeddings", "no/such/file.txt", "no such file"),
    ("stretching", "n_draws", 0, "must be an integer >= 1, got 0"),
    ("stretching", "shapes", [[2, 0]], "(item 1, entry 2) must be an integer >= 1"),
    ("stretching", "shapes", [[2]], "(item 1) must have 2 entries"),
    ("stretching", "shapes", 3, "must be a list"),
    ("stretching", "fig2_c", -2.0, "must be a number >= -1.5"),
    ("stretching", "fig2_c", "big", "must be a number"),
    ("gaussians", "cor2_c", [1, 1.0], "(1 and 1.0 are the same value)"),
    ("gaussians", "lemma2_n", [100], "needs at least 2 items"),
    ("gaussians", "cor2_degrees", [0, 1], "must be an integer >= 1, got 0"),
    ("autoencoders", "gd_step_fraction", 1.0, "must be a number in (0, 1), got 1.0"),
    ("autoencoders", "relu_lr", float("nan"), "must be a finite number"),
    ("autoencoders", "spectrum", [1.0, 0.0], "must be a number > 0"),
    ("cmap", "cell_a", "", "must be a non-empty string"),
    ("cmap", "drug_list", [], "must not be empty"),
    ("cmap", "sim_p_present", 0.0, "in (0, 1]"),
    ("cmap", "train_cell_types", ["A549", "A549"], "repeats 'A549'"),
]


@pytest.mark.parametrize("chapter, name, value, message", REFUSED)
def test_bad_values_refused_in_one_line(chapter, name, value, message):
    with pytest.raises(ValueError) as err:
        P.validate(chapter, {name: value})
    text = str(err.value)
    assert message in text
    assert text.startswith(f"chapter {chapter!r}: parameter {name!r}"), text
    assert "\n" not in text


CROSS = [
    ("autoencoders", {"d_linear": 3}, "spectrum", "more than d_linear = 3"),
    ("gaussians", {"fig5_points": 10 ** 7}, "fig5_points", "exceeds cor2_n"),
    ("gaussians", {"lemma2_means": [[1.0], [0.0, 1.0]]}, "lemma2_means", "row lengths"),
    ("gaussians", {"lemma2_means": [[1.0, 0.0], [-1.0, 0.0]]}, "lemma2_means",
     "must not sum to zero"),
    ("gaussians", {"cor1_ab_grid": [[0.0, 0.0]]}, "cor1_ab_grid", "(0, 0)"),
    ("cmap", {"cell_a": "HEK"}, "cell_a", "not among sim_cell_types"),
    ("cmap", {"cell_b": "A549"}, "cell_b", "must differ from cell_a"),
    ("cmap", {"train_cell_types": ["XYZ"]}, "train_cell_types", "not among"),
]


@pytest.mark.parametrize("chapter, given, name, message", CROSS)
def test_values_that_do_not_fit_together_refused(chapter, given, name, message):
    with pytest.raises(ValueError) as err:
        P.validate(chapter, given)
    assert str(err.value).startswith(f"chapter {chapter!r}: parameter {name!r}")
    assert message in str(err.value) and "\n" not in str(err.value)


def test_cmap_real_data_needs_all_four_files(tmp_path):
    f = tmp_path / "x.gctx"
    f.write_text("x")
    with pytest.raises(ValueError, match="'gctx_path' is given, so give inst_info"):
        P.validate("cmap", {"gctx_path": str(f)})
    with pytest.raises(ValueError, match="'inst_info_path' is given without gctx_path"):
        P.validate("cmap", {"inst_info_path": str(f)})
    four = {n: str(f) for n in ("gctx_path", "inst_info_path", "pert_info_path",
                                "cell_info_path")}
    assert P.validate("cmap", dict(four, cell_a="HEK"))["cell_a"] == "HEK"


def test_unknown_name_lists_the_valid_ones():
    with pytest.raises(ValueError) as err:
        P.validate("glove", {"degree": [1]})
    assert "has no parameter 'degree'" in str(err.value)
    for name in parameters("glove"):
        assert name in str(err.value)


# -- accepted values and their normal form ---------------------------------------------
def test_sweep_degrees_need_not_contain_zero():
    assert P.validate("glove", {"sweep_degrees": [1]}) == {"sweep_degrees": [1]}


def test_normal_forms():
    out = P.validate("glove", {"degrees": 3, "vocab_size": None, "seed": 2})
    assert out == {"degrees": [3], "vocab_size": None, "seed": 2}
    out = P.validate("autoencoders", {"relu_lr": 1, "step_study": [0.5, 0.25]})
    assert out["relu_lr"] == 1.0 and type(out["relu_lr"]) is float
    assert P.validate("stretching", {"shapes": ((2, 3),)})["shapes"] == [[2, 3]]
    named = P.validate("glove", {"embeddings": "glove.6B.50d"})
    assert named["embeddings"] == "glove.6B.50d"


def test_relative_path_resolved_against_the_current_folder(tmp_path, monkeypatch):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "vectors.txt").write_text("a 1 2\n")
    monkeypatch.chdir(tmp_path)
    out = P.validate("glove", {"embeddings": "sub/vectors.txt"})
    assert out["embeddings"] == str(tmp_path / "sub" / "vectors.txt")
    assert Path(out["embeddings"]).is_absolute()
    with pytest.raises(ValueError, match="must be a file"):
        P.validate("glove", {"embeddings": "sub"})
    with pytest.raises(ValueError, match=f"no such file '{tmp_path / 'nope.txt'}'"):
        P.validate("glove", {"embeddings": "nope.txt"})


def test_union_of_a_file_and_a_list(tmp_path):
    f = tmp_path / "drugs.txt"
    f.write_text("aspirin\n")
    assert P.validate("cmap", {"drug_list": str(f)})["drug_list"] == str(f)
    assert P.validate("cmap", {"drug_list": ["a", "b"]})["drug_list"] == ["a", "b"]
    with pytest.raises(ValueError, match="no such file"):
        P.validate("cmap", {"drug_list": str(tmp_path / "none.txt")})


def test_check_notebook_parameters_rewrites_in_place(tmp_path, monkeypatch):
    (tmp_path / "v.txt").write_text("a 1 2\n")
    monkeypatch.chdir(tmp_path)
    ns = dict(_defaults("glove"), embeddings="v.txt", degrees=2)
    values = P.check_notebook_parameters("glove", ns)
    assert ns["embeddings"] == str(tmp_path / "v.txt") == values["embeddings"]
    assert ns["degrees"] == [2]
    ns["vocab_size"] = 5e5
    with pytest.raises(ValueError, match="chapter 'glove': parameter 'vocab_size'"):
        P.check_notebook_parameters("glove", ns)
    with pytest.raises(ValueError, match="not defined before the parameter check"):
        P.check_notebook_parameters("glove", {"seed": 0})


def test_describe_and_markdown():
    kinds = P.describe("glove")
    assert kinds["vocab_size"] == "int >= 1 or None"
    assert kinds["degrees"] == "list[int] >= 0, non-empty, no repeats"
    assert kinds["embeddings"] == "file path or 'glove.6B.50d' or None"
    assert P.describe("autoencoders")["gd_step_fraction"] == "float in (0, 1)"
    md = P.schema_markdown("cmap")
    for name in parameters("cmap"):
        assert f"`{name}`" in md
    assert P.path_parameters("cmap") == ["gctx_path", "inst_info_path",
                                         "pert_info_path", "cell_info_path",
                                         "gene_info_path", "drug_list"]


def test_first_repeat():
    assert P.first_repeat([1, 2, 3]) is None
    assert P.first_repeat([1, 2, 1.0]) == (0, 2)
    assert P.first_repeat([[1, 2], [1.0, 2.0]]) == (0, 1)
    assert P.first_repeat([True, 1]) is None
    assert P.first_repeat(["a", "b", "a"]) == (0, 2)


def test_unknown_chapter():
    with pytest.raises(ValueError, match="unknown chapter 'nope'"):
        P.validate("nope", {})
