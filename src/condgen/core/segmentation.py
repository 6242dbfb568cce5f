"""The segmentation score of generated photos (pix2pix's "FCN-score", Isola et al. 2017).

A small fully convolutional network is trained on real training photos -> class maps (its own
stage, its own accuracy recorded); a generated photo then scores by how well the network
recovers the class map of the scene it was made from: mean IoU over the classes and pixel
accuracy. The same network reading the real test photos gives the upper bound, and reading
the trivial answers (the mean image, a colour map, the unchanged input) their scores.

Only data with class maps can be scored this way (the synthetic facades and day/night scenes);
for other data the stage records why not.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import numpy as np

from condgen.core.files import save_atomic, write_text_atomic
from condgen.core.params import field_

INFO_FILE = "segmenters.json"


@dataclasses.dataclass(frozen=True)
class SegmenterConfig:
    """The ``segmenter`` params section."""

    epochs: int = field_(8, min=1)
    batch_size: int = field_(16, min=1)
    learning_rate: float = field_(2e-3, min=0.0, lo_open=True)
    base_filters: int = field_(16, min=4)


def build_segmenter(image_size: int, num_classes: int, base_filters: int = 16, depth: int = 3):
    """A small U-Net-shaped FCN: uint8-range RGB in (N, S, S, 3), class logits out (N, S, S, K).

    Three 2x2 poolings with two 3x3 conv-BN-ReLU blocks per level and skips at each level, as
    in Ronneberger et al. 2015, at a width (``base_filters``) a CPU trains in a minute.
    """
    import keras
    from keras import layers

    def block(x, filters: int, name: str):
        for i in (1, 2):
            x = layers.Conv2D(filters, 3, padding="same", use_bias=False, name=f"{name}_conv{i}")(x)
            x = layers.BatchNormalization(name=f"{name}_bn{i}")(x)
            x = layers.ReLU(name=f"{name}_relu{i}")(x)
        return x

    inputs = keras.Input((image_size, image_size, 3), name="image")
    x = layers.Rescaling(1 / 127.5, offset=-1.0, name="to_unit_range")(inputs)
    skips = []
    for level in range(depth):
        x = block(x, base_filters * 2**level, f"down{level + 1}")
        skips.append(x)
        x = layers.MaxPooling2D(padding="same", name=f"pool{level + 1}")(x)
    x = block(x, base_filters * 2**depth, "bottom")
    for level in reversed(range(depth)):
        skip = skips[level]
        x = layers.UpSampling2D(name=f"up{level + 1}")(x)
        if x.shape[1] != skip.shape[1]:  # odd sizes: the pooled map was rounded up
            x = layers.Cropping2D(((0, x.shape[1] - skip.shape[1]),) * 2, name=f"crop{level}")(x)
        x = layers.Concatenate(name=f"skip{level + 1}")([x, skip])
        x = block(x, base_filters * 2**level, f"up{level + 1}")
    logits = layers.Conv2D(num_classes, 1, name="logits")(x)
    return keras.Model(inputs, logits, name="segmenter")


def train_segmenter(
    images: np.ndarray,
    classes: np.ndarray,
    num_classes: int,
    config: SegmenterConfig,
    seed: int,
    verbose: int = 2,
):
    """Fit a segmenter on uint8 photos (N, S, S, 3) and class maps (N, S, S); mirrored copies
    are added (a facade mirrored is a facade), and the shuffle is seeded."""
    import keras

    from condgen.core import runtime

    images, classes = np.asarray(images), np.asarray(classes)
    if images.shape[:3] != classes.shape or images.ndim != 4:
        raise ValueError(f"photos {images.shape} and class maps {classes.shape} do not match")
    if classes.max() >= num_classes:
        raise ValueError(f"class maps hold class {classes.max()}, but only {num_classes} exist")
    runtime.set_seed(seed)
    x = np.concatenate([images, images[:, :, ::-1]]).astype(np.float32)
    y = np.concatenate([classes, classes[:, :, ::-1]]).astype(np.int32)
    model = build_segmenter(images.shape[1], num_classes, config.base_filters)
    steps = config.epochs * max(1, len(x) // config.batch_size)
    schedule = keras.optimizers.schedules.CosineDecay(config.learning_rate, steps)
    model.compile(
        optimizer=keras.optimizers.Adam(schedule),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    model.fit(x, y, batch_size=config.batch_size, epochs=config.epochs, verbose=verbose)
    return model


def weights_md5(model) -> str:
    """Which network scored: the md5 of its weights (a .keras file also holds its save date)."""
    weights = b"".join(np.ascontiguousarray(w).tobytes() for w in model.get_weights())
    return hashlib.md5(weights).hexdigest()


def predict_classes(model, images: np.ndarray, batch_size: int = 64) -> np.ndarray:
    """Class maps (uint8 N x S x S) the segmenter reads in uint8 photos (N, S, S, 3)."""
    logits = model.predict(np.asarray(images, np.float32), batch_size=batch_size, verbose=0)
    return logits.argmax(axis=-1).astype(np.uint8)


def confusion(predicted: np.ndarray, truth: np.ndarray, num_classes: int) -> np.ndarray:
    """(K, K) pixel counts: row = true class, column = predicted class."""
    pairs = np.asarray(truth, np.int64).reshape(-1) * num_classes + np.asarray(
        predicted, np.int64
    ).reshape(-1)
    return np.bincount(pairs, minlength=num_classes**2).reshape(num_classes, num_classes)


def segmentation_scores(
    predicted: np.ndarray, truth: np.ndarray, num_classes: int
) -> dict[str, float]:
    """Mean IoU over the classes present in ``truth`` and the pixel accuracy (the FCN-score's
    "class IOU" and "per-pixel acc.") of predicted vs true class maps (N, S, S)."""
    counts = confusion(predicted, truth, num_classes)
    true_total, predicted_total = counts.sum(axis=1), counts.sum(axis=0)
    hits = np.diag(counts)
    present = true_total > 0
    iou = hits[present] / (true_total + predicted_total - hits)[present]
    return {
        "mean_iou": float(iou.mean()),
        "pixel_accuracy": float(hits.sum() / counts.sum()),
    }


@dataclasses.dataclass(frozen=True)
class Segmenters:
    """The trained segmenters of a data set, by name (``photo``; ``a``, ``b``), and why there
    are none when the data has no class maps."""

    models: Mapping[str, object]
    num_classes: int
    fingerprint: str
    note: str = ""

    @classmethod
    def load(cls, model_dir: str | Path, stage: str) -> Segmenters:
        import keras

        model_dir = Path(model_dir)
        info_file = model_dir / INFO_FILE
        if not info_file.is_file():
            raise FileNotFoundError(f"{info_file} not found: run `dvc repro {stage}` first")
        info = json.loads(info_file.read_text())
        models = {n: keras.models.load_model(model_dir / f"{n}.keras") for n in info["names"]}
        md5 = hashlib.md5("".join(weights_md5(m) for m in models.values()).encode()).hexdigest()
        return cls(models, int(info["num_classes"]), md5 if models else "", info.get("note", ""))

    def score(self, name: str, images: np.ndarray, truth: np.ndarray) -> dict[str, float]:
        return segmentation_scores(
            predict_classes(self.models[name], images), truth, self.num_classes
        )


def train_and_save(
    sets: Mapping[str, tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]],
    class_names: Sequence[str],
    config: SegmenterConfig,
    seed: int,
    model_dir: str | Path,
    report_dir: str | Path,
    note: str = "",
) -> dict:
    """Train one segmenter per named set (train photos, train maps, test photos, test maps);
    write ``<name>.keras`` and :data:`INFO_FILE` to ``model_dir`` and each one's test scores,
    beside those of the mean training photo, to ``report_dir/metrics.json``.

    No sets (data without class maps): only the info file and the metrics, with ``note``.
    """
    from condgen.core import baselines

    model_dir, report_dir = Path(model_dir), Path(report_dir)
    model_dir.mkdir(parents=True, exist_ok=True)
    report_dir.mkdir(parents=True, exist_ok=True)
    metrics: dict = {"num_classes": len(class_names)} if sets else {"note": note}
    for i, (name, (x_train, y_train, x_test, y_test)) in enumerate(sets.items()):
        model = train_segmenter(x_train, y_train, len(class_names), config, seed + i)
        save_atomic(model_dir / f"{name}.keras", model.save)
        real = segmentation_scores(predict_classes(model, x_test), y_test, len(class_names))
        mean_photo = np.broadcast_to(baselines.mean_image(x_train), x_test.shape)
        trivial = segmentation_scores(predict_classes(model, mean_photo), y_test, len(class_names))
        for metric in ("mean_iou", "pixel_accuracy"):
            baselines.compare(
                metrics, metric, real[metric], {"mean_target": trivial[metric]}, True, f"{name}_"
            )
        metrics[f"{name}_num_test"] = int(len(x_test))
    info = {"names": list(sets), "num_classes": len(class_names), "classes": list(class_names)}
    if note:
        info["note"] = note
    write_text_atomic(model_dir / INFO_FILE, json.dumps(info, indent=2) + "\n")
    from condgen.core.metrics import rounded

    write_text_atomic(report_dir / "metrics.json", json.dumps(rounded(metrics), indent=2) + "\n")
    return metrics


def train_from_prepared(
    config: SegmenterConfig,
    seed: int,
    data_dir: str | Path,
    model_dir: str | Path,
    report_dir: str | Path,
    load_sets: Callable[[Path], dict],
    has_maps: str,
) -> dict:
    """A segmenter stage on prepared data: the sets ``load_sets(data_dir)`` gives when its
    ``summary.json`` names classes, else only a note that the data has no class maps (only
    ``has_maps`` does)."""
    data_dir = Path(data_dir)
    summary = json.loads((data_dir / "summary.json").read_text())
    class_names = summary.get("classes", [])
    if not class_names:
        note = (
            f"no segmentation score: {summary.get('source')} has no class maps (only {has_maps} do)"
        )
        return train_and_save({}, [], config, seed, model_dir, report_dir, note)
    sets = load_sets(data_dir)
    return train_and_save(sets, class_names, config, seed, model_dir, report_dir)


def run_stage(train, data_dir: str, model_dir: str, report_dir: str) -> None:
    """The DVC stage: params ``segmenter`` and ``seed`` -> ``train(config, seed, ...)``."""
    from condgen.core.params import load_section, load_seed

    config = load_section(SegmenterConfig, "segmenter")
    print(json.dumps(train(config, load_seed(), data_dir, model_dir, report_dir), indent=2))
