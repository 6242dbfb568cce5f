"""Evaluate a trained MNIST generator: metrics JSON, sample grid and loss curves.

Every score is taken against the held-out test digits, beside the real-data floor at the same
sample size and the trivial answers (:mod:`condgen.mnist.trivial`), with a memorisation check:
a generator that copies its training digits reaches the floor, so FID alone cannot tell it
from a good one.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from condgen.core import metrics as m
from condgen.core import runtime
from condgen.core.baselines import compare
from condgen.core.files import save_atomic, write_text_atomic
from condgen.core.images import to_uint8
from condgen.core.plots import image_grid, loss_curves
from condgen.mnist import data as mnist
from condgen.mnist.config import EvaluateConfig
from condgen.mnist.evaluator import Evaluator
from condgen.mnist.trivial import trivial_answers

EVALUATOR_PATH = "models/evaluator/evaluator.keras"

LOSS_COLUMNS = ("g_loss", "d_loss")


def generate(generator, noise: np.ndarray, labels: np.ndarray | None) -> np.ndarray:
    """-1..1 images from a generator; ``labels`` (ints) makes it a conditional call."""
    if labels is None:
        return generator.predict(noise, batch_size=500, verbose=0)
    onehot = np.eye(mnist.NUM_CLASSES, dtype=np.float32)[labels]
    return generator.predict([noise, onehot], batch_size=500, verbose=0)


def evaluate_stage(
    model, params_path: str | Path, seed: int, model_dir: str, data_dir: str, out_dir: str
) -> dict:
    """The evaluate stage of an MNIST model: params ``evaluate`` and the trained evaluator."""
    from condgen.core.params import load_section

    config = load_section(EvaluateConfig, "evaluate", params_path)
    return evaluate(model, config, model_dir, data_dir, EVALUATOR_PATH, out_dir)


def evaluate(
    model,
    config: EvaluateConfig,
    model_dir: str | Path,
    data_dir: str | Path,
    evaluator_path: str | Path,
    out_dir: str | Path,
) -> dict:
    """Score ``model_dir/generator.keras``; write ``metrics.json``, ``grid.png``, ``losses.png``."""
    import keras

    model_dir, out = Path(model_dir), Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    runtime.set_seed(config.sample_seed)
    generator = keras.models.load_model(model_dir / "generator.keras")
    noise_dim = generator.inputs[0].shape[-1]
    evaluator = Evaluator(evaluator_path)

    train = mnist.load_split(Path(data_dir) / "train.npz")
    test = mnist.load_split(Path(data_dir) / "test.npz")
    rng = np.random.default_rng(config.sample_seed)
    noise = rng.standard_normal((config.num_samples, noise_dim)).astype(np.float32)
    requested = np.arange(config.num_samples) % mnist.NUM_CLASSES if model.conditional else None
    fake = generate(generator, noise, requested)
    result = held_out_scores(evaluator, fake, requested, train, test, config.sample_seed)
    result["evaluator"] = evaluator.fingerprint
    result = m.rounded(result)
    write_text_atomic(out / "metrics.json", json.dumps(result, indent=2) + "\n")

    _save_grid(generator, model.conditional, noise_dim, config.grid_seed, out / "grid.png")
    history = pd.read_csv(model_dir / "history.csv")
    loss_curves(history, LOSS_COLUMNS, out / "losses.png", f"{model.name} losses per epoch")
    return result


def held_out_scores(
    evaluator: Evaluator,
    samples: np.ndarray,
    requested: np.ndarray | None,
    train: tuple[np.ndarray, np.ndarray],
    test: tuple[np.ndarray, np.ndarray],
    seed: int,
    copy_percentile: float = 1.0,
) -> dict:
    """Every MNIST metric of -1..1 ``samples`` (labels ``requested`` if conditional), against
    the held-out ``test`` digits, beside the real-data floor and the trivial answers.

    ``train`` and ``test`` are (uint8 images, labels). All FIDs use ``len(samples)`` images
    against all test digits: the model's samples, the floor's training digits (drawn without
    replacement, all if fewer) and each trivial answer's images.
    """
    x_train, y_train = train
    x_test, _ = test
    num_samples = len(samples)
    draw = np.random.default_rng([seed, 1])  # other draws than the generator's noise
    floor_idx = draw.choice(len(x_train), min(num_samples, len(x_train)), replace=False)
    test_features, test_probs = evaluator(mnist.to_model_range(x_test))
    floor_features, _ = evaluator(mnist.to_model_range(x_train[floor_idx]))
    scores = _sample_scores(evaluator, samples, requested, test_features)
    result: dict = {
        "num_samples": num_samples,
        "num_test": len(x_test),
        "fid_mnist": scores["fid_mnist"],
        # Real training digits against the same test digits, at the same sample size: what a
        # perfect generator (or one that copies its training digits) would score.
        "fid_mnist_floor": m.fid(floor_features, test_features),
        "fid_mnist_floor_num_real": len(floor_idx),
        "classifier_score_real": m.classifier_score(test_probs),
    }
    trivial = trivial_answers(x_train, y_train, num_samples, requested, draw)
    trivial_scores = {
        name: _sample_scores(evaluator, images, requested, test_features)
        for name, images in trivial.items()
    }
    metrics = [("fid_mnist", False), ("classifier_score", True)]
    if requested is not None:
        metrics.append(("label_accuracy", True))
    for metric, greater_is_better in metrics:
        values = {name: s[metric] for name, s in trivial_scores.items()}
        compare(result, metric, scores[metric], values, greater_is_better)
    result.update({k: v for k, v in scores.items() if k not in result})

    # Pixel distances on the 0..1 scale: a copied digit lies at (near) 0 from its source,
    # while the evaluator's features, trained to tell classes apart, pull every digit of a
    # class towards the others and would hide copies among them.
    train_pixels = np.asarray(x_train, np.float32) / 255.0
    heldout_nn = m.nearest_distances(np.asarray(x_test, np.float32) / 255.0, train_pixels)
    sample_nn = m.nearest_distances(_unit(samples), train_pixels)
    check = m.memorisation(sample_nn, heldout_nn, copy_percentile)
    result.update({f"memorisation_{k}": v for k, v in check.items()})
    result["memorisation_copy_percentile"] = copy_percentile
    result["memorisation_note"] = "distance to the nearest training digit: pixel L2, 0..1 scale"
    return result


def _sample_scores(
    evaluator: Evaluator,
    images: np.ndarray,
    requested: np.ndarray | None,
    test_features: np.ndarray,
) -> dict:
    """The evaluator's scores of one set of -1..1 images (a model's or a trivial answer's)."""
    features, probs = evaluator(images)
    scores: dict = {
        "fid_mnist": m.fid(features, test_features),
        "classifier_score": m.classifier_score(probs),
        **m.class_coverage(probs),
    }
    if requested is not None:
        overall, per_label = m.label_accuracy(probs, requested)
        hits = int((probs.argmax(axis=1) == np.asarray(requested)).sum())
        low, high = m.wilson_interval(hits, len(requested))
        scores.update(
            label_accuracy=overall,
            label_accuracy_ci95_low=low,
            label_accuracy_ci95_high=high,
            label_accuracy_per_label=per_label,
        )
    return scores


def _unit(images: np.ndarray) -> np.ndarray:
    """-1..1 model-range images (N, 28, 28, 1) -> 0..1 (N, 28, 28), the training digits' scale."""
    return np.clip((np.asarray(images, np.float32)[..., 0] + 1.0) / 2.0, 0.0, 1.0)


def _save_grid(generator, conditional: bool, noise_dim: int, seed: int, path: Path) -> None:
    rng = np.random.default_rng(seed)
    if conditional:
        # One row per label; each column shares its noise, so a column shows one "style".
        noise = np.tile(rng.standard_normal((10, noise_dim)).astype(np.float32), (10, 1))
        labels = np.repeat(np.arange(10), 10)
        images = generate(generator, noise, labels)
        grid = image_grid(to_uint8(images), 10, 10, row_labels=[str(d) for d in range(10)])
    else:
        noise = rng.standard_normal((100, noise_dim)).astype(np.float32)
        grid = image_grid(to_uint8(generate(generator, noise, None)), 10, 10)
    save_atomic(path, grid.save)
