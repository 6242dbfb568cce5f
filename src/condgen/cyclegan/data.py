"""Unpaired image data (CycleGAN): sources, preparation to arrays, the tf.data training stream.

Sources (``data.unpaired.name``):

- ``synthetic-daynight`` (offline default): procedural facades drawn by
  :mod:`condgen.facades.scenes`; A is a day photo, B a night photo. The two training domains show
  different buildings, so no pair exists to learn from; each test building is kept in both
  renderings, so test ``a[i]`` and ``b[i]`` are the same scene and a translation can be compared
  with the truth.
- ``horse2zebra``, ``apple2orange``, ``monet2photo``, ... (:data:`CATALOG`): the CycleGAN
  datasets, downloaded (sha256-checked where pinned) and safely extracted; each archive holds
  ``<name>/trainA``, ``trainB``, ``testA`` and ``testB`` folders of images.
- ``folder``: the user's own images in ``trainA/`` and ``trainB/``, with optional ``testA/`` and
  ``testB/`` (else ``test_fraction`` of each domain is held out).

:func:`prepare` writes ``train.npz`` and ``test.npz`` with uint8 arrays ``a`` (Na, S, S, 3) and
``b`` (Nb, S, S, 3); the domains may hold different numbers of images. Training reads them
through :func:`make_train_dataset` (an endless stream, each domain shuffled and jittered on its
own), evaluation through :func:`load_split`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from condgen.core import archive
from condgen.core.archive import RemoteDataset
from condgen.core.images import (
    IMAGE_SUFFIXES,
    DataError,
    cap,
    hold_out,
    list_files,
    load_arrays,
    problems_error,
    read_image,
    resize_square,
    to_model_range,
    write_prepared,
)
from condgen.core.images import jitter as jitter_image  # `jitter` is a parameter below
from condgen.cyclegan.config import UnpairedDataConfig
from condgen.facades import scenes

if TYPE_CHECKING:
    import tensorflow as tf

CYCLEGAN_URL = "http://efrosgans.eecs.berkeley.edu/cyclegan/datasets/{name}.zip"
DOMAIN_FOLDERS = ("trainA", "trainB", "testA", "testB")
# Downloads go to their own folder under raw_dir: pix2pix has datasets of the same names
# (facades, maps, cityscapes) in another layout.
RAW_SUBDIR = Path(__file__).parent.name  # the family's folder name: data/raw/cyclegan
# Scene streams of synthetic-daynight; the paired facades use streams 0 and 1.
DAY_STREAM, NIGHT_STREAM, TEST_STREAM = 2, 3, 4
SYNTHETIC_DOMAINS = ("day photo", "night photo")
FOLDER_DOMAINS = ("domain A (trainA/)", "domain B (trainB/)")
OFFLINE_HINT = (
    "Without network access, set data.unpaired.name: synthetic-daynight in params.yaml (drawn "
    "offline), or name: folder with your own trainA/ and trainB/ images."
)


# No checksum of these archives is published; set data.unpaired.sha256 after the first
# download (it prints the hash) to pin it.
CATALOG = {
    d.name: d
    for d in (
        RemoteDataset("apple2orange", "apple", "orange", CYCLEGAN_URL),
        RemoteDataset("summer2winter_yosemite", "summer", "winter", CYCLEGAN_URL),
        RemoteDataset("horse2zebra", "horse", "zebra", CYCLEGAN_URL),
        RemoteDataset("monet2photo", "Monet painting", "photo", CYCLEGAN_URL),
        RemoteDataset("cezanne2photo", "Cezanne painting", "photo", CYCLEGAN_URL),
        RemoteDataset("ukiyoe2photo", "ukiyo-e print", "photo", CYCLEGAN_URL),
        RemoteDataset("vangogh2photo", "Van Gogh painting", "photo", CYCLEGAN_URL),
        RemoteDataset("maps", "aerial photo", "map", CYCLEGAN_URL),
        RemoteDataset("cityscapes", "street photo", "label map", CYCLEGAN_URL),
        RemoteDataset("facades", "photo", "label map", CYCLEGAN_URL),
        RemoteDataset("iphone2dslr_flower", "iPhone photo", "DSLR photo", CYCLEGAN_URL),
        RemoteDataset("ae_photos", "photo", "photo", CYCLEGAN_URL),
        RemoteDataset("grumpifycat", "grumpy cat", "cat", CYCLEGAN_URL),
    )
}


class UnpairedDataError(DataError):
    """Unpaired images are missing or unusable; the message names every bad file and the fix."""


def _seed(seed: int, key: int) -> int:
    """An op seed for one random stream of ``seed``: independent of the other keys' streams."""
    return int(np.random.SeedSequence([seed, key]).generate_state(1)[0] >> 1)


# --- sources ---------------------------------------------------------------------------------


def _dataset_root(extracted: Path, name: str) -> Path:
    """The folder holding trainA/ ... testB/ (``<name>/`` in the archive, or its top level)."""
    for candidate in (extracted / name, extracted):
        present = [d for d in DOMAIN_FOLDERS if (candidate / d).is_dir()]
        if not present:
            continue
        missing = [d for d in DOMAIN_FOLDERS if d not in present]
        if missing:
            raise UnpairedDataError(
                f"{candidate} has no {', '.join(f'{d}/' for d in missing)} folder after "
                f"extraction (a CycleGAN archive holds {', '.join(DOMAIN_FOLDERS)}). To use it "
                f"anyway, set data.unpaired.name: folder and folder: {candidate} (without "
                "testA/ and testB/ a test_fraction of each domain is held out)."
            )
        return candidate
    found = sorted(p.name for p in extracted.iterdir()) if extracted.is_dir() else []
    raise UnpairedDataError(
        f"{extracted}: no trainA/ folder after extraction (found: {', '.join(found) or 'nothing'});"
        " is the URL in params a CycleGAN-style archive (<name>/trainA/*.jpg, trainB/, testA/, "
        "testB/)?"
    )


def fetch_remote(config: UnpairedDataConfig, raw_dir: str | Path) -> Path:
    """Download and extract a CycleGAN dataset; return the folder that holds trainA/ ... testB/.

    The checksum is ``data.unpaired.sha256``, else the catalog's pin for the catalog URL, else
    none (the download then prints the hash to pin). Archive and extraction are kept in
    ``raw_dir/cyclegan`` (see :func:`condgen.core.archive.fetch`).
    """
    url, sha256 = CATALOG[config.name].source(
        config.url, config.sha256, "data.unpaired", UnpairedDataError
    )
    extracted = archive.fetch(
        url,
        Path(raw_dir) / RAW_SUBDIR,
        config.name,
        sha256,
        default_filename=f"{config.name}.zip",
        timeout=config.timeout_seconds,
        offline_hint=OFFLINE_HINT,
    )
    return _dataset_root(extracted, config.name)


def _archive_files(root: Path) -> tuple[dict[str, list[Path]], list[str]]:
    """The images of each domain folder of an extracted dataset, and one line per empty folder."""
    files = {d: list_files(root / d, IMAGE_SUFFIXES) for d in DOMAIN_FOLDERS}
    problems = [
        f"{root / d} holds no images: delete the archive and its extraction and download again"
        for d in DOMAIN_FOLDERS
        if not files[d]
    ]
    return files, problems


def _folder_files(
    folder: str | Path, test_fraction: float, seed: int
) -> tuple[dict[str, list[Path]], list[str]]:
    """The files of each of trainA, trainB, testA, testB of a user folder, and its problems.

    Missing or half-present folders are an error at once; empty domains are returned as
    problems, to be reported together with the files that cannot be read. Every visible file in
    a domain folder is expected to be an image.
    """
    root = Path(folder)
    if not str(folder) or not root.is_dir():
        raise UnpairedDataError(
            f"data.unpaired.folder: {str(folder)!r} is not a folder; set it to a folder with "
            "trainA/ and trainB/ (the images of each domain) and optionally testA/ and testB/"
        )
    missing = [d for d in ("trainA", "trainB") if not (root / d).is_dir()]
    if missing:
        raise UnpairedDataError(
            f"{root} has no {' and no '.join(f'{d}/' for d in missing)} folder: put the images "
            "of domain A in trainA/ and those of domain B in trainB/"
        )
    tests = [(root / d).is_dir() for d in ("testA", "testB")]
    if any(tests) and not all(tests):
        have, lack = ("testA", "testB") if tests[0] else ("testB", "testA")
        raise UnpairedDataError(
            f"{root} has {have}/ but no {lack}/: add {lack}/, or remove {have}/ to hold out "
            "data.unpaired.test_fraction of each domain for testing"
        )
    files = {d: list_files(root / d) for d in DOMAIN_FOLDERS if (root / d).is_dir()}
    problems: list[str] = []
    for d, domain_files in files.items():
        if not domain_files:
            problems.append(f"{root / d} holds no images: add the images of domain {d[-1]}")
        elif not all(tests) and len(domain_files) < 2:
            problems.append(
                f"{root / d} holds 1 image; at least 2 are needed to hold out a test image "
                "(add images, or add testA/ and testB/)"
            )
    if not all(tests):
        for k, domain in enumerate("AB"):
            train = files[f"train{domain}"]
            if len(train) >= 2:
                files[f"train{domain}"], files[f"test{domain}"] = hold_out(
                    train, test_fraction, _seed(seed, k)
                )
            else:
                files[f"test{domain}"] = []
    return files, problems


def _read_images(files: Sequence[Path], size: int) -> tuple[np.ndarray, list[str]]:
    """(images, problems): uint8 (N, size, size, 3), and one line per file that cannot be read.

    Images of any size and mode are converted to RGB and resized to ``size`` x ``size`` (as
    CycleGAN does, the aspect ratio is not kept).
    """
    images = np.zeros((len(files), size, size, 3), np.uint8)
    problems: list[str] = []
    for i, path in enumerate(files):
        pixels, problem = read_image(path, (size, size))
        if problem:
            problems.append(problem)
            continue
        images[i] = resize_square(pixels, size)
    return images, problems


def _synthetic(config: UnpairedDataConfig, seed: int) -> dict[str, np.ndarray]:
    size = config.image_size
    # Training domains from different scene streams: no building is seen both by day and night.
    test_a, test_b = scenes.generate_day_night(config.num_test, size, seed, TEST_STREAM)
    test_classes = scenes.scene_classes(config.num_test, size, seed, TEST_STREAM)
    return {
        "trainA": scenes.render_scenes(config.num_train, size, seed, DAY_STREAM, "day"),
        "trainB": scenes.render_scenes(config.num_train, size, seed, NIGHT_STREAM, "night"),
        "testA": test_a,
        "testB": test_b,
        # The scenes' class maps: ground truth for the segmentation score of both domains.
        "trainA_classes": scenes.scene_classes(config.num_train, size, seed, DAY_STREAM),
        "trainB_classes": scenes.scene_classes(config.num_train, size, seed, NIGHT_STREAM),
        "testA_classes": test_classes,
        "testB_classes": test_classes,
    }


def prepare(
    config: UnpairedDataConfig, seed: int, out_dir: str | Path, raw_dir: str | Path
) -> dict:
    """Write ``train.npz`` and ``test.npz`` (uint8 ``a``: Na x S x S x 3, ``b``: Nb x S x S x 3).

    ``synthetic-daynight`` draws ``num_train`` scenes per training domain and ``num_test`` test
    scenes from ``seed``; downloaded and folder datasets use their own splits, with at most
    ``max_train_images`` training images per domain (a seeded subset; 0 = all). Every unreadable
    file and empty domain is reported in one error, and nothing is written then. Returns a
    summary that is also written as ``summary.json``; ``paired_test`` says whether test
    ``a[i]`` and ``b[i]`` show the same scene.
    """
    size = config.image_size
    if config.name == "synthetic-daynight":
        arrays = _synthetic(config, seed)
        shows = SYNTHETIC_DOMAINS
    else:
        if config.name == "folder":
            files, problems = _folder_files(config.folder, config.test_fraction, seed)
            shows = FOLDER_DOMAINS
        else:
            files, problems = _archive_files(fetch_remote(config, raw_dir))
            shows = (CATALOG[config.name].a, CATALOG[config.name].b)
        for k, domain in enumerate(("trainA", "trainB")):
            files[domain] = cap(files[domain], config.max_train_images, _seed(seed, 2 + k))
        arrays = {}
        for domain in DOMAIN_FOLDERS:
            arrays[domain], domain_problems = _read_images(files[domain], size)
            problems += domain_problems
        if problems:
            raise problems_error(
                f"{len(problems)} problem(s) with the unpaired images (fix them, then run the "
                "stage again):",
                problems,
                UnpairedDataError,
            )
    summary = {
        "source": config.name,
        "image_size": size,
        "a": shows[0],
        "b": shows[1],
        "train_a": len(arrays["trainA"]),
        "train_b": len(arrays["trainB"]),
        "test_a": len(arrays["testA"]),
        "test_b": len(arrays["testB"]),
        "paired_test": config.name == "synthetic-daynight",
        "classes": list(scenes.CLASSES) if "trainA_classes" in arrays else [],
    }
    train_arrays, test_arrays = {}, {}
    for split, out in (("train", train_arrays), ("test", test_arrays)):
        for key, domain in (("a", "A"), ("b", "B")):
            out[key] = arrays[f"{split}{domain}"]
            if f"{split}{domain}_classes" in arrays:
                out[f"{key}_classes"] = arrays[f"{split}{domain}_classes"]
    return write_prepared(out_dir, train_arrays, test_arrays, summary)


def load_split(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """(a, b) uint8 arrays (Na, S, S, 3) and (Nb, S, S, 3) from a prepared ``.npz``."""
    return load_arrays(path, ("a", "b"), UnpairedDataError, "prepare_unpaired")


def load_classes(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """The class maps (uint8 N x S x S) of both domains of a prepared synthetic split."""
    return load_arrays(path, ("a_classes", "b_classes"), UnpairedDataError, "prepare_unpaired")


# --- tf.data ---------------------------------------------------------------------------------


def _check_domains(a: np.ndarray, b: np.ndarray, batch_size: int) -> None:
    for name, images in (("a", a), ("b", b)):
        if images.ndim != 4 or images.shape[1] != images.shape[2] or images.shape[-1] != 3:
            raise ValueError(f"expected {name} of shape (N, S, S, 3), got {images.shape}")
        if images.dtype != np.uint8:
            raise ValueError(f"expected {name} as uint8, got {images.dtype}")
        if len(images) < batch_size:
            raise ValueError(
                f"batch_size ({batch_size}) is larger than the {len(images)} images of domain "
                f"{name.upper()}"
            )
    if a.shape[1:] != b.shape[1:]:
        raise ValueError(f"a and b differ in image size: {a.shape[1:]} and {b.shape[1:]}")


def make_train_dataset(
    a: np.ndarray,
    b: np.ndarray,
    batch_size: int,
    seed: int,
    jitter: bool = True,
    start_step: int = 0,
) -> tf.data.Dataset:
    """An endless stream of (a batch, b batch) in -1..1 float32, the domains drawn independently.

    Each domain is shuffled on its own, a new seeded permutation on every pass over it; the
    domains may differ in size (an epoch is a pass over the larger one). Jitter (Zhu et al.
    2017, as in pix2pix): resize to 286/256 of the size (bilinear), crop back to the size at a
    random place and mirror at random, independently per image, as A and B are not aligned.
    Order and jitter are stateless functions of the draw number (:mod:`condgen.core.stream`):
    two datasets built with the same seed yield identical batches, and ``start_step`` resumes
    the stream exactly where an uninterrupted run would be.
    """
    import tensorflow as tf

    from condgen.core.stream import batched_items

    _check_domains(a, b, batch_size)
    size = a.shape[1]

    def domain(images: np.ndarray, key: int) -> tf.data.Dataset:
        domain_seed = _seed(seed, key)

        def augment(draw: tf.Tensor, image: tf.Tensor) -> tf.Tensor:
            if jitter:
                image = jitter_image(image, size, domain_seed, draw, "bilinear")
            return (to_model_range(image),)

        return batched_items((images,), domain_seed, batch_size, start_step, augment, per_item=True)

    return tf.data.Dataset.zip((domain(a, 0), domain(b, 2)))
