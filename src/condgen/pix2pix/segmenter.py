"""The ``train_segmenter_paired`` stage: the network behind Pix2Pix's segmentation score.

Trained on the training photos (the targets) -> their scenes' class maps; the evaluation then
reads generated photos with it and compares with the input's class map.
"""

from __future__ import annotations

from pathlib import Path

from condgen.core import segmentation
from condgen.pix2pix import data as paired

DATA_DIR = "data/paired"
MODEL_DIR = "models/segmenter_paired"
REPORT_DIR = "reports/segmenter_paired"
STAGE = "train_segmenter_paired"


def _sets(data_dir: Path) -> dict:
    _, train_b = paired.load_split(data_dir / "train.npz")
    _, test_b = paired.load_split(data_dir / "test.npz")
    train_classes = paired.load_classes(data_dir / "train.npz")
    return {"photo": (train_b, train_classes, test_b, paired.load_classes(data_dir / "test.npz"))}


def train(config: segmentation.SegmenterConfig, seed: int, data_dir, model_dir, report_dir) -> dict:
    """Fit the ``photo`` segmenter when the data has class maps, else record why not."""
    return segmentation.train_from_prepared(
        config, seed, data_dir, model_dir, report_dir, _sets, "the synthetic facades"
    )


def stage() -> None:
    segmentation.run_stage(train, DATA_DIR, MODEL_DIR, REPORT_DIR)
