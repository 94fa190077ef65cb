"""One helper builds and parses the models' names (issue 16): every style round-trips,
and names that are not a model's parse to None."""
from __future__ import annotations

import pytest

from aligned_latents.book.style import PALETTE, model_color
from aligned_latents.util.model_names import (
    KINDS,
    STYLES,
    linear_degree,
    model_label,
    model_slug,
    parse_model,
)


@pytest.mark.parametrize("style", sorted(STYLES))
@pytest.mark.parametrize("kind", KINDS)
def test_round_trip(style, kind):
    k = 11 if kind == "linear" else None
    assert parse_model(model_label(kind, k, style)) == (kind, k, None)


def test_the_names_the_results_files_use():
    assert model_label("linear", 2) == "Linear AE (k=2)"
    assert model_label("linear", 11, "short") == "linear k=11"
    assert model_slug("linear", 2) == "linear_k2"
    assert model_label("leaky_relu", style="short") == "Leaky ReLU"
    assert model_label("linear", 3, "short", "n*g") == "linear k=3, XᵀX/(n*g)"


def test_linear_degree_and_non_models():
    assert linear_degree("linear k=0") == 0
    assert linear_degree("Linear AE (k=12)") == 12
    for name in ("Leaky ReLU", "linear k=3, XᵀX/(n)", "linear k=3x", "cos_original", ""):
        assert linear_degree(name) is None
    assert parse_model("linear k=") is None


@pytest.mark.parametrize("call, message", [
    (lambda: model_label("linear"), "only for, the linear"),
    (lambda: model_label("original", 2), "only for, the linear"),
    (lambda: model_label("relu", None), "kind must be one of"),
    (lambda: model_label("linear", 2, "long"), "style must be one of"),
    (lambda: model_label("linear", 2, "table", "n"), "normalizer"),
])
def test_bad_names_refused(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_colours_follow_the_parsed_model():
    assert model_color("Original") == model_color("original") == PALETTE[0]
    assert model_color("Leaky ReLU") == model_color("Leaky ReLU AE") == PALETTE[1]
    assert model_color("linear k=2") == model_color("Linear AE (k=2)") == PALETTE[3]
    assert model_color("Linear AE (k=0)") == PALETTE[0]
    assert model_color("a label") == PALETTE[7]
