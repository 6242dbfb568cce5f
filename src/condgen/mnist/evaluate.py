"""Evaluate a trained MNIST generator: metrics JSON, sample grid and loss curves."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from condgen.core import metrics as m
from condgen.core import runtime
from condgen.core.images import to_uint8
from condgen.core.plots import image_grid, loss_curves
from condgen.mnist import data as mnist
from condgen.mnist.config import EvaluateConfig
from condgen.mnist.evaluator import Evaluator

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

    x_train, _ = mnist.load_split(Path(data_dir) / "train.npz")
    x_test, _ = mnist.load_split(Path(data_dir) / "test.npz")
    train_features, _ = evaluator(mnist.to_model_range(x_train))
    test_features, test_probs = evaluator(mnist.to_model_range(x_test))

    rng = np.random.default_rng(config.sample_seed)
    noise = rng.standard_normal((config.num_samples, noise_dim)).astype(np.float32)
    requested = np.arange(config.num_samples) % mnist.NUM_CLASSES if model.conditional else None
    fake = generate(generator, noise, requested)
    fake_features, fake_probs = evaluator(fake)

    result: dict = {
        "num_samples": config.num_samples,
        "fid_mnist": m.fid(fake_features, train_features),
        # Real test digits against real training digits: the best a generator can hope for.
        "fid_mnist_floor": m.fid(test_features, train_features),
        "classifier_score": m.classifier_score(fake_probs),
        "classifier_score_real": m.classifier_score(test_probs),
        **m.class_coverage(fake_probs),
        "evaluator": evaluator.fingerprint,
    }
    if model.conditional:
        overall, per_label = m.label_accuracy(fake_probs, requested)
        result["label_accuracy"] = overall
        result["label_accuracy_per_label"] = per_label
    result = m.rounded(result)
    (out / "metrics.json").write_text(json.dumps(result, indent=2) + "\n")

    _save_grid(generator, model.conditional, noise_dim, config.grid_seed, out / "grid.png")
    history = pd.read_csv(model_dir / "history.csv")
    loss_curves(history, LOSS_COLUMNS, out / "losses.png", f"{model.name} losses per epoch")
    return result


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
    grid.save(path)
