"""The autoencoders chapter run end to end with reduced sizes: every claim must hold."""
import numpy as np
import pandas as pd


def test_chapter_autoencoders(run_chapter):
    res = run_chapter("autoencoders", n_linear=200, step_study=[0.2, 0.1, 0.05],
                      degrees=[0, 1, 2], relu_d=101, relu_max_steps=2000, relu_record_every=20)
    claims = pd.read_csv(res / "claims.csv")
    failing = claims[~claims.holds]
    assert failing.empty, failing.to_string()
    assert len(claims) > 40
    errata = pd.read_csv(res / "errata.csv")
    assert errata.supports.all(), errata[~errata.supports].to_string()
    t1 = pd.read_csv(res / "theorem1_table.csv")
    assert set(t1.init) == {"asymmetric", "symmetric"} and len(t1) == 16
    assert np.all(np.isfinite(t1[["b_gd", "b_ode", "b_pred"]]))
    c4 = pd.read_csv(res / "corollary4.csv")
    assert set(c4.k) == {0, 1, 2} and c4.cos_trained.between(0, 1).all()
    tr = pd.read_csv(res / "theorem2_trajectory.csv")
    assert tr.step.is_monotonic_increasing and len(tr) > 5
    assert (tr.rank1_residual_A < 1e-12).all()
    for name in ("corollary3.csv", "lemma3_gradients.csv", "theorem1_step_study.csv",
                 "theorem2_learning_rate.csv"):
        assert len(pd.read_csv(res / name)) > 0
