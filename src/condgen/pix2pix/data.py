"""Paired image-to-image data (Pix2Pix): sources, preparation to arrays, tf.data pipelines.

Sources (``data.paired.name``):

- ``synthetic-facades`` (offline default): procedural label map -> facade photo pairs drawn by
  :mod:`condgen.facades.scenes`; A is the label map, B the photo.
- ``facades``, ``cityscapes``, ``maps``, ``edges2shoes``, ``edges2handbags``, ``night2day``: the
  pix2pix datasets, downloaded (sha256-checked where pinned) and safely extracted. Each JPEG holds
  one pair side by side, A on the left and B on the right (:data:`CATALOG` says which is which).
- ``folder``: the user's own side-by-side A|B images (see :func:`folder_splits`).

:func:`prepare` writes ``train.npz`` and ``test.npz`` with uint8 arrays ``a`` (the model's input)
and ``b`` (its target) of shape (N, S, S, 3); ``direction: BtoA`` swaps the halves. Training reads
them through :func:`make_train_dataset` (the paper's random jitter and mirroring), evaluation
through :func:`load_split`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image

from condgen.core import archive, images
from condgen.core.archive import RemoteDataset
from condgen.facades import scenes
from condgen.pix2pix.config import PairedDataConfig

if TYPE_CHECKING:
    import tensorflow as tf

PIX2PIX_URL = "http://efrosgans.eecs.berkeley.edu/pix2pix/datasets/{name}.tar.gz"
OFFLINE_HINT = (
    "Without network access, set data.paired.name: synthetic-facades in params.yaml (drawn "
    "offline), or name: folder with your own A|B images."
)


# What the left (A) and right (B) halves show. No checksum of these archives is published; set
# data.paired.sha256 after the first download (it prints the hash) to pin it.
CATALOG = {
    d.name: d
    for d in (
        # In facades and cityscapes the photo is on the left: label map -> photo is BtoA.
        RemoteDataset("facades", "photo", "label map", PIX2PIX_URL),
        RemoteDataset("cityscapes", "street photo", "label map", PIX2PIX_URL),
        RemoteDataset("maps", "aerial photo", "map", PIX2PIX_URL),
        RemoteDataset("edges2shoes", "edges", "shoe photo", PIX2PIX_URL),
        RemoteDataset("edges2handbags", "edges", "handbag photo", PIX2PIX_URL),
        RemoteDataset("night2day", "night photo", "day photo", PIX2PIX_URL),
    )
}
SYNTHETIC_HALVES = ("label map", "photo")


class PairedDataError(images.DataError):
    """Paired images are missing or unusable; the message names every bad file and the fix."""


def split_pair(pair: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(left half A, right half B) of a side-by-side image of even width."""
    half = pair.shape[1] // 2
    return pair[:, :half], pair[:, half:]


def _check_pair_width(image: Image.Image, path: Path) -> str | None:
    # Each half between portrait 3:4 and landscape 2:1; a square image is one picture, and
    # splitting it would stretch two halves of it into a "pair".
    if not 1.5 * image.height <= image.width <= 4 * image.height:
        return (
            f"{path} is {image.width}x{image.height} px, not a side-by-side pair (A | B), "
            "which is about twice as wide as high: join A and B side by side, or remove it"
        )
    if image.width % 2:
        return (
            f"{path} is {image.width} px wide; a side-by-side pair needs an even width "
            "(A | B): crop one column"
        )
    return None


def read_pairs(
    files: Sequence[Path], size: int, direction: str
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """(a, b, problems): the pairs that could be read, and one line per file that could not."""
    if direction not in ("AtoB", "BtoA"):
        raise ValueError(f"direction must be 'AtoB' or 'BtoA', got {direction!r}")
    a = np.empty((len(files), size, size, 3), np.uint8)
    b = np.empty((len(files), size, size, 3), np.uint8)
    problems: list[str] = []
    for i, path in enumerate(files):
        pixels, problem = images.read_image(path, (2 * size, size), _check_pair_width)
        if problem:
            problems.append(problem)
            continue
        left, right = split_pair(pixels)
        if direction == "BtoA":
            left, right = right, left
        a[i], b[i] = images.resize_square(left, size), images.resize_square(right, size)
    return a, b, problems


def _test_folder(root: Path) -> Path | None:
    """The split used for testing: ``test`` when present, else ``val``."""
    for name in ("test", "val"):
        if (root / name).is_dir():
            return root / name
    return None


def folder_splits(
    folder: str | Path, test_fraction: float, seed: int
) -> tuple[list[Path], list[Path]]:
    """(train files, test files) of a user folder of side-by-side A|B images.

    Either ``folder/train/`` with ``folder/test/`` (or ``folder/val/``), used as they are; or the
    images directly in ``folder``, split by a seeded shuffle with ``test_fraction`` of them (at
    least one) for testing. Every visible file in a split folder is expected to be an image.
    """
    root = Path(folder)
    if not str(folder) or not root.is_dir():
        raise PairedDataError(
            f"data.paired.folder: {str(folder)!r} is not a folder; set it to a folder of "
            "side-by-side A|B images (train/ and test/ inside, or the images directly)"
        )
    if (root / "train").is_dir():
        test_dir = _test_folder(root)
        if test_dir is None:
            raise PairedDataError(
                f"{root} has train/ but no test/ (or val/) folder: add one, or put all images "
                f"directly in {root} to split them by data.paired.test_fraction"
            )
        train, test = images.list_files(root / "train"), images.list_files(test_dir)
    else:
        files = images.list_files(root)
        if len(files) < 2:
            raise PairedDataError(
                f"{root} holds {len(files)} image(s) and no train/ folder; at least 2 are needed "
                "to make a train and a test split"
            )
        train, test = images.hold_out(files, test_fraction, seed)
    for name, files in (("train", train), ("test", test)):
        if not files:
            raise PairedDataError(f"{root}: the {name} split has no images")
    return train, test


def _dataset_root(extracted: Path, name: str) -> Path:
    """The folder holding train/ (``<name>/`` inside the archive, or the archive's top level)."""
    for candidate in (extracted / name, extracted):
        if (candidate / "train").is_dir():
            return candidate
    found = sorted(p.name for p in extracted.iterdir()) if extracted.is_dir() else []
    raise PairedDataError(
        f"{extracted}: no train/ folder after extraction (found: {', '.join(found) or 'nothing'}); "
        "is the URL in params a pix2pix-style archive (<name>/train/*.jpg)?"
    )


def fetch_remote(config: PairedDataConfig, raw_dir: str | Path) -> Path:
    """Download and extract a pix2pix dataset; return the folder that holds train/.

    The checksum is ``data.paired.sha256``, else the catalog's pin for the catalog URL, else
    none (the download then prints the hash to pin). The archive is kept in ``raw_dir`` and
    re-used while it matches the checksum, or as it is when there is none; it is extracted to
    ``raw_dir/<name>``, and a stamp records which archive that extraction came from, so a
    re-downloaded archive is extracted again.
    """
    url, sha256 = CATALOG[config.name].source(
        config.url, config.sha256, "data.paired", PairedDataError
    )
    extracted = archive.fetch(
        url,
        raw_dir,
        config.name,
        sha256,
        default_filename=f"{config.name}.tar.gz",
        timeout=config.timeout_seconds,
        offline_hint=OFFLINE_HINT,
    )
    return _dataset_root(extracted, config.name)


def _image_files(folder: Path) -> list[Path]:
    files = images.list_files(folder, images.IMAGE_SUFFIXES)
    if not files:
        raise PairedDataError(f"{folder} holds no images")
    return files


def prepare(config: PairedDataConfig, seed: int, out_dir: str | Path, raw_dir: str | Path) -> dict:
    """Write ``train.npz`` and ``test.npz`` (uint8 ``a``, ``b``: N x S x S x 3) to ``out_dir``.

    ``synthetic-facades`` draws ``num_train`` and ``num_test`` scenes from ``seed`` (independent
    streams per split); downloaded and folder datasets use their own splits, with at most
    ``max_train_images`` training pairs (a seeded subset; 0 = all). Returns a summary that is
    also written as ``summary.json``.
    """
    size = config.image_size
    if config.name == "synthetic-facades":
        # Distinct streams keep the test scenes disjoint from the training scenes.
        train = scenes.generate_pairs(config.num_train, size, seed, stream=0)
        test = scenes.generate_pairs(config.num_test, size, seed, stream=1)
        if config.direction == "BtoA":
            train, test = train[::-1], test[::-1]
        halves = SYNTHETIC_HALVES
        # The scenes' class maps: ground truth for the segmentation score of the photos.
        classes = {
            "train": scenes.scene_classes(config.num_train, size, seed, 0),
            "test": scenes.scene_classes(config.num_test, size, seed, 1),
        }
    else:
        if config.name == "folder":
            train_files, test_files = folder_splits(config.folder, config.test_fraction, seed)
            halves = ("left half", "right half")
        else:
            root = fetch_remote(config, raw_dir)
            test_dir = _test_folder(root)
            if test_dir is None:
                raise PairedDataError(f"{root} has neither a test/ nor a val/ folder")
            train_files, test_files = _image_files(root / "train"), _image_files(test_dir)
            halves = (CATALOG[config.name].a, CATALOG[config.name].b)
        train_files = images.cap(train_files, config.max_train_images, seed)
        train_a, train_b, problems = read_pairs(train_files, size, config.direction)
        test_a, test_b, test_problems = read_pairs(test_files, size, config.direction)
        # One report for both splits, so that every bad file can be fixed in one go.
        problems += test_problems
        if problems:
            raise images.problems_error(
                f"{len(problems)} paired image(s) cannot be used (fix or remove them, then run "
                "the stage again):",
                problems,
                PairedDataError,
            )
        train, test = (train_a, train_b), (test_a, test_b)
        classes = {}
    a_shows, b_shows = halves if config.direction == "AtoB" else halves[::-1]
    summary = {
        "source": config.name,
        "image_size": size,
        "direction": config.direction,
        "a": a_shows,
        "b": b_shows,
        "train": int(len(train[0])),
        "test": int(len(test[0])),
        "classes": list(scenes.CLASSES) if classes else [],
    }
    train_arrays = {"a": train[0], "b": train[1]}
    test_arrays = {"a": test[0], "b": test[1]}
    if classes:
        train_arrays["classes"], test_arrays["classes"] = classes["train"], classes["test"]
    return images.write_prepared(out_dir, train_arrays, test_arrays, summary)


def load_split(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """(a, b) uint8 arrays (N, S, S, 3) from a prepared ``.npz``."""
    return images.load_arrays(path, ("a", "b"), PairedDataError, "prepare_paired")


def load_classes(path: str | Path) -> np.ndarray:
    """The class maps (uint8 N x S x S) of a prepared synthetic split: the scene of each pair."""
    return images.load_arrays(path, ("classes",), PairedDataError, "prepare_paired")[0]


def _check_pairs(a: np.ndarray, b: np.ndarray) -> None:
    if a.shape != b.shape or a.ndim != 4 or a.shape[1] != a.shape[2] or a.shape[-1] != 3:
        raise ValueError(
            f"expected a and b of the same shape (N, S, S, 3), got {a.shape}, {b.shape}"
        )


def make_train_dataset(
    a: np.ndarray,
    b: np.ndarray,
    batch_size: int,
    seed: int,
    jitter: bool = True,
    start_step: int = 0,
) -> tf.data.Dataset:
    """Endless shuffled batches of (a, b) in -1..1 float32 with the pix2pix random jitter.

    Jitter (Isola et al. 2017, sec. 6.2): resize to 286/256 of the size, crop back to the size
    at a random place and mirror at random, with the same crop and mirror for A and B (both
    are stacked into one tensor first). Nearest-neighbour resizing keeps label maps' colours
    exact. Every pass over the pairs is a new seeded permutation and every draw new crops,
    all stateless functions of the draw number (:mod:`condgen.core.stream`): two datasets
    built with the same seed yield identical batches, and ``start_step`` resumes the stream
    exactly where an uninterrupted run would be.
    """
    import tensorflow as tf

    from condgen.core.stream import batched_items

    _check_pairs(a, b)
    if len(a) < batch_size:
        raise ValueError(f"batch_size ({batch_size}) is larger than the {len(a)} training pairs")
    size = a.shape[1]

    def augment(draw, image_a, image_b):
        stacked = tf.concat([image_a, image_b], axis=-1)
        if jitter:
            stacked = images.jitter(stacked, size, seed, draw, "nearest")
        stacked = images.to_model_range(stacked)
        return stacked[..., :3], stacked[..., 3:]

    return batched_items((a, b), seed, batch_size, start_step, augment, per_item=True)
