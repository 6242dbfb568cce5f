"""Checksum-verified, atomic downloads.

A download streams into a temporary file beside its destination while hashing it, and is renamed
into place only when its sha256 matches the pinned one; on any failure the temporary file is
removed, so a partial or corrupt file never looks like a finished one.
"""

from __future__ import annotations

import hashlib
import os
import sys
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

from tqdm import tqdm

CHUNK = 1 << 20


class DownloadError(RuntimeError):
    """A download failed (no network, HTTP error, checksum mismatch); the message says the fix."""


def sha256_of(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def download(
    url: str,
    dest: str | Path,
    sha256: str | None,
    *,
    timeout: float = 60.0,
    offline_hint: str = "",
    progress: bool = True,
) -> Path:
    """Fetch ``url`` to ``dest`` unless ``dest`` already holds the file with ``sha256``.

    ``sha256=None`` skips verification (only for user-supplied URLs without a known checksum);
    the hash is then printed so that it can be pinned in params.
    """
    dest = Path(dest)
    if dest.is_file() and sha256 and sha256_of(dest) == sha256.lower():
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
    tmp = Path(tmp_name)
    digest = hashlib.sha256()
    try:
        with os.fdopen(fd, "wb") as out:
            try:
                response = urllib.request.urlopen(url, timeout=timeout)  # noqa: S310
            except urllib.error.HTTPError as err:
                raise DownloadError(
                    f"could not download {url}: the server answered HTTP {err.code} "
                    f"{err.reason}. Check the URL in params."
                ) from err
            except (urllib.error.URLError, OSError) as err:
                reason = getattr(err, "reason", err)
                raise DownloadError(
                    f"could not download {url}: {reason}. {offline_hint}".strip()
                ) from err
            with response:
                total = int(response.headers.get("Content-Length") or 0) or None
                bar = tqdm(
                    total=total,
                    unit="B",
                    unit_scale=True,
                    desc=f"download {dest.name}",
                    disable=not progress,
                    file=sys.stderr,
                )
                received = 0  # counted here: a disabled progress bar counts nothing
                with bar:
                    try:
                        for block in iter(lambda: response.read(CHUNK), b""):
                            out.write(block)
                            digest.update(block)
                            received += len(block)
                            bar.update(len(block))
                    except (urllib.error.URLError, OSError) as err:
                        raise DownloadError(
                            f"download of {url} broke off: {err}. Run the stage again."
                        ) from err
                if total is not None and received != total:
                    raise DownloadError(
                        f"download of {url} is truncated: got {received} of {total} bytes. "
                        "Run the stage again."
                    )
        got = digest.hexdigest()
        if sha256 and got != sha256.lower():
            raise DownloadError(
                f"checksum mismatch for {url}: expected sha256 {sha256.lower()}, got {got}. "
                "The file was discarded; if the server's file changed on purpose, put its "
                "sha256 in params."
            )
        if not sha256:
            print(f"warning: {url} is not pinned; its sha256 is {got}", file=sys.stderr)
        os.replace(tmp, dest)
    finally:
        if tmp.exists():
            tmp.unlink()
    return dest
