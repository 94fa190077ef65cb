"""The figures of the chapter 'stretching' are drawn from its CSV files alone."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from aligned_latents.book.figures import stretching as figs


@pytest.fixture()
def results(tmp_path):
    rng = np.random.default_rng(0)
    n = 30
    pd.DataFrame({"component": np.repeat([1, 2], n), "x": rng.normal(size=2 * n),
                  "y": rng.normal(size=2 * n), "stretched_x": rng.normal(size=2 * n),
                  "stretched_y": rng.normal(size=2 * n)}).to_csv(tmp_path / "figure2.csv",
                                                                  index=False)
    pd.DataFrame({"component": [1, 2], "q_x": [0.9, 0.4], "q_y": [0.4, 0.9],
                  "Bq_x": [2.5, 2.0], "Bq_y": [1.9, 2.4], "c": 7.5, "stretch": 5.0,
                  "cos_before": 0.7, "cos_after": 0.95}).to_csv(
        tmp_path / "figure2_axes.csv", index=False)
    r = np.geomspace(1e-2, 1e2, 9)
    pd.DataFrame({"stretch": r, "cos_direct": np.tanh(np.log(r)), "cos_before": 0.0}
                 ).to_csv(tmp_path / "figure2_stretch_sweep.csv", index=False)
    return tmp_path


def test_figure2_titles_follow_the_csv(results):
    fig = figs.figure2(results)
    assert isinstance(fig, Figure) and len(fig.axes) == 2
    left, right = (ax.get_title() for ax in fig.axes)
    assert "c = 7.5" in left and "0.700" in left
    assert "stretch 5" in right and "0.950" in right
    # two point clouds and two axis lines per panel
    assert all(len(ax.collections) == 2 and len(ax.lines) == 2 for ax in fig.axes)


def test_stretch_sweep(results):
    fig = figs.stretch_sweep(results)
    assert isinstance(fig, Figure) and len(fig.axes) == 1
    ax = fig.axes[0]
    assert ax.get_xscale() == "log" and "spectrum" in ax.get_title()


def test_missing_or_incomplete_csv(tmp_path, results):
    with pytest.raises(FileNotFoundError, match="run the chapter"):
        figs.figure2(tmp_path / "nowhere")
    pd.DataFrame({"stretch": [1.0]}).to_csv(results / "figure2_stretch_sweep.csv",
                                            index=False)
    with pytest.raises(ValueError, match="lacks columns"):
        figs.stretch_sweep(results)
