"""Train one MNIST GAN (GAN, cGAN, DCGAN) on the prepared digits with the one fit driver."""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np

from condgen.core.fit import Recipe, TrainingData, train_adversarial
from condgen.mnist import data
from condgen.mnist.config import GanConfig
from condgen.mnist.model import GAN
from condgen.mnist.networks import NETWORKS


def build(model, config: GanConfig, seed: int) -> GAN:
    """The GAN of the model row ``model`` (networks and switches from config), uncompiled."""
    build_generator, build_discriminator = NETWORKS[model.networks]
    return GAN(
        build_generator(config.noise_dim),
        build_discriminator(),
        noise_dim=config.noise_dim,
        conditional=model.conditional,
        seed=seed,
        ema_decay=config.ema_decay,
        diff_augment=config.diff_augment,
        mismatch_weight=config.mismatch_weight,
        name=model.name,
    )


class MnistRecipe(Recipe):
    def load(self, data_dir: Path) -> TrainingData:
        images, labels = data.load_split(data_dir / "train.npz")
        return TrainingData(
            arrays=(images, labels),
            epoch_items=len(images),
            smallest=len(images),
            unit="training images",
            files=(data_dir / "train.npz",),
            counts={"train_images": int(len(images))},
        )

    def dataset(self, training: TrainingData, global_batch: int, start_step: int = 0):
        images, labels = training.arrays
        return data.make_dataset(
            images,
            labels,
            global_batch,
            self.seed,
            conditional=self.model.conditional,
            start_step=start_step,
        )

    def build(self, training: TrainingData):
        return build(self.model, self.config, self.seed)

    def save(self, model: keras.Model, out: Path) -> None:
        model.final_generator.save(out / "generator.keras")

    def preview(self, model: keras.Model, training: TrainingData):
        """Ten digits from four fixed noises (cGAN: column = digit) of the kept generator."""
        from condgen.core.images import to_uint8
        from condgen.core.plots import image_grid

        noise = np.random.default_rng(0).normal(size=(40, self.config.noise_dim))
        noise = noise.astype("float32")
        inputs = noise
        if self.model.conditional:
            inputs = [noise, np.eye(10, dtype="float32")[np.arange(40) % 10]]
        images = model.final_generator(inputs, training=False)
        return image_grid(to_uint8(np.asarray(images)), 4, 10, scale=2)


def train(
    model,
    config: GanConfig,
    seed: int,
    data_dir: str | Path,
    out_dir: str | Path,
    checkpoint_dir: str | Path,
    **options,
) -> dict:
    """Train ``model`` and write ``generator.keras`` (the weight average when there is one),
    ``history.csv`` and ``run.json`` to ``out_dir``; see :func:`train_adversarial`."""
    return train_adversarial(
        MnistRecipe(model, config, seed),
        data_dir,
        out_dir,
        checkpoint_dir,
        **options,
    )
