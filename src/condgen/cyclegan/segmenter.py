"""The ``train_segmenter_unpaired`` stage: the networks behind CycleGAN's segmentation score.

One segmenter per domain, each trained on that domain's real training photos -> their scenes'
class maps: ``b`` (night) reads G(day) and should find the day scene's classes, ``a`` (day)
reads F(night).
"""

from __future__ import annotations

import json
from pathlib import Path

from condgen.core import segmentation
from condgen.cyclegan import data as unpaired

DATA_DIR = "data/unpaired"
MODEL_DIR = "models/segmenter_unpaired"
REPORT_DIR = "reports/segmenter_unpaired"
STAGE = "train_segmenter_unpaired"


def train(config: segmentation.SegmenterConfig, seed: int, data_dir, model_dir, report_dir) -> dict:
    """Fit the ``a`` and ``b`` segmenters when the data has class maps, else record why not."""
    data_dir = Path(data_dir)
    summary = json.loads((data_dir / "summary.json").read_text())
    class_names = summary.get("classes", [])
    if not class_names:
        note = (
            f"no segmentation score: {summary.get('source')} has no class maps (only the "
            "synthetic day/night scenes do)"
        )
        return segmentation.train_and_save({}, [], config, seed, model_dir, report_dir, note)
    train_a, train_b = unpaired.load_split(data_dir / "train.npz")
    test_a, test_b = unpaired.load_split(data_dir / "test.npz")
    train_ca, train_cb = unpaired.load_classes(data_dir / "train.npz")
    test_ca, test_cb = unpaired.load_classes(data_dir / "test.npz")
    sets = {"a": (train_a, train_ca, test_a, test_ca), "b": (train_b, train_cb, test_b, test_cb)}
    return segmentation.train_and_save(sets, class_names, config, seed, model_dir, report_dir)


def stage() -> None:
    from condgen.core.params import load_section, load_seed

    config = load_section(segmentation.SegmenterConfig, "segmenter")
    metrics = train(config, load_seed(), DATA_DIR, MODEL_DIR, REPORT_DIR)
    print(json.dumps(metrics, indent=2))
