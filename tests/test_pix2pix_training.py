"""Pix2Pix from prepared pairs to a saved generator, its evaluation and image translation."""

import json

import keras
import numpy as np
import pandas as pd
import pytest

from condgen.families import MODELS
from condgen.pix2pix import data as paired
from condgen.pix2pix.config import PairedDataConfig, Pix2PixConfig


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    from condgen.pix2pix import evaluate as evaluation
    from condgen.pix2pix import train as training

    root = tmp_path_factory.mktemp("pix2pix")
    paired.prepare(
        PairedDataConfig(image_size=32, num_train=8, num_test=4), 0, root / "data", root / "raw"
    )
    config = Pix2PixConfig(epochs=2, batch_size=2, base_filters=8)
    info = training.train(
        MODELS["pix2pix"],
        config,
        0,
        root / "data",
        root / "model",
        root / "ckpt",
        log_to_mlflow=False,
        verbose=0,
    )
    result = evaluation.evaluate(
        config.train_mode_at_test, 0, root / "model", root / "data", root / "report"
    )
    return root, info, result


def test_training_writes_generator_and_history(trained):
    root, info, _ = trained
    assert info["steps"] == 2 * 4 and info["image_size"] == 32 and info["train_mode_at_test"]
    history = pd.read_csv(root / "model" / "history.csv")
    assert history["epoch"].tolist() == [1, 2]
    assert {"g_gan_loss", "g_l1_loss", "g_loss", "d_loss"} <= set(history.columns)
    assert not any(c.startswith("val_") for c in history.columns)  # no empty columns
    assert not (root / "ckpt").exists()
    generator = keras.models.load_model(root / "model" / "generator.keras")
    assert generator.output_shape == (None, 32, 32, 3)


def test_evaluation_scores_model_and_baseline(trained):
    root, _, result = trained
    saved = json.loads((root / "report" / "metrics.json").read_text())
    assert saved == result
    for key in ("l1", "psnr", "ssim", "baseline_l1", "baseline_psnr", "baseline_ssim"):
        assert np.isfinite(result[key])
    assert 0 < result["l1"] < 1 and -1 <= result["ssim"] <= 1
    assert result["l1_vs_baseline"] == pytest.approx(result["l1"] / result["baseline_l1"], 1e-4)
    assert (root / "report" / "grid.png").stat().st_size > 0
    assert (root / "report" / "losses.png").stat().st_size > 0


def test_translation_keeps_the_callers_size_and_is_seeded(trained):
    from condgen.serving.translate import translate_images

    root, _, _ = trained
    generator = keras.models.load_model(root / "model" / "generator.keras")
    before = [w.copy() for w in generator.get_weights()]
    image = np.random.default_rng(0).integers(0, 255, (40, 50, 3), dtype=np.uint8)
    first = translate_images(generator, [image], np.array([3]), 32, True)[0]
    again = translate_images(generator, [image], np.array([3]), 32, True)[0]
    other = translate_images(generator, [image], np.array([4]), 32, True)[0]
    assert first.shape == (40, 50, 3) and first.dtype == np.uint8
    np.testing.assert_array_equal(first, again)  # same seed, same test-time dropout
    assert not np.array_equal(first, other)
    for old, new in zip(before, generator.get_weights(), strict=True):
        np.testing.assert_array_equal(old, new)  # serving never changes the model
