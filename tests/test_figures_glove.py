"""The GloVe chapter's figures (aligned_latents.book.figures.glove) drawn from tiny CSV files:
each returns a Figure with the expected panels and titles, labels follow the degree written
in the files, and a missing file is a clear error."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from aligned_latents.book.figures import glove as fg


def write(tmp_path, name, df):
    df.to_csv(tmp_path / name, index=False)


def mds_frame(linear="linear_k3"):
    rng = np.random.default_rng(0)
    rows = []
    for space in ("original", linear):
        for p in range(4):
            xa, ya, xb, yb = rng.normal(size=4)
            rows.append({"space": space, "pair": p, "word_a": f"a{p}", "word_b": f"b{p}",
                         "xa": xa, "ya": ya, "xb": xb, "yb": yb})
    return pd.DataFrame(rows)


def titles(fig):
    return [ax.get_title() for ax in fig.axes if ax.get_title()]


def test_figure6_and_sign_sweep(tmp_path):
    n = 200
    write(tmp_path, "figure6.csv", pd.DataFrame({"rank": np.arange(1, n + 1),
                                                 "word": [f"w{i}" for i in range(n)],
                                                 "cos_u1": np.linspace(0.5, -0.3, n)}))
    fig = fg.figure6(tmp_path)
    assert isinstance(fig, Figure) and "Figure 6" in titles(fig)[0]
    write(tmp_path, "u1_sign_sweep.csv", pd.DataFrame(
        {"n_words": [100, 200, 300], "lam1": [1.0, 2.0, 3.0], "rho": [-0.5, -0.1, 0.4],
         "grid": ["coarse"] * 3}))
    fig = fg.u1_sign_sweep(tmp_path)
    ax = fig.axes[0]
    assert "N = 300" in ax.get_legend().get_texts()[0].get_text()


def test_figure7_panels_follow_the_columns(tmp_path):
    rng = np.random.default_rng(1)
    df = pd.DataFrame({"relation": ["r"] * 50, "cos_original": rng.uniform(-1, 1, 50),
                       "cos_linear_k3": rng.uniform(-1, 1, 50),
                       "cos_leaky_relu": rng.uniform(-1, 1, 50)})
    write(tmp_path, "figure7.csv", df)
    fig = fg.figure7(tmp_path)
    got = titles(fig)
    assert len(got) == 2
    assert got[0].startswith("Linear AE (k=3)") and got[1].startswith("Leaky ReLU AE")
    assert "k=2" not in " ".join(got)
    write(tmp_path, "figure7.csv", df[["relation", "cos_original"]])
    with pytest.raises(ValueError, match="no column"):
        fg.figure7(tmp_path)


@pytest.mark.parametrize("func,name,word", [(fg.figure3, "figure3.csv", "Figure 3"),
                                            (fg.figure8, "figure8.csv", "Figure 8"),
                                            (fg.figure9, "figure9.csv", "Figure 9")])
def test_mds_figures_title_the_degree_of_the_file(tmp_path, func, name, word):
    write(tmp_path, name, mds_frame("linear_k3"))
    fig = func(tmp_path)
    assert titles(fig) == ["Original", "Linear AE (k=3)"]
    assert word in fig._suptitle.get_text()


def test_figure10_and_degree_sweep(tmp_path):
    rng = np.random.default_rng(2)
    before = rng.uniform(0.9, 0.999, 30)
    write(tmp_path, "figure10.csv", pd.DataFrame({
        "word1": ["a"] * 30, "word2": ["b"] * 30, "human": np.arange(30.0),
        "model": "Linear AE (k=5)", "default_before": rng.uniform(-1, 1, 30),
        "default_after": rng.uniform(-1, 1, 30), "corrected_before": before,
        "corrected_after": before ** 2}))
    fig = fg.figure10(tmp_path)
    assert len(titles(fig)) == 2 and "Linear AE (k=5)" in fig._suptitle.get_text()
    assert fig.axes[1].get_xscale() == "log"
    write(tmp_path, "degree_sweep.csv", pd.DataFrame({
        "k": [0, 1, 3], "analogy": [0.4, 0.5, 0.6], "wsim_mturk771": [0.5, 0.5, 0.4],
        "wsim_men": [0.6, 0.6, 0.5], "mturk771_default": [0.55, 0.4, 0.2],
        "men_default": [0.65, 0.45, 0.2]}))
    fig = fg.degree_sweep(tmp_path)
    assert len(fig.axes[0].get_lines()) == 5
    assert list(fig.axes[0].get_xticks()) == [0, 1, 3]


def test_missing_file_and_labels(tmp_path):
    with pytest.raises(ValueError, match="missing"):
        fg.figure6(tmp_path)
    assert fg.space_label("linear_k12") == "Linear AE (k=12)"
    assert fg.space_label("original") == "Original"
    assert fg.space_label("leaky_relu") == "Leaky ReLU AE"
    assert fg.space_label("something else") == "something else"
