"""The autoencoders chapter's figures are drawn from its CSV files alone."""
import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from aligned_latents.book.figures import autoencoders as fig_ae


def _theorem1_csvs(path):
    rows = []
    for init in ("asymmetric", "symmetric"):
        for method in ("gradient flow", "gradient descent"):
            for direction, end in [(1, 2.0), (2, 1.3)]:
                for t in (0.0, 0.01, 0.1, 1.0):
                    rows.append({"init": init, "method": method, "direction": direction,
                                 "step": int(t * 100), "t": t, "a": 0.0,
                                 "b": end * (1 - np.exp(-5 * t)) + np.exp(-5 * t)})
    pd.DataFrame(rows).to_csv(path / "theorem1_dynamics.csv", index=False)
    pd.DataFrame([{"init": i, "direction": j, "in_span": True, "b_pred": e,
                   "b_printed": p}
                  for i in ("asymmetric", "symmetric")
                  for j, e, p in [(1, 2.0, 2.5), (2, 1.3, np.nan)]]
                 ).to_csv(path / "theorem1_table.csv", index=False)


def test_theorem1_dynamics(tmp_path):
    _theorem1_csvs(tmp_path)
    fig = fig_ae.theorem1_dynamics(tmp_path)
    axes = fig.get_axes()
    assert [ax.get_title() for ax in axes] == ["asymmetric initialization",
                                               "symmetric initialization"]
    assert axes[0].get_xscale() == "log"
    # per direction: a flow line and GD markers; one printed cross (the NaN is skipped)
    assert len(axes[0].lines) == 2 * 2 + 1
    assert "b_i(t)" in axes[0].get_ylabel()
    plt.close(fig)


def test_corollary4(tmp_path):
    pd.DataFrame([{"init": i, "k": k, "cos_pred": 0.7 + 0.1 * k,
                   "cos_trained": 0.7 + 0.1 * k, "cos_before": 0.7}
                  for i in ("power", "plus identity")
                  for k in (0, 1, 2)]).to_csv(tmp_path / "corollary4.csv", index=False)
    fig = fig_ae.corollary4(tmp_path)
    (ax,) = fig.get_axes()
    assert ax.get_xlabel() == "degree k"
    labels = ax.get_legend_handles_labels()[1]
    assert "Corollary 4 formula, power" in labels and "before embedding" in labels
    plt.close(fig)


def test_theorem2_training(tmp_path):
    steps = np.arange(0, 200, 50)
    pd.DataFrame({"step": steps, "rank1_residual_A": 1e-16, "rank1_residual_B": 0.0,
                  "conservation_residual": 1e-6, "conservation_scale": 1e-2,
                  "a_phi_b": 0.25 * (1 - np.exp(-steps / 50.0)),
                  "Bx_norm2": 128 + 0.49 * (1 - np.exp(-steps / 50.0))}
                 ).to_csv(tmp_path / "theorem2_trajectory.csv", index=False)
    pd.DataFrame([{"eta": 4.0, "Bx_norm2_closed": 128.498,
                   "Bx_norm2_recursion": 128.495}]
                 ).to_csv(tmp_path / "theorem2_summary.csv", index=False)
    fig = fig_ae.theorem2_training(tmp_path)
    left, right = fig.get_axes()
    assert left.get_title() == "Lemmas 3-4 along SGD" and left.get_yscale() == "log"
    assert right.get_ylabel() == r"$\|Bx\|^2$ minus Theorem 2's value"
    assert right.get_yscale() == "symlog"
    plt.close(fig)


def test_missing_csv_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="is missing: run the chapter first"):
        fig_ae.corollary4(tmp_path)
