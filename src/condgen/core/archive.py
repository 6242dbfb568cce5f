"""Safe, all-or-nothing extraction of .tar(.gz) and .zip archives.

Every member is checked before it is written: a member that would land outside the target folder
(an absolute path, a ``..`` component, a link pointing outside) or that is not a plain file,
folder or in-archive link (device files, FIFOs) is refused with an error naming it. An archive
that would expand to more than :data:`MAX_BYTES` or hold more than :data:`MAX_MEMBERS` members (a
"zip bomb") is refused too: a zip by the sizes its directory declares before anything is written,
and both kinds by counting what is actually written, member by member. Members are written into a
temporary folder beside the target, which is renamed into place only when the whole archive has
been read without error; a refused, corrupt or truncated archive therefore leaves nothing behind,
and an existing target is only replaced by a complete extraction.

:func:`fetch` is the download-and-extract step shared by the image datasets: it keeps the archive
and its extraction side by side in a raw-data folder and re-extracts only a changed archive.
"""

from __future__ import annotations

import dataclasses
import os
import re
import shutil
import stat
import sys
import tarfile
import tempfile
import zipfile
import zlib
from pathlib import Path, PurePosixPath
from urllib.parse import urlparse

from condgen.core.download import download
from condgen.core.images import DataError


class ArchiveError(DataError):
    """An archive is corrupt, truncated, of an unknown kind, or has a member that is refused."""


# What an archive may expand to: far above the datasets in the catalogs (a few GB and some
# hundred thousand images at most), far below what would fill a disk.
MAX_BYTES = 20 << 30  # 20 GiB
MAX_MEMBERS = 1_000_000

TAR_SUFFIXES = (".tar.gz", ".tgz", ".tar", ".tar.bz2", ".tar.xz")
ZIP_SUFFIXES = (".zip",)


def _is_corruption(err: BaseException) -> bool:
    """True for errors that mean the archive's bytes are bad, not that the disk failed."""
    if isinstance(err, tarfile.TarError | zipfile.BadZipFile | EOFError | zlib.error):
        return True
    # gzip.BadGzipFile and friends are OSErrors without an errno; disk errors carry one.
    return isinstance(err, OSError) and err.errno is None


def _corrupt(archive: Path, err: BaseException) -> ArchiveError:
    return ArchiveError(
        f"{archive} is corrupt or truncated ({type(err).__name__}: {err}). "
        "Delete it and run the stage again to download it afresh."
    )


def _member_path(archive: Path, name: str) -> PurePosixPath:
    """The member's relative path, or an ArchiveError if it could land outside the target."""
    # Archives made on Windows may use backslashes; treat them as separators too.
    posix = name.replace("\\", "/")
    path = PurePosixPath(posix)
    if path.is_absolute() or (len(posix) > 1 and posix[1] == ":"):
        raise ArchiveError(f"{archive}: refused member {name!r}: it has an absolute path")
    if ".." in path.parts:
        raise ArchiveError(
            f"{archive}: refused member {name!r}: its '..' would place it outside the target"
        )
    return path


def _check_link(archive: Path, name: str, member: PurePosixPath, target: str, hard: bool) -> None:
    """Refuse a link whose target is absolute or resolves outside the extraction root."""
    posix = target.replace("\\", "/")
    kind = "hard link" if hard else "symlink"
    if PurePosixPath(posix).is_absolute() or (len(posix) > 1 and posix[1] == ":"):
        raise ArchiveError(f"{archive}: refused member {name!r}: {kind} to absolute {target!r}")
    # Hard-link targets are relative to the archive root, symlinks to the link's own folder.
    parts = list(PurePosixPath(posix).parts if hard else (*member.parent.parts, *posix.split("/")))
    depth = 0
    for part in parts:
        if part in ("", "."):
            continue
        depth = depth - 1 if part == ".." else depth + 1
        if depth < 0:
            raise ArchiveError(
                f"{archive}: refused member {name!r}: {kind} to {target!r} points outside the "
                "target folder"
            )


def _check_tar_member(archive: Path, member: tarfile.TarInfo) -> None:
    path = _member_path(archive, member.name)
    if member.issym() or member.islnk():
        _check_link(archive, member.name, path, member.linkname, hard=member.islnk())
    elif not (member.isfile() or member.isdir()):
        raise ArchiveError(
            f"{archive}: refused member {member.name!r}: it is a device file or FIFO, "
            "not a regular file or folder"
        )


def _check_zip_member(archive: Path, info: zipfile.ZipInfo, zf: zipfile.ZipFile) -> None:
    path = _member_path(archive, info.filename)
    mode = info.external_attr >> 16
    if stat.S_ISLNK(mode):
        _check_link(archive, info.filename, path, zf.read(info).decode("utf-8", "replace"), False)
    elif mode and stat.S_IFMT(mode) and not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
        raise ArchiveError(
            f"{archive}: refused member {info.filename!r}: it is a device file or FIFO, "
            "not a regular file or folder"
        )


def _amount(n: int) -> str:
    """``n`` bytes for a message: 20 GiB, 3.5 MiB, 512 bytes."""
    for unit, shift in (("GiB", 30), ("MiB", 20), ("KiB", 10)):
        if n >= 1 << shift:
            return f"{n / (1 << shift):.3g} {unit}"
    return f"{n} bytes"


class _Budget:
    """Counts the members and bytes written so far; an ArchiveError past either limit."""

    def __init__(self, archive: Path, max_bytes: int, max_members: int) -> None:
        self.archive, self.max_bytes, self.max_members = archive, max_bytes, max_members
        self.members = self.written = 0

    def _refuse(self, what: str) -> ArchiveError:
        return ArchiveError(
            f"{self.archive}: refused: {what}. Nothing was extracted. Check that the URL in params "
            "points to the dataset meant; a trusted archive this large needs higher max_bytes or "
            "max_members."
        )

    def declared(self, members: int, size: int) -> None:
        """Check a zip's directory before anything is written."""
        if members > self.max_members:
            raise self._refuse(
                f"it has {members:,} members, more than the limit of {self.max_members:,}"
            )
        if size > self.max_bytes:
            raise self._refuse(
                f"its members declare {_amount(size)} ({size:,} bytes) uncompressed, more than "
                f"the limit of {_amount(self.max_bytes)} ({self.max_bytes:,} bytes)"
            )

    def member(self, name: str) -> None:
        self.members += 1
        if self.members > self.max_members:
            raise self._refuse(
                f"it has more than the limit of {self.max_members:,} members (stopped at "
                f"member {self.members:,}, {name!r}, after {_amount(self.written)})"
            )

    def fits(self, name: str, size: int) -> None:
        """Refuse member ``name`` if ``size`` more bytes would pass the limit."""
        if self.written + size > self.max_bytes:
            raise self._refuse(
                f"it expands to more than the limit of {_amount(self.max_bytes)} "
                f"({self.max_bytes:,} bytes): {self.written:,} bytes were written in "
                f"{self.members - 1:,} members when member {name!r} ({size:,} bytes) passed it"
            )

    def add(self, name: str, size: int) -> None:
        """Count the ``size`` bytes written for member ``name``."""
        self.fits(name, size)
        self.written += size


def _extract_tar(archive: Path, into: Path, budget: _Budget) -> None:
    # Streaming mode reads a .tar.gz once, checking each member just before writing it.
    with tarfile.open(archive, mode="r|*") as tar:
        for member in tar:
            _check_tar_member(archive, member)
            budget.member(member.name)
            if member.isfile():
                # tarfile writes exactly the header's size (a shorter stream is an error), so a
                # member too large is refused before it is written ...
                budget.fits(member.name, member.size)
            # The stdlib "data" filter re-checks paths and links and drops unsafe permissions.
            tar.extract(member, into, filter="data")
            if member.isfile():
                # ... and what was actually written is counted, not what the header declared.
                budget.add(member.name, (into / member.name).lstat().st_size)


def _extract_zip(archive: Path, into: Path, budget: _Budget) -> None:
    with zipfile.ZipFile(archive) as zf:
        infos = zf.infolist()
        budget.declared(len(infos), sum(info.file_size for info in infos))
        for info in infos:
            _check_zip_member(archive, info, zf)
        for info in infos:
            budget.member(info.filename)
            # zipfile stops each member at its declared size and checks its CRC; counting the
            # written files keeps the limit even so.
            written = zf.extract(info, into)
            if not info.is_dir():
                budget.add(info.filename, os.path.getsize(written))


def archive_kind(path: str | Path) -> str:
    """'tar' or 'zip' from the file name; an ArchiveError for anything else."""
    name = Path(path).name.lower()
    if name.endswith(TAR_SUFFIXES):
        return "tar"
    if name.endswith(ZIP_SUFFIXES):
        return "zip"
    raise ArchiveError(
        f"{path}: unknown archive type; expected one of {', '.join(TAR_SUFFIXES + ZIP_SUFFIXES)}"
    )


def extract(
    archive_path: str | Path,
    target_dir: str | Path,
    *,
    max_bytes: int = MAX_BYTES,
    max_members: int = MAX_MEMBERS,
) -> Path:
    """Extract ``archive_path`` (.tar.gz/.tgz/.tar or .zip) into ``target_dir``; return it.

    All or nothing: on any refused member, read error, or an archive that expands to more than
    ``max_bytes`` or ``max_members``, the target is left as it was (absent, or the previous
    complete extraction) and no temporary files remain.
    """
    archive, target = Path(archive_path), Path(target_dir)
    kind = archive_kind(archive)
    if not archive.is_file():
        raise ArchiveError(f"{archive} not found: run the stage again to download it")
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent))
    try:
        try:
            budget = _Budget(archive, max_bytes, max_members)
            (_extract_tar if kind == "tar" else _extract_zip)(archive, tmp, budget)
        except ArchiveError:
            raise
        except tarfile.FilterError as err:  # only if the stdlib filter is stricter than we are
            raise ArchiveError(f"{archive}: refused member: {err}") from err
        except (NotADirectoryError, IsADirectoryError, FileExistsError) as err:
            # A file and a folder of the same name (``a`` and ``a/b``): not a usable dataset.
            name = Path(err.filename or "?").relative_to(tmp) if err.filename else "?"
            raise ArchiveError(
                f"{archive}: member {str(name)!r} clashes with a file or folder of the same "
                "name in the archive; repack it without the clash"
            ) from err
        except Exception as err:
            if _is_corruption(err):
                raise _corrupt(archive, err) from err
            raise
        if target.exists():
            # Swap the old extraction out first so that the rename below cannot fail on it.
            old = Path(
                tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".old", dir=target.parent)
            )
            os.replace(target, old / target.name)
            os.replace(tmp, target)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, target)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return target


@dataclasses.dataclass(frozen=True)
class RemoteDataset:
    """One dataset archive on a public server: what its A and B images show, where it is, and
    its pinned sha256 (None: no checksum is published; the first download prints the hash to
    pin in params)."""

    name: str
    a: str  # what A shows (pix2pix: the left half of each pair; CycleGAN: trainA/, testA/)
    b: str  # what B shows
    url_template: str  # with {name}
    sha256: str | None = None

    @property
    def url(self) -> str:
        return self.url_template.format(name=self.name)

    def source(
        self, url: str, sha256: str, section: str, error: type[Exception]
    ) -> tuple[str, str | None]:
        """(url, checksum) to fetch: the params' ``url`` or the catalog's, and the params'
        ``sha256``, else the catalog's pin for the catalog URL, else None. A checksum that is not
        64 hex digits raises ``error`` naming ``<section>.sha256``."""
        checksum = sha256 or (self.sha256 if not url else None)
        if checksum and not re.fullmatch(r"[0-9a-fA-F]{64}", checksum):
            raise error(f"{section}.sha256: {checksum!r} is not 64 hexadecimal digits")
        return url or self.url, checksum or None


def fetch(
    url: str,
    raw_dir: str | Path,
    name: str,
    sha256: str | None = None,
    *,
    default_filename: str = "",
    timeout: float = 60.0,
    offline_hint: str = "",
) -> Path:
    """Download ``url`` into ``raw_dir`` and extract it to ``raw_dir/<name>``; return that folder.

    With ``sha256`` the archive is re-used while it matches and downloaded again otherwise;
    without one an existing archive is re-used as it is (the first download prints the hash to
    pin). A stamp file records which archive the extraction came from, so a re-downloaded
    archive is extracted again. ``default_filename`` names the archive when the URL's path has
    no file name.
    """
    raw = Path(raw_dir)
    filename = Path(urlparse(url).path).name or default_filename or f"{name}.tar.gz"
    archive_kind(filename)  # fail before downloading something we cannot open
    path = raw / filename
    if sha256 or not path.is_file():
        path = download(url, path, sha256, timeout=timeout, offline_hint=offline_hint)
    else:
        # Downloads are atomic, so an existing file is complete; without a pin there is nothing
        # to re-check it against, and fetching gigabytes again on every run helps no one.
        print(f"using {path} (no sha256 pinned; delete it to download again)", file=sys.stderr)
    extracted = raw / name
    info = path.stat()
    stamp = f"{filename} {info.st_size} {info.st_mtime_ns}\n"
    stamp_file = raw / f".{name}.extracted"
    if not (extracted.is_dir() and stamp_file.is_file() and stamp_file.read_text() == stamp):
        extract(path, extracted)
        stamp_file.write_text(stamp)
    return extracted
