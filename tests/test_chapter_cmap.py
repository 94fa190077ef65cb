"""The CMap chapter executed end to end (papermill) with reduced sizes and non-default
degrees and cell types: the checks cover every statement of the chapter, are consistent
with their own numbers, and every label, title and file follows the parameters."""
import json

import numpy as np
import pandas as pd

from aligned_latents.record.statements import load_statements
from aligned_latents.record.verdicts import read_claims_file


def test_chapter_cmap_reduced(run_chapter):
    # fluVaccine is left to the book build (make book runs it at default settings)
    res = run_chapter("cmap", sim_n_genes=120, sim_n_drugs=80, sim_n_controls=40,
                      sim_cell_types=["MCF7", "PC3"], cell_a="PC3", cell_b="MCF7",
                      degrees=[3, 7], relu_hidden=64, relu_max_epochs=2,
                      cmap_seeds=[3, 7], sweep_shared_on_top=[0.0, 0.5],
                      run_fluvaccine=False)
    claims = read_claims_file(res / "claims.csv")      # holds agrees with the numbers
    st = load_statements()
    mine = st[(st["chapter"] == "cmap") & (st["not_checkable"].fillna("") == "")]
    assert set(mine["statement"]) <= set(claims["statement"])
    assert set(claims["statement"]) <= set(st["statement"])
    assert set(claims["evidence"]) == {"designed-data", "exact"}
    # a run off the paper's set-up says so: Appendix H's 1024 hidden units, 978 genes
    setup = claims[claims["statement"] == "apph.cmap_leaky_setup"].set_index("quantity")
    width = setup.loc["hidden units of the trained Leaky ReLU autoencoder"]
    assert (float(width["measured"]), bool(width["holds"])) == (64.0, False)
    linear = claims[claims["statement"] == "apph.cmap_linear_911"].iloc[0]
    assert float(linear["measured"]) == 120 and not linear["holds"]
    # labels follow the degrees and cell types
    fig = pd.read_csv(res / "figure4.csv")
    assert list(fig.columns) == ["drug", "model", "cos_original", "cos_latent"]
    assert list(dict.fromkeys(fig["model"])) == ["Leaky ReLU", "linear k=3", "linear k=7"]
    assert fig.groupby("model").size().nunique() == 1 and len(fig) > 3 * 40
    vals = fig[["cos_original", "cos_latent"]].to_numpy()
    assert np.isfinite(vals).all() and np.abs(vals).max() <= 1 + 1e-12
    src = json.loads((res / "data_source.json").read_text())
    assert (src["simulated"], src["cell_a"], src["cell_b"]) == (True, "PC3", "MCF7")
    # one Leaky ReLU network per seed of cmap_seeds, checked seed by seed; two seeds are
    # fewer than a seed check needs, so those checks have no noise scale
    seeds = pd.read_csv(res / "leaky_relu_seeds.csv")
    assert list(seeds["seed"]) == [3, 7] and seeds["median_increase"].nunique() == 2
    by_seed = claims[claims["check"] == "seeds_at_least"]
    assert set(by_seed["statement"]) == {"fig4", "fig4.linear_vs_leaky",
                                         "s7.default_init_alignment"}
    assert all(len(str(m).split(";")) == 2 for m in by_seed["measured"])
    summ = pd.read_csv(res / "figure4_summary.csv")
    assert summ["share_increased"].between(0, 1).all()
    assert summ["share_nearly_aligned"].between(0, 1).all()
    sweep = pd.read_csv(res / "lemma1_sweep.csv")
    assert sorted(sweep["shared_on_top"].unique()) == [0.0, 0.5]
    assert set(sweep["model"]) == {"linear k=3", "linear k=7"}
    assert (res / "sim" / "sim_level3.gctx").is_file()
    assert not (res / "fluvaccine_pairs.csv").exists()
    # no default degree or cell type leaks into the results or the page's outputs
    texts = [p.read_text() for p in res.glob("*.csv")]
    nb = json.loads((res.parents[1] / "cmap.ipynb").read_text())
    outputs = []
    for cell in nb["cells"]:
        for o in cell.get("outputs", []):
            assert o["output_type"] != "stream", f"stray output: {o.get('text')}"
            assert o["output_type"] != "error"
            for mime, value in o.get("data", {}).items():
                if mime.startswith("text/"):
                    text = "".join(value) if isinstance(value, list) else value
                    if not text.startswith("| parameter |"):     # the defaults table
                        outputs.append(text)
    glued = json.dumps([c.get("outputs", []) for c in nb["cells"]])
    assert "seed 3" in glued and "seed 0" not in glued  # the figure's network is named
    for text in texts + outputs:
        for old in ("k=11", "k=30", "A549", "degree 11", "degree 30"):
            assert old not in text, (old, text[:300])
