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
def segmenter(tmp_path_factory):
    """The train_segmenter_paired stage's work on 48 tiny synthetic facades."""
    from condgen.core.segmentation import SegmenterConfig
    from condgen.pix2pix import segmenter as stage

    root = tmp_path_factory.mktemp("segmenter")
    paired.prepare(
        PairedDataConfig(image_size=32, num_train=48, num_test=16), 1, root / "data", root / "raw"
    )
    config = SegmenterConfig(epochs=30, batch_size=8, base_filters=8)
    metrics = stage.train(config, 0, root / "data", root / "model", root / "report")
    return root, metrics


def test_the_segmenter_reads_real_photos_far_better_than_the_mean_photo(segmenter):
    root, metrics = segmenter
    saved = json.loads((root / "report" / "metrics.json").read_text())
    assert saved["photo_num_test"] == 16 and saved["num_classes"] == 12
    # A tiny network after 360 steps: far from the stage's (0.98 pixel accuracy at 64 px), but
    # already far above what the mean photo lets it read.
    assert (
        metrics["photo_pixel_accuracy"] > metrics["photo_baseline_mean_target_pixel_accuracy"] + 0.2
    )
    assert metrics["photo_mean_iou"] > 1.5 * metrics["photo_baseline_mean_target_mean_iou"]
    assert (root / "model" / "photo.keras").is_file()


def test_data_without_class_maps_gets_a_note_instead_of_a_segmenter(tmp_path):
    from condgen.core.segmentation import SegmenterConfig, Segmenters
    from condgen.pix2pix import segmenter as stage

    data = tmp_path / "data"
    data.mkdir()
    (data / "summary.json").write_text(json.dumps({"source": "facades", "classes": []}))
    metrics = stage.train(SegmenterConfig(), 0, data, tmp_path / "model", tmp_path / "report")
    assert "facades has no class maps" in metrics["note"]
    loaded = Segmenters.load(tmp_path / "model", stage.STAGE)
    assert not loaded.models and "no class maps" in loaded.note
    with pytest.raises(FileNotFoundError, match="dvc repro train_segmenter_paired"):
        Segmenters.load(tmp_path / "elsewhere", stage.STAGE)


# 8 pairs in batches of 2: 4 steps an epoch, all in one execution (steps_per_execution 10).
CONFIG = Pix2PixConfig(epochs=2, batch_size=2, base_filters=8)


def train(data, out, ckpt) -> dict:
    """The train stage's work in this process, without MLflow."""
    from condgen.pix2pix import train as training

    return training.train(
        MODELS["pix2pix"], CONFIG, 0, data, out, ckpt, log_to_mlflow=False, verbose=0
    )


@pytest.fixture(scope="module")
def trained(tmp_path_factory, segmenter):
    from condgen.pix2pix import evaluate as evaluation

    root = tmp_path_factory.mktemp("pix2pix")
    paired.prepare(
        PairedDataConfig(image_size=32, num_train=8, num_test=4), 0, root / "data", root / "raw"
    )
    info = train(root / "data", root / "model", root / "ckpt")
    result = evaluation.evaluate(
        CONFIG.train_mode_at_test,
        0,
        root / "model",
        root / "data",
        root / "report",
        segmenter[0] / "model",
    )
    return root, info, result


@pytest.mark.parametrize("kill_at", ["step:6", "backup:2"])
def test_a_killed_training_resumes_to_the_uninterrupted_weights_and_history(
    trained, tmp_path, kill_at, train_in_child, weights_digest
):
    """SIGKILL mid-epoch 2 or halfway through its backup, then the stage is run again: the
    generator, and every loss of the history to the last bit, as without the kill."""
    root = trained[0]
    train_in_child(
        "pix2pix", CONFIG, root / "data", tmp_path / "m", tmp_path / "ckpt", kill_at=kill_at
    )
    assert (tmp_path / "ckpt" / "backup.npz").is_file() and not (tmp_path / "m").exists()
    train(root / "data", tmp_path / "m", tmp_path / "ckpt")
    name = "generator.keras"
    assert weights_digest(tmp_path / "m" / name) == weights_digest(root / "model" / name)
    assert (tmp_path / "m" / "history.csv").read_bytes() == (
        root / "model" / "history.csv"
    ).read_bytes()


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


def test_evaluation_scores_model_and_every_trivial_answer(trained):
    root, _, result = trained
    saved = json.loads((root / "report" / "metrics.json").read_text())
    assert saved == result
    train_a, train_b = paired.load_split(root / "data" / "train.npz")
    test_a, test_b = paired.load_split(root / "data" / "test.npz")
    # The trivial answers' L1, computed here from the data alone.
    unchanged = np.abs(test_a / 255.0 - test_b / 255.0).mean()
    mean_photo = np.rint(train_b.astype(np.float64).mean(axis=0)) / 255.0
    assert result["baseline_unchanged_input_l1"] == pytest.approx(unchanged, abs=1e-5)
    assert result["baseline_mean_target_l1"] == pytest.approx(
        np.abs(mean_photo - test_b / 255.0).mean(), abs=1e-5
    )
    assert result["baseline_colour_map_l1"] < result["baseline_mean_target_l1"]
    for metric in ("l1", "psnr", "ssim", "mean_iou", "pixel_accuracy", "kid"):
        assert np.isfinite(result[metric])
        # The ratio, or why there is none (an unbiased KID can be at or below 0).
        ratio = f"{metric}_vs_best_baseline"
        assert ratio in result or "not defined" in result[f"{ratio}_note"]
        assert result[f"best_baseline_name_{metric}"] in (
            "mean_target",
            "colour_map",
            "unchanged_input",
        )
    assert result["best_baseline_l1"] == min(
        result[f"baseline_{n}_l1"] for n in ("mean_target", "colour_map", "unchanged_input")
    )
    # Real test photos are the segmentation ceiling; the model's share of it is recorded.
    assert result["real_mean_iou"] > result["baseline_mean_target_mean_iou"]
    assert result["mean_iou_vs_real"] == pytest.approx(
        result["mean_iou"] / result["real_mean_iou"], rel=1e-3
    )
    assert len(result["segmenter"]) == 32 and "VGG16-HED" in result["kid_features"]
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
