"""Checksum-verified, resumable, atomic downloads.

A download streams into ``<dest>.part`` beside its destination and is renamed into place only
when its sha256 matches the pinned one, so a partial or corrupt file never looks like a finished
one. The sha256 is computed over the whole file, the bytes of a continued ``.part`` included.

Transient failures (a refused or reset connection, a transfer that breaks off, a timeout, HTTP
5xx and 429) are retried a few times with exponential backoff, one line on stderr per retry. Each
retry continues the ``.part`` file with an HTTP ``Range`` request, and so does a later run after
an interrupted one; a server that ignores ``Range`` sends the whole file, which then starts over
from byte 0. Permanent failures (HTTP 404, 403 and the other 4xx, an unknown host) fail at
once. A checksum mismatch removes the ``.part`` file so that the next run starts clean.

``timeout`` bounds the connect and every single read, so a server that accepts a connection and
then sends nothing fails instead of hanging. A second process asking for the same file waits for
the first one (a lock on the ``.part`` file) instead of writing into it too.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import http.client
import os
import re
import socket
import ssl
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from tqdm import tqdm

try:
    import fcntl
except ImportError:  # not POSIX: no lock, so two processes must not fetch one file at once
    fcntl = None

CHUNK = 1 << 20
ATTEMPTS = 4  # tries per download, the first one included
BACKOFF_SECONDS = 1.0  # the wait before the first retry; doubled for each further one

_TRANSIENT_ERRNOS = {errno.ENETUNREACH, errno.ENETDOWN, errno.EHOSTUNREACH, errno.ETIMEDOUT}


class DownloadError(RuntimeError):
    """A download failed (no network, HTTP error, checksum mismatch); the message says the fix."""


class _BrokenOff(Exception):
    """The server ended a transfer early or resumed it at the wrong byte: worth a retry."""


def _hash(path: str | Path) -> hashlib._Hash:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(CHUNK), b""):
            digest.update(block)
    return digest


def sha256_of(path: str | Path) -> str:
    return _hash(path).hexdigest()


def partial_path(dest: str | Path) -> Path:
    """Where an unfinished download of ``dest`` is kept: ``<dest>.part``."""
    dest = Path(dest)
    return dest.with_name(dest.name + ".part")


def _transient(err: BaseException, timeout: float) -> str | None:
    """What failed, if ``err`` is worth another attempt; None for a permanent failure."""
    if isinstance(err, _BrokenOff):
        return str(err)
    if isinstance(err, urllib.error.HTTPError):
        if err.code >= 500 or err.code == 429:
            return f"the server answered HTTP {err.code} {err.reason}"
        return None
    reason = err.reason if isinstance(err, urllib.error.URLError) else err
    if isinstance(reason, TimeoutError):
        return f"no answer within the timeout of {timeout:g} s"
    if isinstance(reason, socket.gaierror):  # an unknown host stays unknown; a busy DNS may not
        return str(reason) if reason.errno == socket.EAI_AGAIN else None
    if isinstance(reason, ConnectionError | ssl.SSLEOFError | http.client.HTTPException):
        return str(reason) or type(reason).__name__
    if isinstance(reason, OSError) and reason.errno in _TRANSIENT_ERRNOS:
        return str(reason)
    return None


def _content_range(value: str | None) -> tuple[int | None, int | None]:
    """(first byte, total size) of a ``Content-Range`` header; None for what it does not say."""
    match = re.fullmatch(r"\s*bytes\s+(?:(\d+)-\d+|\*)/(\d+|\*)\s*", value or "")
    if not match:
        return None, None
    first, total = match.groups()
    return (int(first) if first else None), (int(total) if total != "*" else None)


@contextlib.contextmanager
def _locked(part: Path) -> Iterator[BinaryIO]:
    """``part`` opened for appending, and locked so that no other process writes into it."""
    while True:
        fh = open(part, "ab")  # noqa: SIM115 - closed below or handed to the caller
        if fcntl is None:
            break
        try:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                print(f"waiting for another download of {part.name} to finish", file=sys.stderr)
                fcntl.flock(fh, fcntl.LOCK_EX)
            # The holder may have renamed or removed the file meanwhile: then lock the new one.
            if part.exists() and os.path.samestat(os.fstat(fh.fileno()), part.stat()):
                break
        except BaseException:
            fh.close()
            raise
        fh.close()
    try:
        yield fh
    finally:
        fh.close()


def _size(fh: BinaryIO) -> int:
    fh.flush()
    return os.fstat(fh.fileno()).st_size


def _attempt(
    url: str, fh: BinaryIO, part: Path, timeout: float, progress: bool, validator: list[str]
) -> hashlib._Hash:
    """One request appending the rest of the file to ``fh`` (all of it when ``fh`` is empty);
    returns the sha256 state of the whole file so far, the bytes kept before included.

    ``validator`` holds the ETag or Last-Modified of an earlier attempt: sent as ``If-Range``,
    it makes a server whose file changed meanwhile send the whole new file instead of a range.
    """
    have = _size(fh)
    headers = {"Range": f"bytes={have}-"} if have else {}
    if have and validator:
        headers["If-Range"] = validator[0]
    try:
        response = urllib.request.urlopen(  # noqa: S310 - http(s) URLs from params
            urllib.request.Request(url, headers=headers), timeout=timeout
        )
    except urllib.error.HTTPError as err:
        if err.code != 416 or not have:
            raise
        err.close()
        if _content_range(err.headers.get("Content-Range"))[1] == have:
            return _hash(part)  # the part is the whole file (the run ended before its rename)
        fh.truncate(0)  # the part does not fit the server's file
        raise _BrokenOff(f"the server's file is shorter than the {have} bytes kept") from err
    with response:
        etag = response.headers.get("ETag") or ""
        stamp = (
            etag if etag and not etag.startswith("W/") else response.headers.get("Last-Modified")
        )
        validator[:] = [stamp] if stamp else []
        length = response.headers.get("Content-Length")
        length = int(length) if length and length.isdigit() else None
        if have and response.status == 206:
            first, total = _content_range(response.headers.get("Content-Range"))
            if first != have:
                fh.truncate(0)
                raise _BrokenOff(f"the server resumed at byte {first} instead of {have}")
            print(f"continuing {part} from byte {have}", file=sys.stderr)
            digest = _hash(part)  # the checksum covers the whole file
        else:
            digest = hashlib.sha256()
            if have:
                print(f"{url}: the server does not resume; starting over", file=sys.stderr)
                fh.truncate(0)
                have = 0
            total = length
        if total is None and length is not None:
            total = have + length
        received = 0  # counted here: a disabled progress bar counts nothing
        bar = tqdm(
            total=total,
            initial=have,
            unit="B",
            unit_scale=True,
            desc=f"download {part.name.removesuffix('.part')}",
            disable=not progress,
            file=sys.stderr,
        )
        with bar:
            # read1 hands over what has arrived, so little is lost when the connection drops.
            for block in iter(lambda: response.read1(CHUNK), b""):
                try:
                    fh.write(block)
                except OSError as err:
                    raise DownloadError(f"could not write {part}: {err}") from err
                digest.update(block)
                received += len(block)
                bar.update(len(block))
        if length is not None and received < length:
            raise _BrokenOff(
                f"the transfer broke off after {have + received} of {have + length} bytes"
            )
    return digest


def download(
    url: str,
    dest: str | Path,
    sha256: str | None,
    *,
    timeout: float = 60.0,
    offline_hint: str = "",
    progress: bool = True,
    attempts: int = ATTEMPTS,
    backoff: float | None = None,
) -> Path:
    """Fetch ``url`` to ``dest`` unless ``dest`` already holds the file with ``sha256``.

    ``sha256=None`` skips verification (only for user-supplied URLs without a known checksum);
    the hash is then printed so that it can be pinned in params. ``timeout`` (seconds) bounds the
    connect and each read; transient failures are tried ``attempts`` times in all, waiting
    ``backoff`` seconds (default :data:`BACKOFF_SECONDS`) before the first retry and twice as long
    before each further one.
    """
    if attempts < 1:
        raise ValueError(f"attempts must be at least 1, not {attempts}")
    dest = Path(dest)
    want = sha256.lower() if sha256 else None
    if want and dest.is_file() and sha256_of(dest) == want:
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = partial_path(dest)
    delay = BACKOFF_SECONDS if backoff is None else backoff
    with _locked(part) as fh:
        try:
            if want and dest.is_file() and sha256_of(dest) == want:
                return dest  # another process downloaded it while this one waited
            validator: list[str] = []
            for attempt in range(1, attempts + 1):
                try:
                    digest = _attempt(url, fh, part, timeout, progress, validator)
                    break
                except (
                    _BrokenOff,
                    urllib.error.URLError,
                    OSError,
                    http.client.HTTPException,
                ) as err:
                    what = _transient(err, timeout)
                    if what is None:
                        raise _permanent(url, err, offline_hint) from err
                    if attempt == attempts:
                        raise _gave_up(url, what, attempts, part, _size(fh), offline_hint) from err
                    wait = delay * 2 ** (attempt - 1)
                    print(
                        f"download of {url}: {what}; retrying in {wait:g} s "
                        f"(attempt {attempt + 1} of {attempts})",
                        file=sys.stderr,
                    )
                    time.sleep(wait)
            fh.flush()
            got = digest.hexdigest()
            if want and got != want:
                part.unlink()
                raise DownloadError(
                    f"checksum mismatch for {url}: expected sha256 {want}, got {got}. The file "
                    "was discarded; run the stage again to download it afresh, and if that fails "
                    "the same way, the server's file changed: put its sha256 in params if that "
                    "was on purpose."
                )
            if not want:
                print(f"warning: {url} is not pinned; its sha256 is {got}", file=sys.stderr)
            if fcntl is None:
                fh.close()  # elsewhere an open file cannot be renamed
            os.replace(part, dest)
        finally:
            # An empty part (nothing was received) is no use for resuming.
            with contextlib.suppress(OSError):
                if not fh.closed and _size(fh) == 0 and part.exists():
                    part.unlink()
    return dest


def _permanent(url: str, err: BaseException, offline_hint: str) -> DownloadError:
    if isinstance(err, urllib.error.HTTPError):
        return DownloadError(
            f"could not download {url}: the server answered HTTP {err.code} {err.reason}. "
            "Check the URL in params."
        )
    reason = getattr(err, "reason", err)
    return DownloadError(f"could not download {url}: {reason}. {offline_hint}".strip())


def _gave_up(
    url: str, what: str, attempts: int, part: Path, kept: int, offline_hint: str
) -> DownloadError:
    tries = f"{attempts} attempts" if attempts > 1 else "1 attempt"
    if kept:
        advice = f"The {kept} bytes received are kept in {part}; run the stage again to continue."
    elif "timeout" in what:
        advice = "Check the network, or raise timeout_seconds in params for a slow server."
    else:
        advice = offline_hint or "Check the network and run the stage again."
    return DownloadError(f"could not download {url}: {what} ({tries}). {advice}")
