"""Model families and the registry that maps a model name to its networks."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import keras

from condgen.models.cgan import build_cgan_discriminator, build_cgan_generator
from condgen.models.dcgan import build_dcgan_discriminator, build_dcgan_generator
from condgen.models.gan import GAN, build_gan_discriminator, build_gan_generator


@dataclass(frozen=True)
class MnistModelSpec:
    """How to build one MNIST model family, and how its champion is judged."""

    name: str
    build_generator: Callable[[int], keras.Model]
    build_discriminator: Callable[[], keras.Model]
    conditional: bool
    primary_metric: str
    greater_is_better: bool


MODELS: dict[str, MnistModelSpec] = {
    "gan": MnistModelSpec(
        "gan", build_gan_generator, build_gan_discriminator, False, "fid_mnist", False
    ),
    "cgan": MnistModelSpec(
        "cgan", build_cgan_generator, build_cgan_discriminator, True, "label_accuracy", True
    ),
    "dcgan": MnistModelSpec(
        "dcgan", build_dcgan_generator, build_dcgan_discriminator, False, "fid_mnist", False
    ),
}

__all__ = ["GAN", "MODELS", "MnistModelSpec"]
