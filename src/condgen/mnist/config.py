"""The MNIST family's params sections: data.mnist, evaluator, train.<gan|cgan|dcgan>, evaluate."""

from __future__ import annotations

import dataclasses
from typing import Literal

from condgen.core.params import SHA256, AdamSchedule, ConfigError, RunSwitches, field_


@dataclasses.dataclass(frozen=True)
class MnistDataConfig:
    source: Literal["bundled", "keras"] = "bundled"
    test_fraction: float = field_(0.2, min=0.05, max=0.5)
    # Keep only this many training digits (stratified; 0 = all): for quick trials and tests.
    max_train_images: int = field_(0, min=0)
    url: str = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz"
    sha256: str = field_(
        "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1", **SHA256
    )
    timeout_seconds: float = field_(60.0, min=0.1)


@dataclasses.dataclass(frozen=True)
class EvaluateConfig:
    num_samples: int = field_(2000, min=10)
    sample_seed: int = field_(1234, min=0)
    grid_seed: int = field_(0, min=0)


@dataclasses.dataclass(frozen=True)
class EvaluatorConfig:
    epochs: int = field_(10, min=1)
    batch_size: int = field_(64, min=1)
    learning_rate: float = field_(1e-3, min=0.0, lo_open=True)


@dataclasses.dataclass(frozen=True, kw_only=True)
class GanConfig(AdamSchedule, RunSwitches):
    """Training settings of one MNIST GAN (``train.<model>``)."""

    epochs: int = field_(min=1)
    batch_size: int = field_(min=1)
    noise_dim: int = field_(100, min=1)
    # Decay of the generator weight average that is evaluated and served (0 = no average).
    ema_decay: float = field_(0.0, min=0.0, max=1.0, hi_open=True)
    # Differentiable augmentation of D's real and generated inputs (Zhao et al. 2020).
    diff_augment: Literal["", "translation", "cutout", "translation,cutout"] = ""
    # cGAN only: weight of D's loss on real digits paired with a wrong label (Reed et al. 2016).
    mismatch_weight: float = field_(0.0, min=0.0)


DATA_CONFIG = MnistDataConfig
TRAIN_CONFIG = GanConfig


def check_train(model, config: GanConfig) -> None:
    """``mismatch_weight`` needs labels to mismatch: only conditional models take it."""
    from condgen import families

    if config.mismatch_weight > 0.0 and not model.conditional:
        conditional = ", ".join(m.name for m in families.models_of(model.family) if m.conditional)
        raise ConfigError(
            f"{model.train_section}.mismatch_weight: {config.mismatch_weight} needs labels to "
            f"mismatch; only {conditional} has them (set it to 0.0)"
        )
