"""The ``train_segmenter_paired`` stage: the network behind Pix2Pix's segmentation score.

Trained on the training photos (the targets) -> their scenes' class maps; the evaluation then
reads generated photos with it and compares with the input's class map.
"""

from __future__ import annotations

import json
from pathlib import Path

from condgen.core import segmentation
from condgen.pix2pix import data as paired

DATA_DIR = "data/paired"
MODEL_DIR = "models/segmenter_paired"
REPORT_DIR = "reports/segmenter_paired"
STAGE = "train_segmenter_paired"


def train(config: segmentation.SegmenterConfig, seed: int, data_dir, model_dir, report_dir) -> dict:
    """Fit the ``photo`` segmenter when the data has class maps, else record why not."""
    data_dir = Path(data_dir)
    summary = json.loads((data_dir / "summary.json").read_text())
    class_names = summary.get("classes", [])
    if not class_names:
        note = (
            f"no segmentation score: {summary.get('source')} has no class maps (only the "
            "synthetic facades do)"
        )
        return segmentation.train_and_save({}, [], config, seed, model_dir, report_dir, note)
    _, train_b = paired.load_split(data_dir / "train.npz")
    _, test_b = paired.load_split(data_dir / "test.npz")
    sets = {
        "photo": (
            train_b,
            paired.load_classes(data_dir / "train.npz"),
            test_b,
            paired.load_classes(data_dir / "test.npz"),
        )
    }
    return segmentation.train_and_save(sets, class_names, config, seed, model_dir, report_dir)


def stage() -> None:
    from condgen.core.params import load_section, load_seed

    config = load_section(segmentation.SegmenterConfig, "segmenter")
    metrics = train(config, load_seed(), DATA_DIR, MODEL_DIR, REPORT_DIR)
    print(json.dumps(metrics, indent=2))
