"""The ``train_segmenter_unpaired`` stage: the networks behind CycleGAN's segmentation score.

One segmenter per domain, each trained on that domain's real training photos -> their scenes'
class maps: ``b`` (night) reads G(day) and should find the day scene's classes, ``a`` (day)
reads F(night).
"""

from __future__ import annotations

from pathlib import Path

from condgen.core import segmentation
from condgen.cyclegan import data as unpaired

DATA_DIR = "data/unpaired"
MODEL_DIR = "models/segmenter_unpaired"
REPORT_DIR = "reports/segmenter_unpaired"
STAGE = "train_segmenter_unpaired"


def _sets(data_dir: Path) -> dict:
    train_a, train_b = unpaired.load_split(data_dir / "train.npz")
    test_a, test_b = unpaired.load_split(data_dir / "test.npz")
    train_ca, train_cb = unpaired.load_classes(data_dir / "train.npz")
    test_ca, test_cb = unpaired.load_classes(data_dir / "test.npz")
    return {"a": (train_a, train_ca, test_a, test_ca), "b": (train_b, train_cb, test_b, test_cb)}


def train(config: segmentation.SegmenterConfig, seed: int, data_dir, model_dir, report_dir) -> dict:
    """Fit the ``a`` and ``b`` segmenters when the data has class maps, else record why not."""
    return segmentation.train_from_prepared(
        config, seed, data_dir, model_dir, report_dir, _sets, "the synthetic day/night scenes"
    )


def stage() -> None:
    segmentation.run_stage(train, DATA_DIR, MODEL_DIR, REPORT_DIR)
