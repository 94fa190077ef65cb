"""The CMap chapter executed end to end (papermill) with reduced sizes: every claim holds and
the figure CSVs exist and are sane."""
import numpy as np
import pandas as pd



def test_chapter_cmap_reduced(run_chapter):
    # fluVaccine is left to the book build (make book runs it at default settings)
    res = run_chapter("cmap", sim_n_drugs=80, sim_n_controls=40, sim_cell_types=["A549", "MCF7"],
                      relu_hidden=64, relu_max_epochs=2, sweep_shared_on_top=[0.0, 0.5],
                      run_fluvaccine=False)
    claims = pd.read_csv(res / "claims.csv")
    assert len(claims) >= 10
    assert claims["holds"].all(), claims[~claims["holds"]].to_string()
    fig = pd.read_csv(res / "figure4.csv")
    assert list(fig.columns) == ["drug", "model", "cos_original", "cos_latent"]
    assert set(fig["model"]) == {"Leaky ReLU", "linear k=11", "linear k=30"}
    assert fig.groupby("model").size().nunique() == 1 and len(fig) > 3 * 40
    vals = fig[["cos_original", "cos_latent"]].to_numpy()
    assert np.isfinite(vals).all() and np.abs(vals).max() <= 1 + 1e-12
    summ = pd.read_csv(res / "figure4_summary.csv")
    assert summ["share_increased"].between(0, 1).all()
    sweep = pd.read_csv(res / "lemma1_sweep.csv")
    assert sorted(sweep["shared_on_top"].unique()) == [0.0, 0.5]
    assert (res / "sim" / "sim_level3.gctx").is_file()
