"""Train CycleGAN on the prepared unpaired domains with the one fit driver."""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np

from condgen.core.fit import Recipe, TrainingData, train_adversarial
from condgen.cyclegan import data
from condgen.cyclegan.config import CycleGANConfig

GENERATOR_FILES = {"a2b": "generator_a2b.keras", "b2a": "generator_b2a.keras"}


def build(config: CycleGANConfig, image_size: int, seed: int):
    """The CycleGAN for ``config`` at ``image_size`` px, uncompiled."""
    from condgen.cyclegan.model import build_cyclegan

    return build_cyclegan(
        image_size,
        generator=config.generator,
        residual_blocks=config.residual_blocks or None,
        base_filters=config.base_filters,
        patch=str(config.patch),
        gan_loss=config.gan_loss,
        cycle_weight=config.cycle_weight,
        identity_weight=config.identity_weight,
        pool_size=config.pool_size,
        seed=seed,
        change_a2b=config.change_a2b,
        change_b2a=config.change_b2a,
    )


class CycleGANRecipe(Recipe):
    def load(self, data_dir: Path) -> TrainingData:
        images_a, images_b = data.load_split(data_dir / "train.npz")
        return TrainingData(
            arrays=(images_a, images_b),
            # An epoch is one pass over the larger domain (as the paper's code counts it).
            epoch_items=max(len(images_a), len(images_b)),
            smallest=min(len(images_a), len(images_b)),
            unit="training images of the smaller domain",
            files=(data_dir / "train.npz",),
            counts={"train_a": int(len(images_a)), "train_b": int(len(images_b))},
            fingerprint={"image_size": int(images_a.shape[1])},
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
        return build(self.config, training.fingerprint["image_size"], self.seed)

    def save(self, model: keras.Model, out: Path) -> None:
        model.generator_a2b.save(out / GENERATOR_FILES["a2b"])
        model.generator_b2a.save(out / GENERATOR_FILES["b2a"])

    def preview(self, model: keras.Model, training: TrainingData):
        """Six fixed A images and G(A) now, then six B images and F(B)."""
        from condgen.core.fit import translation_preview
        from condgen.core.images import to_model_range, to_uint8

        rows = []
        for images, generator in zip(
            training.arrays[:2], (model.generator_a2b, model.generator_b2a), strict=True
        ):
            fake = generator(to_model_range(images[:6]), training=False)
            rows += [images[:6], to_uint8(np.asarray(fake))]
        return translation_preview(*rows)


def train(
    model,
    config: CycleGANConfig,
    seed: int,
    data_dir: str | Path,
    out_dir: str | Path,
    checkpoint_dir: str | Path,
    **options,
) -> dict:
    """Train CycleGAN and write ``generator_a2b.keras``, ``generator_b2a.keras``,
    ``history.csv`` and ``run.json`` to ``out_dir``. The backups carry the networks, the
    optimizers (and so the learning-rate schedule) and both image pools."""
    return train_adversarial(
        CycleGANRecipe(model, config, seed), data_dir, out_dir, checkpoint_dir, **options
    )
