"""The CycleGAN family's params sections: data.unpaired and train.cyclegan."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Literal

from condgen.core.inputs import files_under
from condgen.core.params import ImageSource, ImageTrainConfig, field_


@dataclasses.dataclass(frozen=True, kw_only=True)
class UnpairedDataConfig(ImageSource):
    """Unpaired images for CycleGAN (``data.unpaired``); see :mod:`condgen.cyclegan.data`."""

    # synthetic-daynight: drawn offline; folder: your own trainA/trainB; the rest: downloads.
    name: Literal[
        "synthetic-daynight",
        "apple2orange",
        "summer2winter_yosemite",
        "horse2zebra",
        "monet2photo",
        "cezanne2photo",
        "ukiyoe2photo",
        "vangogh2photo",
        "maps",
        "cityscapes",
        "facades",
        "iphone2dslr_flower",
        "ae_photos",
        "grumpifycat",
        "folder",
    ] = "synthetic-daynight"
    # synthetic-daynight only: scenes per training domain, and test scenes (both renderings).
    num_train: int = field_(400, min=1)
    num_test: int = field_(50, min=1)


@dataclasses.dataclass(frozen=True, kw_only=True)
class CycleGANConfig(ImageTrainConfig):
    """Training settings of CycleGAN (``train.cyclegan``); paper defaults (Zhu et al. 2017)."""

    # resnet: c7s1-64, d128, d256, residual blocks, u128, u64, c7s1-3; unet: Pix2Pix's U-Net
    # with instance norm and no dropout.
    generator: Literal["resnet", "unet"] = "resnet"
    # What each generator outputs: none = a new image (the paper); logit | detail = a change
    # to its input image (condgen.core.layers.ChangeOfInput).
    change_a2b: Literal["none", "logit", "detail"] = "none"
    change_b2a: Literal["none", "logit", "detail"] = "none"
    # Residual blocks of the ResNet generator; 0 = the paper's choice (9 at 256 px, else 6).
    residual_blocks: int = field_(0, min=0)
    # lsgan: least squares (the paper); vanilla: binary cross-entropy on logits.
    gan_loss: Literal["lsgan", "vanilla"] = "lsgan"
    cycle_weight: float = field_(10.0, min=0.0)
    # Identity loss weight as a share of cycle_weight (the paper: 0.5; 0 turns it off).
    identity_weight: float = field_(0.5, min=0.0)
    # Generated images each discriminator keeps to learn from (Shrivastava et al.); 0 = none.
    pool_size: int = field_(50, min=0)
    lr_decay_start: float = field_(0.5, min=0.0, max=1.0)


DATA_CONFIG = UnpairedDataConfig
INPUTS_CONFIG = UnpairedDataConfig
TRAIN_CONFIG = CycleGANConfig


def external_files(config: UnpairedDataConfig) -> list[Path]:
    """The user's files this section reads: every file of a ``folder`` source."""
    return files_under(config.folder) if config.name == "folder" else []
