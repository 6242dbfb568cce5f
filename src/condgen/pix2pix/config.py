"""The Pix2Pix family's params sections: data.paired and train.pix2pix."""

from __future__ import annotations

import dataclasses
from typing import Literal

from condgen.core.params import AdamSchedule, RunSwitches, field_


@dataclasses.dataclass(frozen=True)
class PairedDataConfig:
    """Paired images for Pix2Pix (``data.paired``); see :mod:`condgen.pix2pix.data`."""

    # synthetic-facades: drawn offline; folder: your own A|B images; the rest: pix2pix downloads.
    name: Literal[
        "synthetic-facades",
        "facades",
        "cityscapes",
        "maps",
        "edges2shoes",
        "edges2handbags",
        "night2day",
        "folder",
    ] = "synthetic-facades"
    # Side of the square images every source is resized to (256 in the paper).
    image_size: int = field_(64, min=32, max=256)
    # synthetic-facades only: how many scenes per split.
    num_train: int = field_(400, min=1)
    num_test: int = field_(100, min=1)
    # AtoB: left half (A) -> right half (B); BtoA swaps them (facades label -> photo is BtoA).
    direction: Literal["AtoB", "BtoA"] = "AtoB"
    # Downloads: empty url = the pix2pix server; empty sha256 = the catalog's pin for that
    # server, if any (otherwise the download prints the hash to pin here).
    url: str = ""
    sha256: str = ""
    timeout_seconds: float = field_(60.0, min=0.1)
    # folder only: train/ and test/ inside, or images directly, split by test_fraction.
    folder: str = ""
    test_fraction: float = field_(0.2, min=0.05, max=0.5)
    # Downloads and folder: keep this many training pairs (a seeded subset; 0 = all).
    max_train_images: int = field_(0, min=0)


@dataclasses.dataclass(frozen=True, kw_only=True)
class Pix2PixConfig(AdamSchedule, RunSwitches):
    """Training settings of Pix2Pix (``train.pix2pix``); paper defaults (Isola et al. 2017)."""

    epochs: int = field_(min=1)
    batch_size: int = field_(1, min=1)
    generator: Literal["unet", "encoder_decoder"] = "unet"
    # Filters of the first layer of both networks, doubling per level up to 512 (paper: 64).
    base_filters: int = field_(64, min=4)
    # PatchGAN receptive field: pixel (1x1), 16, 70 or 286 (the whole 256 px image).
    patch: Literal["pixel", 16, 70, 286] = 70
    l1_weight: float = field_(100.0, min=0.0)
    # The paper keeps dropout and batch norm in training mode at test time (dropout is its only
    # noise source); the same switch applies in evaluation and serving.
    train_mode_at_test: bool = True
    # Resize to 286/256 of the size, random crop back and mirror (the paper's jitter).
    jitter: bool = True


DATA_CONFIG = PairedDataConfig
TRAIN_CONFIG = Pix2PixConfig
