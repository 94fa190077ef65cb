"""The Leaky ReLU autoencoder's training loop (paper Appendix H): the stopping rule, the
record of what stopped it, file-order batches identical to a minimal PyTorch loop, and
the weight cache's configuration check."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest
import torch

from aligned_latents.theory import nonlinear_ae as nae


def _data(n=300, d=5, seed=0):
    return np.random.default_rng(seed).normal(size=(n, d)).astype(np.float32)


def _minimal(X, hidden, epochs, lr, batch_size, seed=0):
    """The minimal loop: contiguous slices, SGD with momentum 0.9, mean squared
    error."""
    torch.manual_seed(seed)
    model = nae.make_autoencoder(X.shape[1], hidden)
    opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    data = torch.from_numpy(X)
    losses = []
    for _ in range(epochs):
        total = 0.0
        for s in range(0, len(data), batch_size):
            batch = data[s : s + batch_size]
            loss = torch.nn.functional.mse_loss(model(batch), batch)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            total += float(loss.detach()) * len(batch)
        losses.append(total / len(data))
    return model, losses


def test_file_order_batches_match_the_minimal_loop():
    # no shuffling (the companion code's order): the same weights as the minimal loop,
    # bit for bit, and the epoch loss is the size-weighted mean of the batch losses
    X = _data()
    model, hist = nae.train_autoencoder(
        X, nae.TrainConfig(8, lr=0.05, batch_size=64, max_epochs=3, tol=0.0),
        progress=False, device="cpu")
    ref, losses = _minimal(X, 8, 3, 0.05, 64)
    for p, q in zip(model.parameters(), ref.parameters()):
        assert torch.equal(p, q)
    np.testing.assert_allclose(hist["loss"], losses, rtol=1e-5)
    assert hist["config"]["shuffle"] is False


def test_loss_change_rule_stops_and_is_recorded():
    X = _data(seed=1)
    tol = 2e-3
    _, hist = nae.train_autoencoder(
        X, nae.TrainConfig(8, lr=0.05, batch_size=32, max_epochs=200, tol=tol),
        progress=False, device="cpu")
    loss = np.array(hist["loss"])
    assert hist["stopped"] == nae.STOP_TOL == "loss change < tol"
    assert hist["epochs"] == len(loss) == len(hist["seconds"]) < 200
    assert abs(loss[-1] - loss[-2]) < tol  # the rule fired here ...
    assert np.all(np.abs(np.diff(loss[:-1])) >= tol)  # ... and not before
    assert hist["final_loss"] == loss[-1]
    assert hist["total_seconds"] >= sum(hist["seconds"]) * 0.99


def test_cap_is_recorded():
    _, hist = nae.train_autoencoder(
        _data(), nae.TrainConfig(4, max_epochs=2, tol=0.0), progress=False, device="cpu")
    assert hist["stopped"] == nae.STOP_CAP == "max_epochs cap" and hist["epochs"] == 2


def test_default_cap_is_generous():
    assert nae.DEFAULT_MAX_EPOCHS >= 100


def test_shuffle_is_an_option_and_seeded():
    X = _data(seed=2)
    cfg = {"lr": 0.05, "batch_size": 32, "max_epochs": 2, "tol": 0.0, "seed": 3}
    kw = {"progress": False, "device": "cpu"}
    a, _ = nae.train_autoencoder(X, nae.TrainConfig(6, shuffle=True, **cfg), **kw)
    b, _ = nae.train_autoencoder(X, nae.TrainConfig(6, shuffle=True, **cfg), **kw)
    c, _ = nae.train_autoencoder(X, nae.TrainConfig(6, shuffle=False, **cfg), **kw)
    np.testing.assert_array_equal(nae.encode(a, X), nae.encode(b, X))
    assert not np.array_equal(nae.encode(a, X), nae.encode(c, X))


def test_cache_reloads_only_the_same_configuration(tmp_path):
    X = _data(seed=4)
    kw = {"progress": False, "device": "cpu", "weights_dir": tmp_path}
    shuffled = nae.TrainConfig(6, lr=0.05, batch_size=32, max_epochs=2, tol=0.0,
                               shuffle=True)
    m1, h1 = nae.train_autoencoder(X, shuffled, **kw)
    assert Path(h1["weights_path"]).name == shuffled.weights_file(X)
    m2, h2 = nae.train_autoencoder(X, shuffled, **kw)
    assert h2.get("loaded") is True and h2["stopped"] == h1["stopped"]
    np.testing.assert_array_equal(nae.encode(m1, X), nae.encode(m2, X))
    # another configuration (no shuffling): another file, trained, not reloaded
    in_order = dataclasses.replace(shuffled, shuffle=False)
    _m3, h3 = nae.train_autoencoder(X, in_order, **kw)
    assert "loaded" not in h3 and h3["config"]["shuffle"] is False
    assert h3["weights_path"] != h1["weights_path"]
    _, h4 = nae.train_autoencoder(X, in_order, **kw)
    assert h4.get("loaded") is True
    # other data: another file
    assert shuffled.weights_file(X[:-1]) != shuffled.weights_file(X)
    # a file whose stored configuration differs (another loop version) is retrained
    meta = Path(h3["weights_path"]).with_suffix(".json")
    stored = json.loads(meta.read_text())
    stored["config"]["loop"] = -1
    meta.write_text(json.dumps(stored))
    _, h5 = nae.train_autoencoder(X, in_order, **kw)
    assert "loaded" not in h5


@pytest.mark.parametrize(
    "kwargs",
    [
        {"batch_size": 0},
        {"max_epochs": 0},
        {"lr": 0.0},
        {"tol": -1.0},
        {"momentum": -0.5},
        {"optimizer": "rmsprop"},
        {"max_epochs": 2.5},
    ],
)
def test_bad_arguments(kwargs):
    with pytest.raises(ValueError):
        nae.TrainConfig(4, **kwargs)


def test_bad_data():
    with pytest.raises(ValueError, match="row"):
        nae.train_autoencoder(np.zeros((0, 3), np.float32), nae.TrainConfig(4),
                              progress=False)
    with pytest.raises(ValueError):
        nae.TrainConfig(0)
    with pytest.raises(TypeError, match="TrainConfig"):
        nae.train_autoencoder(_data(20, 3), 4, progress=False)
