"""Shared fixtures: shrunken configs, a prepared tiny MNIST, a local HTTP file server, and
download retries that wait 10 ms instead of seconds."""

from __future__ import annotations

import functools
import http.server
import os
import threading
from pathlib import Path

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
os.environ.setdefault("DO_NOT_TRACK", "true")

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def _quick_download_retries(monkeypatch):
    """Retries of a failed download wait 10 ms, so offline tests take no seconds."""
    from condgen.core import download

    monkeypatch.setattr(download, "BACKOFF_SECONDS", 0.01)


@pytest.fixture(scope="session")
def tiny_mnist(tmp_path_factory) -> Path:
    """Bundled MNIST prepared with 300 training digits (fast to train on)."""
    from condgen.mnist import data as mnist
    from condgen.mnist.config import MnistDataConfig

    out = tmp_path_factory.mktemp("mnist")
    mnist.prepare(MnistDataConfig(max_train_images=300), 0, out, out / "raw")
    return out


# Trains one model in a child process, as the train stage does (no MLflow unless asked).
_TRAIN_CHILD = """
import dataclasses, json, sys
from condgen import families
spec = json.loads(sys.argv[1])
model = families.MODELS[spec["model"]]
family = families.family_of(model)
config = families.module(family, "config").TRAIN_CONFIG(**spec["config"])
families.module(family, "train").train(
    model, config, 0, spec["data"], spec["out"], spec["ckpt"],
    log_to_mlflow=spec.get("mlflow", False), verbose=0,
)
"""


def _train_in_child(model: str, config, data, out, ckpt, *, kill_at: str = "", env=None):
    """Train ``model`` in a new Python process; with ``kill_at`` (CONDGEN_KILL_AT) it must die
    by SIGKILL there. Returns the finished process."""
    import dataclasses
    import json
    import signal
    import subprocess
    import sys

    spec = {
        "model": model,
        "config": dataclasses.asdict(config),
        "data": str(data),
        "out": str(out),
        "ckpt": str(ckpt),
        "mlflow": bool(env),
    }
    child_env = {**os.environ, **(env or {})}
    child_env.pop("CONDGEN_KILL_AT", None)
    if kill_at:
        child_env["CONDGEN_KILL_AT"] = kill_at
    proc = subprocess.run(
        [sys.executable, "-c", _TRAIN_CHILD, json.dumps(spec)],
        env=child_env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    expected = -signal.SIGKILL if kill_at else 0
    assert proc.returncode == expected, proc.stderr[-3000:]
    return proc


def _weights_digest(path) -> str:
    """A hash of a saved model's weights (the .keras file itself carries its save date)."""
    import hashlib

    import keras

    import condgen.core.layers  # noqa: F401  (registers the custom layers for loading)

    digest = hashlib.sha256()
    for w in keras.models.load_model(path, compile=False).get_weights():
        digest.update(w.tobytes())
    return digest.hexdigest()


@pytest.fixture()
def train_in_child():
    """Train a model in a new Python process (see ``_train_in_child``)."""
    return _train_in_child


@pytest.fixture()
def weights_digest():
    """A hash of a saved model's weights."""
    return _weights_digest


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep test output clean
        pass


@pytest.fixture()
def file_server(tmp_path):
    """(folder, base_url): an HTTP server on 127.0.0.1 serving ``folder``."""
    folder = tmp_path / "served"
    folder.mkdir()
    handler = functools.partial(_QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    # A short poll interval: shutting the server down then takes 50 ms, not half a second.
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    try:
        yield folder, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
