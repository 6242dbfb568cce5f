"""The MNIST evaluator: a small CNN whose features and predictions score generated digits.

It plays the role InceptionV3 plays for natural images: the Fréchet distance is computed in its
128-d feature space and the classifier score / label accuracy from its softmax.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import keras
import numpy as np
from keras import layers

from condgen.core import runtime
from condgen.core.files import save_atomic, write_text_atomic
from condgen.mnist import data as mnist
from condgen.mnist.config import EvaluatorConfig

FEATURE_LAYER = "features"


def build_classifier(seed: int) -> keras.Model:
    images = keras.Input(mnist.IMAGE_SHAPE, name="image")
    # Small shifts and rotations make up for the 4,000-digit bundled training split.
    x = layers.RandomTranslation(0.08, 0.08, fill_mode="constant", fill_value=-1.0, seed=seed)(
        images
    )
    x = layers.RandomRotation(0.04, fill_mode="constant", fill_value=-1.0, seed=seed + 1)(x)
    for filters in (32, 64):
        x = layers.Conv2D(filters, 3, padding="same", activation="relu")(x)
        x = layers.Conv2D(filters, 3, padding="same", activation="relu")(x)
        x = layers.MaxPooling2D()(x)
    x = layers.Flatten()(x)
    x = layers.Dense(128, activation="relu", name=FEATURE_LAYER)(x)
    x = layers.Dropout(0.5, seed=seed + 2)(x)
    logits = layers.Dense(mnist.NUM_CLASSES, name="logits")(x)
    return keras.Model(images, logits, name="mnist_evaluator")


def train_classifier(
    config: EvaluatorConfig, seed: int, data_dir: str | Path, out_dir: str | Path, verbose: int = 2
) -> dict:
    """Train the evaluator on the train split; write ``evaluator.keras`` and ``metrics.json``."""
    runtime.set_seed(seed)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    x_train, y_train = mnist.load_split(Path(data_dir) / "train.npz")
    x_test, y_test = mnist.load_split(Path(data_dir) / "test.npz")
    model = build_classifier(seed)
    model.compile(
        optimizer=keras.optimizers.Adam(config.learning_rate),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    model.fit(
        mnist.to_model_range(x_train),
        y_train.astype(np.int32),
        batch_size=config.batch_size,
        epochs=config.epochs,
        shuffle=True,
        verbose=verbose,
    )
    _, accuracy = model.evaluate(
        mnist.to_model_range(x_test), y_test.astype(np.int32), verbose=0, batch_size=256
    )
    save_atomic(out / "evaluator.keras", model.save)
    metrics = {"test_accuracy": round(float(accuracy), 6), "test_images": int(len(y_test))}
    write_text_atomic(out / "metrics.json", json.dumps(metrics, indent=2) + "\n")
    return metrics


class Evaluator:
    """A trained evaluator: softmax probabilities and penultimate features of -1..1 images."""

    def __init__(self, path: str | Path):
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"{path} not found: run `dvc repro train_evaluator` first")
        model = keras.models.load_model(path)
        # Which evaluator scored a generator: the md5 of its weights (the .keras file also
        # holds its save date, so equal networks saved twice differ as files).
        weights = b"".join(np.ascontiguousarray(w).tobytes() for w in model.get_weights())
        self.fingerprint = hashlib.md5(weights).hexdigest()
        self.model = keras.Model(
            model.inputs, [model.get_layer(FEATURE_LAYER).output, model.outputs[0]]
        )

    def __call__(self, images: np.ndarray, batch_size: int = 500) -> tuple[np.ndarray, np.ndarray]:
        """(features (N, 128), class probabilities (N, 10)) of -1..1 images (N, 28, 28, 1)."""
        features, logits = self.model.predict(images, batch_size=batch_size, verbose=0)
        logits = logits - logits.max(axis=1, keepdims=True)
        probs = np.exp(logits)
        return features.astype(np.float64), probs / probs.sum(axis=1, keepdims=True)


def stage() -> None:
    """The train_evaluator stage: params evaluator, seed -> models/evaluator/."""
    from condgen.core.params import load_section, load_seed

    config = load_section(EvaluatorConfig, "evaluator")
    metrics = train_classifier(config, load_seed(), "data/mnist", "models/evaluator")
    print(f"evaluator test accuracy: {metrics['test_accuracy']:.4f}")
