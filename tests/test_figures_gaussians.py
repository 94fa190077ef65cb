"""The figures of the chapter 'gaussians' are drawn from its CSV files alone."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from aligned_latents.book.figures import gaussians as figs


@pytest.fixture()
def results(tmp_path):
    rng = np.random.default_rng(0)
    pd.DataFrame({"t=0": rng.uniform(-1, 1, 50), "t=3": np.sign(rng.normal(size=50)),
                  "t=7": np.ones(50)}).to_csv(tmp_path / "power_method_cosines.csv",
                                              index=False)
    ns = [100, 400, 1600]
    rows = [{"n": n, "rep": r, "frobenius_error": n ** -0.5 * (1 + 0.1 * r),
                 "spectral_error": n ** -0.5, "eigenvalue_error": 0.5 * n ** -0.5,
                 "eigenvector_sin": 0.1 * n ** -0.5, "exact_rms": 1.05 * n ** -0.5}
            for n in ns for r in range(3)]
    pd.DataFrame(rows).to_csv(tmp_path / "lemma2_convergence.csv", index=False)
    pd.DataFrame([{"c": c, "k": k, "simulated": 1 - 0.1 / k} for c in (-0.7, 3.0)
                  for k in (1, 4)]).to_csv(tmp_path / "corollary2.csv", index=False)
    pd.DataFrame([{"c": c, "k": k, "closed_form": 1 - 0.1 / k, "before": 0.8}
                  for c in (-0.7, 3.0) for k in range(1, 5)]).to_csv(
        tmp_path / "corollary2_closed.csv", index=False)
    n = 20
    pd.DataFrame({"component": np.repeat([1, 2], n), "x": rng.normal(size=2 * n),
                  "y": rng.normal(size=2 * n), "embedded_x": rng.normal(size=2 * n),
                  "embedded_y": rng.normal(size=2 * n)}).to_csv(tmp_path / "figure5.csv",
                                                                 index=False)
    pd.DataFrame({"component": [1, 2], "q_x": [0.5, 0.8], "q_y": [0.8, 0.5],
                  "Bq_x": [1.0, 1.0], "Bq_y": [1.0, 1.0], "c": -0.7, "k": 12,
                  "scale": 3.0, "cos_before": 0.8, "angle_after": 2e-9}).to_csv(
        tmp_path / "figure5_axes.csv", index=False)
    return tmp_path


def test_power_method_panels(results):
    fig = figs.power_method(results)
    assert isinstance(fig, Figure)
    assert [ax.get_title() for ax in fig.axes] == ["t = 0", "t = 3", "t = 7"]
    assert [ax.get_title() for ax in figs.power_method(results, [7]).axes] == ["t = 7"]
    with pytest.raises(ValueError, match="lacks columns"):
        figs.power_method(results, [5])


def test_lemma2_convergence_loglog_with_slope(results):
    fig = figs.lemma2_convergence(results)
    ax = fig.axes[0]
    assert ax.get_xscale() == ax.get_yscale() == "log"
    assert "slope -0.5" in ax.get_title()     # the synthetic errors fall like n^-1/2
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert any("n^{-1/2}" in s for s in labels)


def test_corollary2_one_colour_per_c(results):
    fig = figs.corollary2(results)
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert labels == ["c = -0.7", "c = 3"]


def test_figure5_titles_follow_the_csv(results):
    fig = figs.figure5(results)
    left, right = (ax.get_title() for ax in fig.axes)
    assert "c = -0.7" in left and "0.800" in left
    assert "{12}" in right and "3n" in right and "2.0e-09" in right
