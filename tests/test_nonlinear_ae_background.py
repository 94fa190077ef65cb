"""Leaky ReLU networks trained in the background (theory.nonlinear_ae.start_autoencoders):
the weights of a serial one-thread training, bit for bit; the data shared with the
workers through one mapped file; a worker's error or death raised where the networks are
collected; no worker outliving the process that started it (interpreter exit without
collecting, SIGKILL, Ctrl-C while collecting)."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from concurrent.futures.process import BrokenProcessPool

import numpy as np
import pytest
from safetensors.numpy import load_file

from aligned_latents.theory import nonlinear_ae as nae

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="Linux process checks")


def config(seed=0, **kw):
    return nae.TrainConfig(16, lr=0.05, max_epochs=6, batch_size=64, seed=seed, **kw)


@pytest.fixture
def two_cpus(monkeypatch):
    """A machine with a CPU left for the caller, whatever this one has."""
    monkeypatch.setattr(os, "cpu_count", lambda: 2)


def alive(pid: int) -> bool:
    """Whether process ``pid`` exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def wait_gone(pids, seconds=20.0) -> list:
    """The processes of ``pids`` still alive after up to ``seconds``."""
    end = time.monotonic() + seconds
    while time.monotonic() < end and any(alive(p) for p in pids):
        time.sleep(0.1)
    return [p for p in pids if alive(p)]


def test_background_weights_equal_serial_and_data_are_shared(tmp_path, two_cpus):
    import torch
    from threadpoolctl import threadpool_info

    def blas_threads():
        return [i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"]

    torch_before, blas_before = torch.get_num_threads(), blas_threads()
    X = np.random.default_rng(2).normal(size=(600, 5)).astype(np.float32)
    training = nae.start_autoencoders(X, [config()], weights_dir=tmp_path / "bg",
                                      progress=False, desc="net")
    assert training.background and training.workers == 1
    # the caller computes on the CPU left meanwhile
    assert torch.get_num_threads() == 1 and set(blas_threads()) <= {1}
    data = training.data
    assert data is not X and np.array_equal(data, X) and data.flags.writeable
    [(model, hist)] = training.result()
    assert torch.get_num_threads() == torch_before and blas_threads() == blas_before
    assert "loaded" not in hist and hist["threads"] == 1
    serial, s_hist = nae.train_autoencoder(X, config(), weights_dir=tmp_path / "ser",
                                           threads=1, progress=False)
    assert hist["loss"] == s_hist["loss"]
    name = config().weights_file(X, "leaky_relu")
    a, b = load_file(tmp_path / "bg" / name), load_file(tmp_path / "ser" / name)
    assert a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)
    np.testing.assert_array_equal(nae.encode(model, X), nae.encode(serial, X))
    assert not list((tmp_path / "bg").glob(".train-*"))  # the data's file is removed
    assert np.array_equal(data, X)  # ... and its mapping still reads
    with pytest.raises(RuntimeError, match="collected already"):
        training.result()
    # cached now: nothing to train, nothing in the background
    again = nae.start_autoencoders(X, [config()], weights_dir=tmp_path / "bg",
                                   progress=False)
    assert not again.background and again.data is X
    assert again.result()[0][1]["loaded"]
    # workers=1: trained in the caller, one by one, as documented
    here = nae.start_autoencoders(X, [config(1)], weights_dir=tmp_path / "one",
                                  workers=1, progress=False)
    assert not here.background and here.workers == 0


def test_no_background_without_a_spare_cpu(tmp_path, monkeypatch):
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    X = np.zeros((8, 3), dtype=np.float32)
    training = nae.start_autoencoders(X, [config(0), config(1)], weights_dir=tmp_path,
                                      progress=False)
    assert not training.background and training.workers == 2 and training.data is X
    assert not list(tmp_path.glob(".train-*"))  # nothing started before .result()
    with pytest.raises(ValueError, match="workers"):
        nae.start_autoencoders(X, [config()], weights_dir=tmp_path, workers=0)
    with pytest.raises(TypeError, match="TrainConfig"):
        nae.start_autoencoders(X, [], weights_dir=tmp_path)


def test_worker_error_is_raised_where_collected(tmp_path, two_cpus):
    X = np.random.default_rng(0).normal(size=(256, 4)).astype(np.float32)
    bad = nae.TrainConfig(8, lr=1e12, max_epochs=50, batch_size=32)  # diverges
    training = nae.start_autoencoders(X, [bad], weights_dir=tmp_path, progress=False)
    assert training.background
    pids = list(training._pool._processes)
    with pytest.raises(FloatingPointError, match="training diverged"):
        training.result()
    assert not wait_gone(pids) and not list(tmp_path.glob(".train-*"))


def test_killed_worker_is_raised_not_waited_for(tmp_path, two_cpus):
    X = np.random.default_rng(0).normal(size=(4096, 8)).astype(np.float32)
    long = nae.TrainConfig(64, max_epochs=100_000, tol=0.0, batch_size=8)
    training = nae.start_autoencoders(X, [long], weights_dir=tmp_path, progress=False)
    [pid] = list(training._pool._processes)
    os.kill(pid, signal.SIGKILL)
    t0 = time.monotonic()
    with pytest.raises(BrokenProcessPool):
        training.result()
    assert time.monotonic() - t0 < 30 and not list(tmp_path.glob(".train-*"))


#: Starts a long background training, prints its worker's pid, then ``sys.argv[2]``:
#: 'exit' (ends without collecting), 'sleep' (to be killed), 'collect' (to be
#: interrupted while collecting).
SCRIPT = textwrap.dedent("""\
    import os, signal, sys, time
    signal.signal(signal.SIGINT, signal.default_int_handler)
    import numpy as np
    from aligned_latents.theory import nonlinear_ae as nae
    os.cpu_count = lambda: 2
    X = np.random.default_rng(0).normal(size=(4096, 8)).astype(np.float32)
    long = nae.TrainConfig(64, max_epochs=100_000, tol=0.0, batch_size=8)
    t = nae.start_autoencoders(X, [long], weights_dir=sys.argv[1], progress=False)
    print(*t._pool._processes, flush=True)
    if sys.argv[2] == "sleep":
        time.sleep(600)
    elif sys.argv[2] == "collect":
        print("collecting", flush=True)
        t.result()
    """)


@pytest.mark.parametrize("how", ["exit", "sigkill", "ctrl-c"])
def test_no_worker_outlives_its_caller(tmp_path, how):
    mode = {"exit": "exit", "sigkill": "sleep", "ctrl-c": "collect"}[how]
    proc = subprocess.Popen([sys.executable, "-c", SCRIPT, str(tmp_path), mode],
                            stdout=subprocess.PIPE, text=True)
    try:
        pids = [int(p) for p in proc.stdout.readline().split()]
        assert pids and all(alive(p) for p in pids)
        if how == "sigkill":
            time.sleep(1)
            proc.kill()
        elif how == "ctrl-c":
            assert proc.stdout.readline().strip() == "collecting"
            time.sleep(0.5)  # inside .result()
            proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)  # not the training's end: 100,000 epochs
        assert not wait_gone(pids)
    finally:
        proc.kill()
    if how != "sigkill":  # a killed caller cannot remove the data's file
        assert not list(tmp_path.glob(".train-*"))
