"""Fingerprints of the user's own files that a stage reads from outside the project.

DVC re-runs a stage when its deps change, but a ``folder`` data source or a style image given
by path lives wherever the user keeps it, so it cannot be a fixed dep in ``dvc.yaml``. The
stage ``inputs`` runs on every ``dvc repro`` (``always_changed``), hashes those files
and writes ``data/inputs/<family>.json``; the family's prepare (or style) stage depends on that
file, so editing, adding or removing one of the user's images re-runs exactly what reads them.
A cache of (size, mtime) -> md5 keeps the check quick for big folders.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from condgen.core.files import file_digest, write_atomic


def files_under(root: str | Path) -> list[Path]:
    """Every visible regular file under ``root`` (none if it is not a folder)."""
    root = Path(root)
    if not str(root) or not root.is_dir():
        return []
    return sorted(
        p
        for p in root.rglob("*")
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(root).parts)
    )


def fingerprint(paths: list[Path], cache_file: str | Path) -> dict:
    """{"files", "bytes", "md5"} of ``paths`` (their names and contents, in order)."""
    cache_path = Path(cache_file)
    try:
        cache = json.loads(cache_path.read_text())
    except (OSError, ValueError):
        cache = {}
    fresh: dict[str, list] = {}
    digest = hashlib.md5()
    total = 0
    for path in paths:
        key = str(Path(path).resolve())
        info = os.stat(path)
        stamp = [info.st_size, info.st_mtime_ns]
        known = cache.get(key)
        md5 = known[2] if known and known[:2] == stamp else file_digest(path)
        fresh[key] = [*stamp, md5]
        digest.update(f"{path}\0{md5}\n".encode())
        total += info.st_size
    if fresh != cache:
        cache_path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(cache_path, json.dumps(fresh).encode())
    return {"files": len(paths), "bytes": total, "md5": digest.hexdigest()}
