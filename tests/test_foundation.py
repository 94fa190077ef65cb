"""The shared foundation: claims ledger rows, input validation, paths, the Leaky ReLU
autoencoder's training/saving, and the chapters' parameter cells."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from aligned_latents.record import claims
from aligned_latents.util import paths, validation
from aligned_latents.util.chapters import CHAPTERS, parameters


def test_claims_rows_and_files(tmp_path, monkeypatch):
    monkeypatch.setenv(paths.RESULTS_ENV, str(tmp_path))
    c = claims.Claims("demo", evidence="exact")
    assert c.close("Lemma 1", "x", 1.0, 1.0 + 5e-13, 1e-12, statement="lemma1")
    assert not c.close("Lemma 1", "y", 1.0, 1.1, 1e-3, statement="lemma1")
    assert c.close("Theorem 1", "rel", 100.0, 100.5, 1e-2, relative=True,
                   statement="thm1", evidence="simulation")
    assert c.at_least("Corollary 3", "min", 1.2, 1.0, statement="cor3")
    assert not c.at_most("Corollary 3", "max", 1.2, 1.0, statement="cor3")
    assert c.true("Corollary 2", "increases", True, "0.1 < 0.2", statement="cor2")
    # an erratum supports the correction only when the measurement is near it and not
    # near the paper's stated value
    assert c.erratum("Theorem 2 alpha*beta", "Theorem 2", "1/eta", "1/eta^2",
                     "alpha*beta", paper_value=0.25, corrected_value=0.0625,
                     measured=0.06251, tolerance=1e-3, kind="error",
                     statement="thm2.alpha_beta")
    out = c.write()
    df = pd.read_csv(out)
    assert list(df.columns) == claims.CLAIM_COLUMNS
    assert df["holds"].tolist() == [True, False, True, True, False, True, True]
    assert df["evidence"].tolist()[2] == "simulation"
    # every row re-checks from its own numbers
    assert [claims.recompute_holds(r) for r in df.astype(str).to_dict("records")] == \
        df["holds"].tolist()
    assert (tmp_path / "demo" / "errata.csv").is_file()
    assert "2 do not" in c.summary()
    from aligned_latents.record.verdicts import statement_verdict

    frame = c.frame()
    assert statement_verdict(frame[frame.statement == "lemma1"]) == "partly"
    assert statement_verdict(frame[frame.statement == "thm2.alpha_beta"]) == "erratum"


def test_claims_refuse_bad_rows(tmp_path, monkeypatch):
    c = claims.Claims("demo")
    with pytest.raises(ValueError, match="finite"):
        c.close("Lemma 1", "x", 1.0, float("nan"), 1e-3, statement="lemma1",
                evidence="exact")
    with pytest.raises(ValueError, match="non-empty"):
        c.true("", "x", True, statement="lemma1", evidence="exact")
    with pytest.raises(ValueError, match="evidence must be one of"):
        c.close("Lemma 1", "x", 1.0, 1.0, 1e-3, statement="lemma1")
    with pytest.raises(ValueError, match="kind must be one of"):
        c.erratum("e", "loc", "a", "b", "q", None, 1.0, 1.0, 0.1, kind="wrong",
                  statement="lemma1", evidence="exact")
    monkeypatch.setenv(paths.RESULTS_ENV, str(tmp_path))
    c.close("Lemma 1", "x", 1.0, 1.0, 1e-3, statement="no.such.statement",
            evidence="exact")
    with pytest.raises(ValueError, match="no.such.statement"):
        c.write()


def test_validation_messages():
    with pytest.raises(ValueError, match="2 dimension"):
        validation.as_finite_array([1.0, 2.0], "X", ndim=2)
    with pytest.raises(ValueError, match="non-finite"):
        validation.as_finite_array([[1.0, np.nan]], "X", ndim=2)
    with pytest.raises(ValueError, match=r"shape \(3, any\)"):
        validation.as_finite_array(np.zeros((2, 2)), "X", shape=(3, None))
    with pytest.raises(ValueError, match="an integer >= 0"):
        validation.check_degree(-1)
    with pytest.raises(ValueError, match="an integer >= 0"):
        validation.check_degree(1.5)
    with pytest.raises(ValueError, match="without a decimal point"):
        validation.check_int(5e5, "vocab_size", minimum=1)
    with pytest.raises(ValueError, match="> 0"):
        validation.check_positive(0.0, "lr")


def test_results_dir_is_redirected(tmp_path, monkeypatch):
    monkeypatch.setenv(paths.RESULTS_ENV, str(tmp_path / "r"))
    assert paths.results_dir("glove") == tmp_path / "r" / "glove"
    with pytest.raises(ValueError):
        paths.results_dir("../etc")


def test_every_chapter_has_one_parameters_cell_with_meanings():
    for name in CHAPTERS:
        params = parameters(name)
        assert params, f"{name} has an empty parameters cell"
        for p in params.values():
            assert p.meaning, f"parameter {p.name} of {name} has no one-line meaning"
            # papermill's parameter parser gives up on a line whose comment holds '='
            assert "=" not in p.meaning, f"parameter {p.name} of {name}: no '=' in its comment"


def test_leaky_relu_training_saves_and_reloads(tmp_path):
    from aligned_latents.theory.nonlinear_ae import TrainConfig, encode, train_autoencoder

    rng = np.random.default_rng(0)
    X = rng.normal(size=(256, 6)).astype(np.float32)
    config = TrainConfig(12, lr=0.05, max_epochs=30, batch_size=64)
    m1, h1 = train_autoencoder(X, config, weights_dir=tmp_path, progress=False)
    # the loss goes down: the network learns something
    assert h1["loss"][-1] < 0.8 * h1["loss"][0]
    m2, h2 = train_autoencoder(X, config, weights_dir=tmp_path, progress=False)
    assert h2["loaded"] is True
    np.testing.assert_array_equal(encode(m1, X), encode(m2, X))  # reloaded, not retrained
    with pytest.raises(ValueError, match="optimizer"):
        TrainConfig(4, optimizer="rmsprop")
    with pytest.raises(ValueError, match="non-finite"):
        train_autoencoder(np.full((4, 2), np.inf), TrainConfig(4), progress=False)


def test_networks_trained_side_by_side_equal_serial_ones(tmp_path):
    """train_autoencoders' worker processes give the weights a serial run gives, bit for bit,
    with the histories of a training (not a reload); a second call reloads them all."""
    from safetensors.numpy import load_file

    from aligned_latents.theory.nonlinear_ae import (
        TrainConfig,
        encode,
        train_autoencoder,
        train_autoencoders,
    )

    X = np.random.default_rng(2).normal(size=(600, 5)).astype(np.float32)
    configs = [TrainConfig(16, lr=0.05, max_epochs=6, batch_size=64, seed=s) for s in (0, 1)]
    both = train_autoencoders(X, configs, weights_dir=tmp_path / "par", workers=2,
                              progress=False, desc="net")
    for config, (model, hist) in zip(configs, both):
        serial, s_hist = train_autoencoder(X, config, weights_dir=tmp_path / "ser",
                                           threads=1, progress=False)
        assert "loaded" not in hist and hist["loss"] == s_hist["loss"]
        assert hist["threads"] == 1
        name = config.weights_file(X, "leaky_relu")
        a, b = load_file(tmp_path / "par" / name), load_file(tmp_path / "ser" / name)
        assert a.keys() == b.keys()
        for k in a:
            np.testing.assert_array_equal(a[k], b[k])
        np.testing.assert_array_equal(encode(model, X), encode(serial, X))
    again = train_autoencoders(X, configs, weights_dir=tmp_path / "par", workers=2,
                               progress=False)
    assert all(h["loaded"] for _, h in again)
    assert not list((tmp_path / "par").glob(".train-*"))  # the data's copy is removed
    with pytest.raises(ValueError, match="weights_dir"):
        train_autoencoders(X, configs, weights_dir=None)
    with pytest.raises(ValueError, match="workers"):
        train_autoencoders(X, configs, weights_dir=tmp_path, workers=0)


def test_training_is_seeded():
    from aligned_latents.theory.nonlinear_ae import TrainConfig, encode, train_autoencoder

    X = np.random.default_rng(1).normal(size=(128, 4)).astype(np.float32)
    config = TrainConfig(8, max_epochs=3, batch_size=32, seed=7)
    a, _ = train_autoencoder(X, config, progress=False)
    b, _ = train_autoencoder(X, config, progress=False)
    np.testing.assert_array_equal(encode(a, X), encode(b, X))
