"""Shared fixtures: shrunken configs, a prepared tiny MNIST, a local HTTP file server."""

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


@pytest.fixture(scope="session")
def tiny_mnist(tmp_path_factory) -> Path:
    """Bundled MNIST prepared with 300 training digits (fast to train on)."""
    from condgen.mnist import data as mnist
    from condgen.mnist.config import MnistDataConfig

    out = tmp_path_factory.mktemp("mnist")
    mnist.prepare(MnistDataConfig(max_train_images=300), 0, out, out / "raw")
    return out


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
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield folder, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
