"""Train Pix2Pix on the prepared pairs with the one fit driver."""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np

from condgen.core.fit import Recipe, TrainingData, train_adversarial
from condgen.pix2pix import data
from condgen.pix2pix.config import Pix2PixConfig


def build(config: Pix2PixConfig, image_size: int):
    """The Pix2Pix model for ``config`` at ``image_size`` px, uncompiled."""
    from condgen.pix2pix.model import build_pix2pix

    return build_pix2pix(
        image_size,
        generator=config.generator,
        patch=str(config.patch),
        l1_weight=config.l1_weight,
        base_filters=config.base_filters,
    )


class Pix2PixRecipe(Recipe):
    def load(self, data_dir: Path) -> TrainingData:
        images_a, images_b = data.load_split(data_dir / "train.npz")
        image_size = int(images_a.shape[1])
        return TrainingData(
            arrays=(images_a, images_b),
            epoch_items=len(images_a),
            smallest=len(images_a),
            unit="training pairs",
            files=(data_dir / "train.npz",),
            counts={"train_pairs": int(len(images_a))},
            fingerprint={"image_size": image_size},
        )

    def dataset(self, training: TrainingData, global_batch: int, start_step: int = 0):
        images_a, images_b = training.arrays
        return data.make_train_dataset(
            images_a,
            images_b,
            global_batch,
            self.seed,
            jitter=self.config.jitter,
            start_step=start_step,
        )

    def build(self, training: TrainingData):
        return build(self.config, training.fingerprint["image_size"])

    def save(self, model: keras.Model, out: Path) -> None:
        model.generator.save(out / "generator.keras")

    def preview(self, model: keras.Model, training: TrainingData):
        """The first six training label maps, their translation now, and the true photos."""
        from condgen.core.fit import translation_preview
        from condgen.core.images import to_model_range, to_uint8
        from condgen.serving.translate import translate

        images_a, images_b = (x[:6] for x in training.arrays)
        # As evaluation and serving run it; a fixed seed writes no variable.
        inputs = to_model_range(images_a)
        fake = translate(model.generator, inputs, self.config.train_mode_at_test, seed=0)
        return translation_preview(images_a, to_uint8(np.asarray(fake)), images_b)

    def run_info(self, training: TrainingData) -> dict:
        # Serving reads how the generator runs at test time.
        return {"train_mode_at_test": self.config.train_mode_at_test}


def train(
    model,
    config: Pix2PixConfig,
    seed: int,
    data_dir: str | Path,
    out_dir: str | Path,
    checkpoint_dir: str | Path,
    **options,
) -> dict:
    """Train Pix2Pix and write ``generator.keras``, ``history.csv`` and ``run.json`` to
    ``out_dir``; see :func:`condgen.core.fit.train_adversarial`."""
    return train_adversarial(
        Pix2PixRecipe(model, config, seed), data_dir, out_dir, checkpoint_dir, **options
    )
