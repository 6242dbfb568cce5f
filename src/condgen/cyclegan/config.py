"""The CycleGAN family's params sections: data.unpaired and train.cyclegan."""

from __future__ import annotations

import dataclasses
from typing import Literal

from condgen.core.params import AdamSchedule, RunSwitches, field_


@dataclasses.dataclass(frozen=True)
class UnpairedDataConfig:
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
    image_size: int = field_(64, min=32, max=256)
    # synthetic-daynight only: scenes per training domain, and test scenes (both renderings).
    num_train: int = field_(400, min=1)
    num_test: int = field_(50, min=1)
    # Downloads: empty url = the CycleGAN server; empty sha256 = the catalog's pin, if any.
    url: str = ""
    sha256: str = ""
    timeout_seconds: float = field_(60.0, min=0.1)
    # folder only: trainA/ and trainB/ (testA/ and testB/ optional: else test_fraction of each).
    folder: str = ""
    test_fraction: float = field_(0.2, min=0.05, max=0.5)
    # Downloads and folder: keep this many training images per domain (seeded; 0 = all).
    max_train_images: int = field_(0, min=0)


@dataclasses.dataclass(frozen=True, kw_only=True)
class CycleGANConfig(AdamSchedule, RunSwitches):
    """Training settings of CycleGAN (``train.cyclegan``); paper defaults (Zhu et al. 2017)."""

    epochs: int = field_(min=1)
    batch_size: int = field_(1, min=1)
    # resnet: c7s1-64, d128, d256, residual blocks, u128, u64, c7s1-3; unet: Pix2Pix's U-Net
    # with instance norm and no dropout.
    generator: Literal["resnet", "unet"] = "resnet"
    # Residual blocks of the ResNet generator; 0 = the paper's choice (9 at 256 px, else 6).
    residual_blocks: int = field_(0, min=0)
    # Filters of the first layer of every network (the paper: 64).
    base_filters: int = field_(64, min=4)
    # PatchGAN receptive field of both discriminators (the paper: 70).
    patch: Literal["pixel", 16, 70, 286] = 70
    # lsgan: least squares (the paper); vanilla: binary cross-entropy on logits.
    gan_loss: Literal["lsgan", "vanilla"] = "lsgan"
    cycle_weight: float = field_(10.0, min=0.0)
    # Identity loss weight as a share of cycle_weight (the paper: 0.5; 0 turns it off).
    identity_weight: float = field_(0.5, min=0.0)
    # Generated images each discriminator keeps to learn from (Shrivastava et al.); 0 = none.
    pool_size: int = field_(50, min=0)
    # Resize to 286/256 of the size, random crop back and mirror (each domain on its own).
    jitter: bool = True
    lr_decay_start: float = field_(0.5, min=0.0, max=1.0)


DATA_CONFIG = UnpairedDataConfig
TRAIN_CONFIG = CycleGANConfig
