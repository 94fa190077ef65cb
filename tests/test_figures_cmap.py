"""The CMap chapter's figures, drawn from tiny CSVs (aligned_latents.book.figures.cmap)."""
import json

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pandas as pd
import pytest

from aligned_latents.book.figures import cmap as figures_cmap


def _figure4_csv(path, models):
    rows = [{"drug": f"d{i}", "model": m, "cos_original": 0.1 * i,
             "cos_latent": 0.2 * i - 0.3} for m in models for i in range(4)]
    pd.DataFrame(rows).to_csv(path / "figure4.csv", index=False)


def test_figure4_panels_follow_the_csv(tmp_path):
    _figure4_csv(tmp_path, ["Leaky ReLU", "linear k=4", "linear k=17"])
    (tmp_path / "data_source.json").write_text(json.dumps(
        {"simulated": False, "cell_a": "PC3", "cell_b": "HA1E"}))
    fig = figures_cmap.figure4(tmp_path)
    titles = [ax.get_title() for ax in fig.axes if ax.get_visible()]
    assert titles == ["(a) Leaky ReLU", "(b) linear k=4", "(c) linear k=17"]
    sup = fig._suptitle.get_text()
    assert "PC3 vs HA1E" in sup and "real L1000" in sup and "4 drugs" in sup
    assert "A549" not in sup and "k=30" not in " ".join(titles)
    plt.close(fig)


def test_figure4_without_data_source_says_simulated_and_wraps(tmp_path):
    _figure4_csv(tmp_path, ["Leaky ReLU"] + [f"linear k={k}" for k in (1, 2, 3, 5)])
    fig = figures_cmap.figure4(tmp_path)
    assert fig._suptitle.get_text().startswith("SIMULATED data")
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert len(visible) == 5 and len(fig.axes) == 6
    assert visible[-1].get_title() == "(e) linear k=5"
    plt.close(fig)


def test_figure4_missing_or_bad_csv(tmp_path):
    with pytest.raises(FileNotFoundError, match="run the chapter"):
        figures_cmap.figure4(tmp_path)
    pd.DataFrame({"drug": ["a"], "model": ["m"]}).to_csv(tmp_path / "figure4.csv",
                                                         index=False)
    with pytest.raises(ValueError, match="lacks columns"):
        figures_cmap.figure4(tmp_path)


def test_lemma1_sweep(tmp_path):
    rows = [{"shared_on_top": f, "model": m, "share_increased": 0.5 + f / 2,
                 "share_negative_latent": 0.4 - f / 2, "share_negative_original": 0.0}
            for m in ("linear k=2", "linear k=6") for f in (0.5, 0.0)]
    pd.DataFrame(rows).to_csv(tmp_path / "lemma1_sweep.csv", index=False)
    fig = figures_cmap.lemma1_sweep(tmp_path)
    assert [ax.get_title() for ax in fig.axes] == ["alignment increased",
                                                   "latent cosine < 0"]
    labels = [t.get_text() for t in fig.axes[1].get_legend().get_texts()]
    assert labels == ["linear k=2", "linear k=6", "original space"]
    x = fig.axes[0].get_lines()[0].get_xdata()
    assert list(x) == [0.0, 0.5]                    # sorted by f
    plt.close(fig)


def test_fluvaccine(tmp_path):
    spaces = ["linear k=8, XᵀX/(n*g)", "linear k=8, XᵀX/(n)"]
    rows = [{"comparison": c, "pair": i, "space": s, "cos_original": 0.1 * i,
             "cos_latent": 0.1} for s in spaces for c in ("within X", "across X x Y") for i in range(3)]
    pd.DataFrame(rows).to_csv(tmp_path / "fluvaccine_pairs.csv", index=False)
    fig = figures_cmap.fluvaccine(tmp_path)
    assert [ax.get_title() for ax in fig.axes] == [f"(a) {spaces[0]}", f"(b) {spaces[1]}"]
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert labels == ["within X", "across X x Y"]
    plt.close(fig)
