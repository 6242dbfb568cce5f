"""Evaluate a trained Pix2Pix generator on the test pairs: metrics, comparison grid, curves."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from condgen.core import baselines, evaluation, runtime
from condgen.core.files import save_atomic, write_text_atomic
from condgen.core.metrics import rounded
from condgen.core.plots import GRID_ROWS, comparison_sheet, loss_curves
from condgen.pix2pix import data as paired
from condgen.pix2pix import segmenter

LOSS_COLUMNS = ("g_gan_loss", "g_l1_loss", "d_loss")


def evaluate_stage(
    model, params_path: str | Path, seed: int, model_dir: str, data_dir: str, out_dir: str
) -> dict:
    """The evaluate stage: ``train.<model>.train_mode_at_test`` says how the generator runs."""
    from condgen.core.params import load_train

    config = load_train(model.name, params_path)
    return evaluate(
        config.train_mode_at_test, seed, model_dir, data_dir, out_dir, segmenter.MODEL_DIR
    )


def trivial_answers(
    train_a: np.ndarray, train_b: np.ndarray, test_a: np.ndarray
) -> dict[str, np.ndarray]:
    """What a model that learned nothing about the task answers to ``test_a``: the mean
    training target, a colour lookup fitted on the training pairs, and the input itself."""
    lookup = baselines.fit_colour_lookup(train_a, train_b)
    return {
        "mean_target": np.broadcast_to(baselines.mean_image(train_b), test_a.shape),
        "colour_map": lookup.predict(test_a),
        "unchanged_input": test_a,
    }


def evaluate(
    train_mode_at_test: bool,
    seed: int,
    model_dir: str | Path,
    data_dir: str | Path,
    out_dir: str | Path,
    segmenter_dir: str | Path,
) -> dict:
    """Score ``model_dir/generator.keras`` on ``data_dir/test.npz``.

    Every score (L1, PSNR, SSIM to the true photos; the segmentation score of the outputs
    against the input's class map, where the data has class maps; KID against the real test
    photos on offline VGG16-HED features) stands beside the same score of each trivial answer
    (:func:`trivial_answers`), with the model's ratio to the best of them, and beside the real
    test photos' (the ceiling). Writes ``metrics.json``, ``grid.png`` (input | trivial colour
    map | output | target) and ``losses.png``.
    """
    from condgen.core.backbones import PooledFeatures
    from condgen.core.layers import load_image_model
    from condgen.core.segmentation import Segmenters
    from condgen.serving.translate import translate_images

    model_dir, out, data_dir = Path(model_dir), Path(out_dir), Path(data_dir)
    out.mkdir(parents=True, exist_ok=True)
    runtime.set_seed(seed)
    generator = load_image_model(model_dir / "generator.keras")
    train_a, train_b = paired.load_split(data_dir / "train.npz")
    test_a, test_b = paired.load_split(data_dir / "test.npz")
    segmenters = Segmenters.load(segmenter_dir, segmenter.STAGE)

    # The serving path, image by image with a seed each (test-time dropout is random).
    seeds = np.arange(len(test_a)) + seed
    outputs = np.stack(
        translate_images(generator, list(test_a), seeds, test_a.shape[1], train_mode_at_test)
    )
    trivial = trivial_answers(train_a, train_b, test_a)
    features = PooledFeatures()
    result: dict = {
        "num_test": int(len(test_a)),
        "image_size": int(test_a.shape[1]),
        "train_mode_at_test": train_mode_at_test,
        "kid_features": features.description,
    }
    segment = None
    if segmenters.models:
        test_classes = paired.load_classes(data_dir / "test.npz")
        result["segmenter"] = segmenters.fingerprint

        def segment(images: np.ndarray) -> dict[str, float]:
            return segmenters.score("photo", images, test_classes)
    else:
        result["segmentation_note"] = segmenters.note
    evaluation.score_translation(
        result,
        outputs,
        trivial,
        truth=test_b,
        test_target=test_b,
        train_target=train_b,
        seed=seed,
        features=features,
        segment=segment,
    )
    result = rounded(result)
    write_text_atomic(out / "metrics.json", json.dumps(result, indent=2) + "\n")

    rows = min(GRID_ROWS, len(test_a))
    sheet = comparison_sheet(
        [test_a[:rows], trivial["colour_map"][:rows], outputs[:rows], test_b[:rows]],
        ["input", "colour map", "output", "target"],
    )
    save_atomic(out / "grid.png", sheet.save)
    history = pd.read_csv(model_dir / "history.csv")
    loss_curves(history, LOSS_COLUMNS, out / "losses.png", "pix2pix losses per epoch")
    return result
