"""Small file helpers that import nothing heavy: digests and all-or-nothing writes."""

from __future__ import annotations

import hashlib
import os
import signal
from collections.abc import Callable
from pathlib import Path


def file_digest(path: str | Path) -> str:
    """The md5 of a file's bytes (what DVC records for a file)."""
    digest = hashlib.md5()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_atomic(path: Path, payload: bytes, *, fault_at_half: bool = False) -> None:
    """Write ``payload`` to ``path`` whole or not at all (temporary name, fsync, rename)."""
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as handle:
        if fault_at_half:
            handle.write(payload[: len(payload) // 2])
            handle.flush()
            os.fsync(handle.fileno())
            os.kill(os.getpid(), signal.SIGKILL)
        handle.write(payload)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def write_text_atomic(path: str | Path, text: str) -> None:
    """``text`` to ``path``, whole or not at all."""
    write_atomic(Path(path), text.encode())


def save_atomic(path: str | Path, write: Callable[[Path], object]) -> Path:
    """``write(tmp)`` to a temporary file beside ``path``, then renamed to ``path``.

    The temporary name keeps the suffix, so that Keras, Pillow and Matplotlib pick the format
    from it; a write that fails or is killed never leaves a half file under the real name.
    """
    path = Path(path)
    tmp = path.with_name(f".{path.stem}.part{path.suffix}")
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return path
