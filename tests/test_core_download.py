"""The keras MNIST download path against a real HTTP server on 127.0.0.1."""

import hashlib
import http.server
import io
import threading

import numpy as np
import pytest

from condgen.core.download import DownloadError, download
from condgen.mnist import data as mnist
from condgen.mnist.config import MnistDataConfig


def small_mnist_npz() -> bytes:
    rng = np.random.default_rng(0)
    buffer = io.BytesIO()
    np.savez(
        buffer,
        x_train=rng.integers(0, 256, (30, 28, 28), dtype=np.uint8),
        y_train=np.arange(30, dtype=np.uint8) % 10,
        x_test=rng.integers(0, 256, (10, 28, 28), dtype=np.uint8),
        y_test=np.arange(10, dtype=np.uint8),
    )
    return buffer.getvalue()


def leftovers(folder):
    return sorted(p.name for p in folder.rglob("*") if p.is_file())


def test_keras_source_downloads_verifies_and_prepares(file_server, tmp_path):
    served, url = file_server
    payload = small_mnist_npz()
    (served / "mnist.npz").write_bytes(payload)
    config = MnistDataConfig(
        source="keras", url=f"{url}/mnist.npz", sha256=hashlib.sha256(payload).hexdigest()
    )
    summary = mnist.prepare(config, 0, tmp_path / "out", tmp_path / "raw")
    assert (summary["train"], summary["test"]) == (30, 10)
    x, y = mnist.load_split(tmp_path / "out" / "train.npz")
    assert x.shape == (30, 28, 28) and x.dtype == np.uint8 and list(y[:3]) == [0, 1, 2]
    assert leftovers(tmp_path / "raw") == ["mnist.npz"]  # no temp files left behind


@pytest.mark.parametrize("progress", [True, False])
def test_a_complete_download_is_accepted_with_or_without_a_progress_bar(
    file_server, tmp_path, progress
):
    served, url = file_server
    payload = small_mnist_npz()
    (served / "mnist.npz").write_bytes(payload)
    digest = hashlib.sha256(payload).hexdigest()
    target = download(f"{url}/mnist.npz", tmp_path / "out" / "m.npz", digest, progress=progress)
    assert target.read_bytes() == payload and leftovers(tmp_path / "out") == ["m.npz"]


def test_checksum_mismatch_leaves_no_file(file_server, tmp_path):
    served, url = file_server
    (served / "mnist.npz").write_bytes(small_mnist_npz())
    config = MnistDataConfig(source="keras", url=f"{url}/mnist.npz", sha256="0" * 64)
    with pytest.raises(DownloadError, match="checksum mismatch.*expected sha256 0000"):
        mnist.prepare(config, 0, tmp_path / "out", tmp_path / "raw")
    assert leftovers(tmp_path / "raw") == []
    assert not (tmp_path / "out" / "train.npz").exists()


def test_offline_error_says_how_to_switch_to_bundled(tmp_path):
    # A port nothing listens on: the connection is refused at once, as offline.
    with socket_closed_port() as port:
        config = MnistDataConfig(source="keras", url=f"http://127.0.0.1:{port}/mnist.npz")
        with pytest.raises(DownloadError, match="source: bundled"):
            mnist.prepare(config, 0, tmp_path / "out", tmp_path / "raw")
    assert leftovers(tmp_path / "raw") == []


def test_http_error_is_reported(file_server, tmp_path):
    _, url = file_server
    with pytest.raises(DownloadError, match="404"):
        download(f"{url}/missing.npz", tmp_path / "f.npz", "0" * 64, progress=False)
    assert leftovers(tmp_path) == []


class TruncatingHandler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Length", "1000")
        self.end_headers()
        self.wfile.write(b"x" * 400)  # then hang up

    def log_message(self, *args):
        pass


def test_truncated_download_is_refused(tmp_path):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), TruncatingHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/mnist.npz"
        with pytest.raises(DownloadError, match="truncated|broke off"):
            download(url, tmp_path / "mnist.npz", "0" * 64, progress=False)
    finally:
        server.shutdown()
        server.server_close()
    assert leftovers(tmp_path) == []


def test_existing_verified_file_is_not_fetched_again(tmp_path):
    target = tmp_path / "mnist.npz"
    target.write_bytes(b"cached")
    digest = hashlib.sha256(b"cached").hexdigest()
    # The URL is unreachable, so success proves no request was made.
    assert download("http://127.0.0.1:9/none", target, digest, progress=False) == target


def test_corrupt_npz_with_matching_checksum_is_a_clear_error(file_server, tmp_path):
    served, url = file_server
    (served / "mnist.npz").write_bytes(b"not a zip file at all")
    config = MnistDataConfig(
        source="keras",
        url=f"{url}/mnist.npz",
        sha256=hashlib.sha256(b"not a zip file at all").hexdigest(),
    )
    with pytest.raises(mnist.DataError, match="not a readable MNIST npz"):
        mnist.prepare(config, 0, tmp_path / "out", tmp_path / "raw")


class socket_closed_port:
    """A localhost port that was just free (bound, then released)."""

    def __enter__(self):
        import socket

        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        sock.close()
        return self.port

    def __exit__(self, *exc):
        return False
