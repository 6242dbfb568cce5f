"""Evaluate a trained Pix2Pix generator on the test pairs: metrics, comparison grid, curves."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from condgen.core import runtime
from condgen.core.images import to_unit
from condgen.core.metrics import image_similarity
from condgen.core.plots import GRID_ROWS, comparison_sheet, loss_curves
from condgen.pix2pix import data as paired

LOSS_COLUMNS = ("g_gan_loss", "g_l1_loss", "d_loss")


def _summary(scores: dict[str, np.ndarray]) -> dict[str, float]:
    return {name: float(np.mean(values)) for name, values in scores.items()}


def evaluate_stage(
    model, params_path: str | Path, seed: int, model_dir: str, data_dir: str, out_dir: str
) -> dict:
    """The evaluate stage: ``train.<model>.train_mode_at_test`` says how the generator runs."""
    from condgen.core.params import load_train

    config = load_train(model.name, params_path)
    return evaluate(config.train_mode_at_test, seed, model_dir, data_dir, out_dir)


def evaluate(
    train_mode_at_test: bool,
    seed: int,
    model_dir: str | Path,
    data_dir: str | Path,
    out_dir: str | Path,
) -> dict:
    """Score ``model_dir/generator.keras`` on ``data_dir/test.npz`` against two references.

    Beside the model's L1/PSNR/SSIM to the targets stands the baseline that always answers the
    mean training target: a model that learned nothing about its input scores about that.
    Writes ``metrics.json``, ``grid.png`` (input | output | target) and ``losses.png``.
    """
    from condgen.core.layers import load_image_model
    from condgen.serving.translate import translate_images

    model_dir, out = Path(model_dir), Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    runtime.set_seed(seed)
    generator = load_image_model(model_dir / "generator.keras")
    train_a, train_b = paired.load_split(Path(data_dir) / "train.npz")
    test_a, test_b = paired.load_split(Path(data_dir) / "test.npz")
    del train_a

    # The serving path, image by image with a seed each (test-time dropout is random).
    seeds = np.arange(len(test_a)) + seed
    outputs = np.stack(
        translate_images(generator, list(test_a), seeds, test_a.shape[1], train_mode_at_test)
    )
    mean_target = train_b.astype(np.float32).mean(axis=0)
    baseline = np.broadcast_to(np.rint(mean_target).astype(np.uint8), test_b.shape)

    model_scores = image_similarity(to_unit(outputs), to_unit(test_b))
    baseline_scores = image_similarity(to_unit(baseline), to_unit(test_b))
    result = {
        "num_test": int(len(test_a)),
        "image_size": int(test_a.shape[1]),
        "train_mode_at_test": train_mode_at_test,
        **{k: round(v, 6) for k, v in _summary(model_scores).items()},
        **{f"baseline_{k}": round(v, 6) for k, v in _summary(baseline_scores).items()},
    }
    result["l1_vs_baseline"] = round(result["l1"] / result["baseline_l1"], 6)
    (out / "metrics.json").write_text(json.dumps(result, indent=2) + "\n")

    rows = min(GRID_ROWS, len(test_a))
    sheet = comparison_sheet(
        [test_a[:rows], outputs[:rows], test_b[:rows]], ["input", "output", "target"]
    )
    sheet.save(out / "grid.png")
    history = pd.read_csv(model_dir / "history.csv")
    loss_curves(history, LOSS_COLUMNS, out / "losses.png", "pix2pix losses per epoch")
    return result
