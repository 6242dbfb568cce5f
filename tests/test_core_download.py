"""Downloads against real HTTP servers on 127.0.0.1: the keras MNIST path, retries, resuming a
partial file, timeouts, checksums."""

import dataclasses
import hashlib
import http.server
import io
import re
import threading

import numpy as np
import pytest

from condgen.core.download import DownloadError, download, partial_path
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


# --- a scripted server: broken transfers, ranges, errors, silence -----------------------------


@dataclasses.dataclass
class Script:
    """What the server does with each GET, and what it saw (``requests``: Range header, bytes
    of body sent)."""

    payload: bytes = b""
    ranges: bool = True  # answer ``Range: bytes=N-`` with 206; else ignore it and send all (200)
    drop_after: int = 0  # with ``drops``: hang up after this many bytes of the body ...
    drops: int = 0  # ... on the first ``drops`` requests
    errors: int = 0  # answer the first ``errors`` requests with ``error`` ...
    error: int = 503
    missing: bool = False  # answer every request with 404
    silent: bool = False  # read the request, then send nothing until the test ends
    requests: list = dataclasses.field(default_factory=list)
    release: threading.Event = dataclasses.field(default_factory=threading.Event)


class ScriptedHandler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        script, n = self.server.script, len(self.server.script.requests)
        seen = {"range": self.headers.get("Range"), "sent": 0}
        script.requests.append(seen)
        if script.silent:
            script.release.wait(30)
            return
        if script.missing or n < script.errors:
            self.send_response(404 if script.missing else script.error)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        size = len(script.payload)
        match = re.fullmatch(r"bytes=(\d+)-", seen["range"] or "")
        start = int(match.group(1)) if match and script.ranges else 0
        if start >= size > 0:
            self.send_response(416)
            self.send_header("Content-Range", f"bytes */{size}")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_response(206 if start else 200)
        if start:
            self.send_header("Content-Range", f"bytes {start}-{size - 1}/{size}")
        body = script.payload[start:]
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if n < script.drops:
            body = body[: script.drop_after]  # then hang up
        self.wfile.write(body)
        seen["sent"] = len(body)

    def log_message(self, *args):
        pass


@pytest.fixture()
def scripted_server():
    """``start(script) -> url``: an HTTP server on 127.0.0.1 that follows ``script``."""
    servers = []

    def start(script: Script) -> str:
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), ScriptedHandler)
        server.script = script
        threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}/data.bin"

    yield start
    for server in servers:
        server.script.release.set()
        server.shutdown()
        server.server_close()


PAYLOAD = np.random.default_rng(1).bytes(300_000)
DIGEST = hashlib.sha256(PAYLOAD).hexdigest()


def test_a_transfer_broken_off_once_is_retried_and_continued(scripted_server, tmp_path, capsys):
    script = Script(PAYLOAD, drop_after=100_000, drops=1)
    url = scripted_server(script)
    target = download(url, tmp_path / "data.bin", DIGEST, progress=False, backoff=0.01)
    assert target.read_bytes() == PAYLOAD and leftovers(tmp_path) == ["data.bin"]
    assert script.requests == [
        {"range": None, "sent": 100_000},
        {"range": "bytes=100000-", "sent": 200_000},  # only the rest
    ]
    retries = [line for line in capsys.readouterr().err.splitlines() if "retrying" in line]
    assert len(retries) == 1 and "broke off after 100000 of 300000 bytes" in retries[0]


def test_a_part_left_by_a_killed_run_is_continued_with_a_range_request(scripted_server, tmp_path):
    partial_path(tmp_path / "data.bin").write_bytes(PAYLOAD[:150_000])
    script = Script(PAYLOAD)
    target = download(scripted_server(script), tmp_path / "data.bin", DIGEST, progress=False)
    assert target.read_bytes() == PAYLOAD and leftovers(tmp_path) == ["data.bin"]
    assert script.requests == [{"range": "bytes=150000-", "sent": 150_000}]


def test_a_complete_part_is_verified_and_renamed(scripted_server, tmp_path):
    # A run killed between the last byte and the rename: the server has nothing more (416).
    partial_path(tmp_path / "data.bin").write_bytes(PAYLOAD)
    script = Script(PAYLOAD)
    target = download(scripted_server(script), tmp_path / "data.bin", DIGEST, progress=False)
    assert target.read_bytes() == PAYLOAD and leftovers(tmp_path) == ["data.bin"]
    assert script.requests == [{"range": "bytes=300000-", "sent": 0}]


def test_a_server_without_range_support_starts_over(scripted_server, tmp_path, capsys):
    # Bytes that are not the file's: kept, they would fail the checksum.
    partial_path(tmp_path / "data.bin").write_bytes(b"stale" * 1000)
    script = Script(PAYLOAD, ranges=False, drop_after=100_000, drops=1)
    target = download(scripted_server(script), tmp_path / "data.bin", DIGEST, progress=False)
    assert target.read_bytes() == PAYLOAD and leftovers(tmp_path) == ["data.bin"]
    assert script.requests == [
        {"range": "bytes=5000-", "sent": 100_000},
        {"range": "bytes=100000-", "sent": 300_000},
    ]
    assert "does not resume; starting over" in capsys.readouterr().err


def test_server_errors_are_retried_until_the_file_comes(scripted_server, tmp_path, capsys):
    script = Script(PAYLOAD, errors=2)
    target = download(scripted_server(script), tmp_path / "data.bin", DIGEST, progress=False)
    assert target.read_bytes() == PAYLOAD and len(script.requests) == 3
    err = capsys.readouterr().err
    assert err.count("HTTP 503 Service Unavailable; retrying") == 2


@pytest.mark.parametrize(("error", "attempts"), [(503, 4), (429, 4), (404, 1), (403, 1)])
def test_only_transient_http_errors_are_retried(scripted_server, tmp_path, error, attempts):
    script = Script(PAYLOAD, errors=99, error=error)
    with pytest.raises(DownloadError, match=f"HTTP {error}") as err:
        download(scripted_server(script), tmp_path / "data.bin", DIGEST, progress=False)
    assert len(script.requests) == attempts and leftovers(tmp_path) == []
    assert ("(4 attempts)" in str(err.value)) == (attempts == 4)


def test_a_server_that_never_answers_times_out(scripted_server, tmp_path):
    url = scripted_server(script := Script(PAYLOAD, silent=True))
    with pytest.raises(DownloadError, match=r"no answer within the timeout of 0\.3 s") as err:
        download(url, tmp_path / "data.bin", DIGEST, timeout=0.3, progress=False)
    assert url in str(err.value) and "timeout_seconds" in str(err.value)
    assert len(script.requests) == 4 and leftovers(tmp_path) == []


def test_a_transfer_that_keeps_breaking_off_keeps_its_part(scripted_server, tmp_path):
    script = Script(PAYLOAD, drop_after=40_000, drops=99)
    url = scripted_server(script)
    with pytest.raises(DownloadError, match="broke off.*kept in .*data.bin.part.*run the stage"):
        download(url, tmp_path / "data.bin", DIGEST, progress=False)
    assert partial_path(tmp_path / "data.bin").stat().st_size == 4 * 40_000
    # The next run continues where the last one stopped.
    script.drops = 0
    assert download(url, tmp_path / "data.bin", DIGEST, progress=False).read_bytes() == PAYLOAD
    assert script.requests[-1] == {"range": "bytes=160000-", "sent": 140_000}
    assert leftovers(tmp_path) == ["data.bin"]


def test_checksum_mismatch_of_a_continued_file_removes_the_part(scripted_server, tmp_path):
    partial_path(tmp_path / "data.bin").write_bytes(b"x" * 100_000)  # not the file's first bytes
    url = scripted_server(Script(PAYLOAD))
    with pytest.raises(DownloadError, match="checksum mismatch.*run the stage again"):
        download(url, tmp_path / "data.bin", DIGEST, progress=False)
    assert leftovers(tmp_path) == []  # the next run starts clean
    assert download(url, tmp_path / "data.bin", DIGEST, progress=False).read_bytes() == PAYLOAD


def test_a_second_download_of_the_same_file_waits_for_the_first(
    scripted_server, tmp_path, capsys, monkeypatch
):
    script = Script(PAYLOAD)
    url = scripted_server(script)
    arrived, go_on = threading.Event(), threading.Event()
    serve = ScriptedHandler.do_GET

    def held_get(handler):  # the first request is answered only when the test says so
        arrived.set()
        go_on.wait(10)
        serve(handler)

    monkeypatch.setattr(ScriptedHandler, "do_GET", held_get)
    results = []

    def fetch_it():
        results.append(download(url, tmp_path / "data.bin", DIGEST, progress=False))

    threads = [threading.Thread(target=fetch_it) for _ in range(2)]
    threads[0].start()
    assert arrived.wait(10)
    threads[1].start()
    threads[1].join(0.3)  # long enough to reach the lock, which holds it
    go_on.set()
    for thread in threads:
        thread.join(10)
    assert results == [tmp_path / "data.bin"] * 2 and len(script.requests) == 1
    assert (tmp_path / "data.bin").read_bytes() == PAYLOAD and leftovers(tmp_path) == ["data.bin"]
    assert "waiting for another download of data.bin.part" in capsys.readouterr().err
