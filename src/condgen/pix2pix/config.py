"""The Pix2Pix family's params sections: data.paired and train.pix2pix."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Literal

from condgen.core.inputs import files_under
from condgen.core.params import ImageSource, ImageTrainConfig, field_


@dataclasses.dataclass(frozen=True, kw_only=True)
class PairedDataConfig(ImageSource):
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
    # synthetic-facades only: how many scenes per split.
    num_train: int = field_(400, min=1)
    num_test: int = field_(100, min=1)
    # AtoB: left half (A) -> right half (B); BtoA swaps them (facades label -> photo is BtoA).
    direction: Literal["AtoB", "BtoA"] = "AtoB"


@dataclasses.dataclass(frozen=True, kw_only=True)
class Pix2PixConfig(ImageTrainConfig):
    """Training settings of Pix2Pix (``train.pix2pix``); paper defaults (Isola et al. 2017)."""

    generator: Literal["unet", "encoder_decoder"] = "unet"
    l1_weight: float = field_(100.0, min=0.0)
    # The paper keeps dropout and batch norm in training mode at test time (dropout is its only
    # noise source); the same switch applies in evaluation and serving.
    train_mode_at_test: bool = True


DATA_CONFIG = PairedDataConfig
INPUTS_CONFIG = PairedDataConfig
TRAIN_CONFIG = Pix2PixConfig


def external_files(config: PairedDataConfig) -> list[Path]:
    """The user's files this section reads: every file of a ``folder`` source."""
    return files_under(config.folder) if config.name == "folder" else []
