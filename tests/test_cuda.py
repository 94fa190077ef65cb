"""The same results on a GPU as on the CPU (issue 20, item 3). Skipped without CUDA: CI has no
GPU, so this module never gates a merge; run it on a machine with one
(``python -m pytest -q tests/test_cuda.py``).

On a GloVe subset (the :data:`N_WORDS` most frequent words of GloVe 6B 50d):

* the Leaky ReLU autoencoder of Appendix H (width 400, SGD, lr 0.1, momentum 0.9, batches of
  1024, file order), trained on the CPU and on the GPU from the same seed, has the same
  training history: the same number of epochs, the same stopping rule and every epoch's loss
  within :data:`LOSS_RTOL` (relative);
* Table 1's metrics of the two trained networks (word similarity on MTurk-771 and MEN,
  analogy, analogy accuracy under both protocols) agree within :data:`METRIC_ATOL`, and those
  of the original embeddings exactly where they do not depend on the device;
* the GPU's exhaustive analogy search and the CPU's pruned search give identical predictions
  on both protocols (paper and standard 3CosAdd), on the same latent codes;
* a rerun's ``run.json`` names the GPU, and the device that trained each network.

Tolerances: float32 training on different hardware sums in different orders, so losses
drift by rounding only (checked by hand on an NVIDIA H200 on 300,000 words: 1e-9 relative
over all 19 epochs); :data:`LOSS_RTOL` allows a thousand times that. The metrics are
averages of cosines of the trained codes: :data:`METRIC_ATOL` = 1e-5.
"""
from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.skipif(not torch.cuda.is_available(),
                                reason="no CUDA device: the CPU/GPU agreement is checked "
                                       "only on a machine with a GPU")

#: Words of the GloVe subset (the most frequent ones).
N_WORDS = 50_000
#: Relative tolerance of every epoch's training loss, CPU against CUDA.
LOSS_RTOL = 1e-6
#: Absolute tolerance of every Table 1 metric, CPU-trained against CUDA-trained network.
METRIC_ATOL = 1e-5
#: Epoch cap of the test (the stopping rule ends the training before it on this subset).
MAX_EPOCHS = 40


@pytest.fixture(scope="module")
def glove():
    from aligned_latents.applications import glove as gl
    from aligned_latents.data.embeddings import load_embeddings
    from aligned_latents.metrics import wsim as ws

    emb = load_embeddings(None, N_WORDS)
    lam1, u1 = ws.top_singular(emb.vectors)
    return emb.vectors, lam1 * u1, gl.load_benchmarks(emb)


@pytest.fixture(scope="module")
def trained(glove):
    from aligned_latents.theory import nonlinear_ae as nae

    X, _, _ = glove
    out = {}
    for dev in ("cpu", "cuda"):
        config = nae.TrainConfig(400, optimizer="sgd", lr=0.1, momentum=0.9,
                                 batch_size=1024, max_epochs=MAX_EPOCHS, tol=1e-4, seed=0)
        out[dev] = nae.train_autoencoder(X, config, device=dev, threads=1, progress=False,
                                         desc=f"Leaky ReLU AE ({dev})")
    return out


def test_training_history_agrees(trained):
    (_, cpu), (_, gpu) = trained["cpu"], trained["cuda"]
    assert cpu["device"] == "cpu"
    assert gpu["device"].startswith("cuda:") and torch.cuda.get_device_name(0) in gpu["device"]
    assert cpu["stopped"] == gpu["stopped"]
    assert len(cpu["loss"]) == len(gpu["loss"]) > 1
    np.testing.assert_allclose(gpu["loss"], cpu["loss"], rtol=LOSS_RTOL, atol=0)


def test_table1_metrics_agree(glove, trained):
    from aligned_latents.applications import glove as gl
    from aligned_latents.theory import nonlinear_ae as nae

    X, origin, bench = glove
    rows = {}
    for dev, (net, _) in trained.items():
        net = net.to("cpu")
        Z, o = nae.encode(net, X), nae.encode(net, origin[None, :])[0]
        rows[dev] = gl.evaluate(Z, o, bench, device=dev)
    for col in gl.TABLE1_COLUMNS[1:]:
        assert rows["cuda"][col] == pytest.approx(rows["cpu"][col], abs=METRIC_ATOL), col
    original = {dev: gl.evaluate(X, origin, bench, device=dev) for dev in ("cpu", "cuda")}
    for col in ("analogy_accuracy", "analogy_accuracy_standard"):
        assert original["cuda"][col] == original["cpu"][col], col


@pytest.mark.parametrize("codes", ["original", "trained"])
def test_analogy_predictions_identical_on_both_protocols(glove, trained, codes):
    from aligned_latents.metrics import analogy as an
    from aligned_latents.theory import nonlinear_ae as nae

    X, _, bench = glove
    Z = X if codes == "original" else nae.encode(trained["cpu"][0].to("cpu"), X)
    cpu = an.analogy_accuracy(Z, bench.questions, device="cpu", search="pruned",
                              return_predictions=True)
    gpu = an.analogy_accuracy(Z, bench.questions, device="cuda", search="exhaustive",
                              return_predictions=True)
    for a, b in zip(cpu, gpu):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


def test_run_json_names_the_gpu_and_the_device_of_each_network(tmp_path, monkeypatch):
    """A reduced CMap rerun (the sizes of tests/test_chapter_cmap.py) trains its Leaky ReLU
    autoencoder afresh (weights in a temporary folder) on the GPU."""
    from aligned_latents.runs.rerun import execute_chapter

    monkeypatch.setenv("ALIGNED_LATENTS_WEIGHTS", str(tmp_path / "weights"))
    params = {"sim_n_genes": 120, "sim_n_drugs": 80, "sim_n_controls": 40,
              "sim_cell_types": ["MCF7", "PC3"], "cell_a": "PC3", "cell_b": "MCF7",
              "degrees": [3, 7], "relu_hidden": 64, "relu_max_epochs": 2,
              "sweep_shared_on_top": [0.0, 0.5], "run_fluvaccine": False}
    run = execute_chapter("cmap", params, tmp_path / "run", progress=False,
                          verdicts=False, html=False)
    name = torch.cuda.get_device_name(0)
    assert name in run.record["device"]
    trained = [n for n in run.record["networks"] if not n["reloaded"]]
    assert trained, f"no trained network in run.json: {run.record['networks']}"
    assert all(n["device"].startswith("cuda:") and name in n["device"] for n in trained)
