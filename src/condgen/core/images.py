"""Image files and arrays: the data error, conversion, file listing, reading, atomic writes.

Every family's data goes through these, so an odd image (16-bit, transparent, palette, rotated
by EXIF, too large) is treated the same wherever it comes from, and every problem of a folder is
reported in one error.
"""

from __future__ import annotations

import os
import re
import zipfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

if TYPE_CHECKING:
    import tensorflow as tf

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".tif", ".tiff", ".webp")
# How many problems an error message lists before summarising the rest.
MAX_LISTED = 20


class DataError(RuntimeError):
    """A dataset file is missing, corrupt or not what it claims to be."""


class BackboneError(ValueError):
    """A backbone, one of its layers, or an image given to it cannot be used; the message says
    what to do instead. (Defined here, away from Keras, so that a command can check its
    images before TensorFlow is imported.)"""


def problems_error(header: str, problems: Sequence[str], error: type[DataError]) -> DataError:
    """One ``error`` listing every problem (the first MAX_LISTED), so all can be fixed at once."""
    listed = [f"  - {p}" for p in problems[:MAX_LISTED]]
    if len(problems) > MAX_LISTED:
        listed.append(f"  ... and {len(problems) - MAX_LISTED} more")
    return error("\n".join([header, *listed]))


def hold_out(files: list[Path], fraction: float, seed: int) -> tuple[list[Path], list[Path]]:
    """(train, test): a seeded ``fraction`` of ``files`` (at least one, at most all but one)
    for testing, each in the files' order."""
    order = np.random.default_rng(seed).permutation(len(files))
    n_test = min(len(files) - 1, max(1, round(len(files) * fraction)))
    return [files[i] for i in sorted(order[n_test:])], [files[i] for i in sorted(order[:n_test])]


def cap(files: list[Path], count: int, seed: int) -> list[Path]:
    """A seeded random subset of ``count`` files (all when ``count`` is 0), in their order."""
    if not 0 < count < len(files):
        return files
    keep = np.random.default_rng(seed).choice(len(files), count, replace=False)
    return [files[i] for i in sorted(keep)]


def _natural_key(path: Path) -> list:
    """Sort ``2.jpg`` before ``10.jpg``."""
    return [int(t) if t.isdigit() else t.lower() for t in re.split(r"(\d+)", path.name)]


def list_files(folder: Path, suffixes: Sequence[str] | None = None) -> list[Path]:
    """Visible regular files of ``folder`` (optionally only ``suffixes``), in natural order.

    Hidden files (``.DS_Store``, editor backups starting with a dot) are not data and are skipped.
    """
    files = [
        p
        for p in folder.iterdir()
        if p.is_file()
        and not p.name.startswith(".")
        and (suffixes is None or p.suffix.lower() in suffixes)
    ]
    return sorted(files, key=_natural_key)


def to_rgb(image: Image.Image) -> np.ndarray:
    """Any Pillow image as uint8 RGB (H x W x 3).

    Grayscale and palette images are expanded; transparency (RGBA, LA, palette with a
    transparent colour) is composited on white; 16-bit and 32-bit grayscale are scaled to
    8 bits by their range (not clipped); EXIF orientation is applied.
    """
    image = ImageOps.exif_transpose(image)
    if image.mode in ("I", "I;16", "I;16B", "I;16L", "I;16N", "F"):
        values = np.asarray(image, dtype=np.float64)
        if image.mode.startswith("I;16"):
            top = 65535.0
        elif image.mode == "F":
            top = 1.0 if values.max(initial=0) <= 1.0 else 255.0
        else:  # 32-bit "I": Pillow's mode for 16-bit PNGs too; 8-bit data stays as it is
            top = 255.0 if values.max(initial=0) <= 255 else 65535.0
        gray = np.clip(np.rint(values / top * 255), 0, 255).astype(np.uint8)
        return np.repeat(gray[..., None], 3, axis=2)
    if image.mode == "P" and "transparency" in image.info:
        image = image.convert("RGBA")
    if image.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = image.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        image = Image.alpha_composite(white, rgba)
    return np.asarray(image.convert("RGB"), dtype=np.uint8)


# What a translation takes: smaller is no picture to translate, larger is out of proportion to
# the generators' 32-256 px and would take minutes and gigabytes to resize and encode.
MIN_SIDE = 16
MAX_SIDE = 4096


def side_problem(width: int, height: int) -> str | None:
    """Why an image of ``width`` x ``height`` px cannot be translated, or None."""
    if min(width, height) < MIN_SIDE:
        return f"is {width}x{height} px; give at least {MIN_SIDE} px a side"
    if max(width, height) > MAX_SIDE:
        return f"is {width}x{height} px; shrink it to at most {MAX_SIDE} px a side first"
    return None


def read_image(
    path: Path,
    draft: tuple[int, int],
    check: Callable[[Image.Image, Path], str | None] | None = None,
) -> tuple[np.ndarray | None, str | None]:
    """(RGB pixels, None), or (None, a line saying why ``path`` cannot be used).

    ``draft`` is the smallest size needed: JPEGs are decoded straight at a reduced scale,
    which is much faster for big sets. ``check`` looks at the opened image before that (e.g.
    a side-by-side pair's width) and returns a problem or None.
    """
    try:
        with Image.open(path) as image:
            problem = check(image, path) if check is not None else None
            if problem:
                return None, problem
            image.draft("RGB", draft)
            return to_rgb(image), None
    except Image.DecompressionBombError as err:
        return None, f"{path} is too large for Pillow ({err}): shrink it or remove it"
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as err:
        return None, (
            f"{path} is not an image Pillow can read ({type(err).__name__}): "
            "remove it or replace it"
        )


def resize_square(pixels: np.ndarray, size: int) -> np.ndarray:
    """uint8 pixels resized to ``size`` x ``size`` (the aspect ratio is not kept)."""
    if pixels.shape[:2] == (size, size):
        return pixels
    # Lanczos: sharp and free of aliasing when shrinking (256 -> 64), fine when enlarging.
    return np.asarray(
        Image.fromarray(pixels).resize((size, size), Image.Resampling.LANCZOS), dtype=np.uint8
    )


def to_uint8(images: np.ndarray) -> np.ndarray:
    """float -1..1 (N, H, W[, C]) -> uint8 0..255 with the channel axis dropped if single."""
    arr = np.clip((np.asarray(images, dtype=np.float32) + 1.0) * 127.5, 0, 255)
    arr = np.rint(arr).astype(np.uint8)
    if arr.ndim == 4 and arr.shape[-1] == 1:
        arr = arr[..., 0]
    return arr


def unit_to_uint8(images: np.ndarray) -> np.ndarray:
    """float 0..1 -> uint8 0..255 (style transfer optimises pixels in 0..1)."""
    return np.clip(np.rint(np.asarray(images) * 255.0), 0, 255).astype(np.uint8)


def to_unit(images: np.ndarray) -> np.ndarray:
    """uint8 0..255 -> float32 0..1 (the scale of the image metrics)."""
    return np.asarray(images, np.float32) / 255.0


def to_model_range(image: tf.Tensor) -> tf.Tensor:
    """uint8 tensor -> float32 -1..1, the generators' tanh range (inside tf.data)."""
    import tensorflow as tf

    return tf.cast(image, tf.float32) / 127.5 - 1.0


def jitter_size(size: int) -> int:
    """The pix2pix load size before random cropping: 286 for 256, scaled for other sizes."""
    return int(size * 286 / 256 + 0.5)


def jitter(image: tf.Tensor, size: int, seed: int, draw: tf.Tensor, method: str) -> tf.Tensor:
    """The papers' jitter of one (H, W, C) image: resize to :func:`jitter_size` (``method``),
    crop back to ``size`` at a random place and mirror at random, both keyed statelessly by
    the stream's ``seed`` and the ``draw`` number (:func:`condgen.core.stream.draw_key`)."""
    import tensorflow as tf

    from condgen.core.stream import draw_key

    load = jitter_size(size)
    image = tf.image.resize(image, [load, load], method=method)
    image = tf.image.stateless_random_crop(
        image, [size, size, image.shape[-1]], seed=draw_key(seed, 1, draw)
    )
    return tf.image.stateless_random_flip_left_right(image, seed=draw_key(seed, 2, draw))


def write_atomically(out: Path, files: dict[str, bytes | dict[str, np.ndarray]]) -> None:
    """Write every file under a hidden temporary name, then rename them all into place.

    A failure while writing (a full disk) thus leaves no half-written file behind. ``bytes``
    are written as they are, a mapping of arrays as a compressed ``.npz``. Both come out byte
    for byte the same from the same inputs (NumPy dates every ``.npz`` member 1980-01-01),
    which keeps a re-run prepare stage from giving DVC a new hash.
    """
    out.mkdir(parents=True, exist_ok=True)
    temps: list[tuple[Path, Path]] = []
    try:
        for name, content in files.items():
            tmp = out / f".{name}.part"
            temps.append((tmp, out / name))
            with open(tmp, "wb") as fh:
                if isinstance(content, bytes):
                    fh.write(content)
                else:
                    np.savez_compressed(fh, **content)
        for tmp, final in temps:
            os.replace(tmp, final)
    finally:
        for tmp, _ in temps:
            tmp.unlink(missing_ok=True)


def load_arrays(
    path: str | Path, keys: Sequence[str], error: type[DataError], prepare: str
) -> tuple[np.ndarray, ...]:
    """The arrays ``keys`` of a prepared ``.npz``; a missing, corrupt or foreign file is an
    ``error`` that says to run ``prepare`` (the stage that writes it)."""
    path = Path(path)
    if not path.is_file():
        raise error(f"{path} not found: run `dvc repro {prepare}` first")
    if not zipfile.is_zipfile(path):
        # np.load would try it as a pickle and suggest allow_pickle, which is no fix here.
        raise error(
            f"{path} is not a readable npz (not a zip archive); run `dvc repro {prepare}` again"
        )
    try:
        with np.load(path, allow_pickle=False) as data:
            missing = [k for k in keys if k not in data.files]
            if missing:
                raise error(
                    f"{path} has no array {missing[0]!r}: it is not what {prepare} writes; "
                    f"run `dvc repro {prepare}` again"
                )
            return tuple(data[k] for k in keys)
    except (zipfile.BadZipFile, OSError, ValueError) as err:
        raise error(
            f"{path} is not a readable npz ({err}); run `dvc repro {prepare}` again"
        ) from err


def write_prepared(
    out_dir: str | Path,
    train: dict[str, np.ndarray],
    test: dict[str, np.ndarray],
    summary: dict,
) -> dict:
    """A prepare stage's outputs, all or nothing: ``train.npz``, ``test.npz`` (the arrays by
    name) and ``summary.json``; returns ``summary``."""
    import json

    write_atomically(
        Path(out_dir),
        {
            "train.npz": train,
            "test.npz": test,
            "summary.json": (json.dumps(summary, indent=2) + "\n").encode(),
        },
    )
    return summary
