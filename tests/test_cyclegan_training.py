"""CycleGAN from prepared unpaired images to saved generators, resume, evaluation, translation."""

from __future__ import annotations

import json

import keras
import numpy as np
import pandas as pd
import pytest

from condgen.cyclegan import data as unpaired
from condgen.cyclegan.config import CycleGANConfig, UnpairedDataConfig
from condgen.families import MODELS

CONFIG = CycleGANConfig(
    epochs=3, batch_size=1, base_filters=4, residual_blocks=1, pool_size=3, steps_per_execution=2
)


class StateRecorder(keras.callbacks.Callback):
    """Records what a resume must restore: pools, optimizer step and learning rate."""

    def __init__(self, stop_after: int | None = None):
        super().__init__()
        self.stop_after = stop_after
        self.records: dict[tuple[str, int], dict] = {}

    def _state(self) -> dict:
        model = self.model
        optimizer = model.g_optimizer
        return {
            "pool_a": model.pool_a.images.numpy().copy(),
            "pool_b": model.pool_b.images.numpy().copy(),
            "count": int(model.pool_a.count.numpy()),
            "pool_draws": int(model.pool_a.draws.numpy()),
            "iterations": int(optimizer.iterations.numpy()),
            "learning_rate": float(optimizer.learning_rate.numpy()),
            "g_weights": [w.numpy().copy() for w in model.generator_a2b.weights],
        }

    def on_epoch_begin(self, epoch, logs=None):
        self.records[("begin", epoch)] = self._state()

    def on_epoch_end(self, epoch, logs=None):
        self.records[("end", epoch)] = self._state()
        if epoch == self.stop_after:
            raise KeyboardInterrupt


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    root = tmp_path_factory.mktemp("unpaired")
    unpaired.prepare(
        UnpairedDataConfig(image_size=32, num_train=6, num_test=4), 0, root / "data", root / "raw"
    )
    return root / "data"


@pytest.fixture(scope="module")
def segmenters(data, tmp_path_factory):
    """The train_segmenter_unpaired stage's work on the tiny data: one segmenter per domain."""
    from condgen.core.segmentation import SegmenterConfig
    from condgen.cyclegan import segmenter

    root = tmp_path_factory.mktemp("segmenters")
    config = SegmenterConfig(epochs=2, batch_size=4, base_filters=4)
    metrics = segmenter.train(config, 0, data, root / "model", root / "report")
    assert {"a_mean_iou", "b_mean_iou", "a_num_test", "b_pixel_accuracy_vs_best_baseline"} <= set(
        metrics
    )
    return root / "model"


@pytest.fixture(scope="module")
def trained(data, segmenters, tmp_path_factory):
    from condgen.cyclegan import evaluate as evaluation
    from condgen.cyclegan import train as training

    root = tmp_path_factory.mktemp("cyclegan")
    recorder = StateRecorder()
    info = training.train(
        MODELS["cyclegan"],
        CONFIG,
        0,
        data,
        root / "model",
        root / "ckpt",
        log_to_mlflow=False,
        verbose=0,
        extra_callbacks=[recorder],
    )
    result = evaluation.evaluate(0, root / "model", data, root / "report", segmenters)
    return root, info, result, recorder


def test_training_writes_both_generators_and_history(trained):
    root, info, _, _ = trained
    assert info["steps"] == 3 * 6 and info["image_size"] == 32
    assert info["train_a"] == info["train_b"] == 6
    history = pd.read_csv(root / "model" / "history.csv")
    assert history["epoch"].tolist() == [1, 2, 3]
    for name in ("g_a2b_loss", "g_b2a_loss", "d_a_loss", "d_b_loss", "cycle_a_loss"):
        assert name in history.columns
    assert not (root / "ckpt").exists()
    for direction in ("a2b", "b2a"):
        generator = keras.models.load_model(root / "model" / f"generator_{direction}.keras")
        assert generator.output_shape == (None, 32, 32, 3)


def test_learning_rate_is_constant_then_decays_to_zero(trained):
    *_, recorder = trained
    total = 3 * 6
    rates = {epoch: recorder.records[("end", epoch)]["learning_rate"] for epoch in range(3)}
    # lr_decay_start 0.5: constant to step 9, then linear to 0 at step 18.
    assert recorder.records[("begin", 0)]["learning_rate"] == pytest.approx(2e-4)
    assert rates[0] == pytest.approx(2e-4)  # step 6
    assert rates[1] == pytest.approx(2e-4 * (total - 12) / (total - 9), rel=1e-4)  # step 12
    assert rates[2] == pytest.approx(0.0, abs=1e-9)  # step 18


def test_resume_restores_pools_schedule_and_weights(data, trained, tmp_path):
    from condgen.cyclegan import train as training

    _, _, _, reference = trained
    first = StateRecorder(stop_after=1)
    with pytest.raises(KeyboardInterrupt):
        training.train(
            MODELS["cyclegan"],
            CONFIG,
            0,
            data,
            tmp_path / "model",
            tmp_path / "ckpt",
            log_to_mlflow=False,
            verbose=0,
            extra_callbacks=[first],
        )
    saved = first.records[("end", 1)]
    assert saved["count"] == 3  # the pools are full after 12 steps
    second = StateRecorder()
    training.train(
        MODELS["cyclegan"],
        CONFIG,
        0,
        data,
        tmp_path / "model",
        tmp_path / "ckpt",
        log_to_mlflow=False,
        verbose=0,
        extra_callbacks=[second],
    )
    assert ("begin", 0) not in second.records  # epochs 1 and 2 were not run again
    restored = second.records[("begin", 2)]
    expected = reference.records[("end", 1)]  # the uninterrupted run at the same point
    for state in (saved, expected):
        np.testing.assert_array_equal(restored["pool_a"], state["pool_a"])
        np.testing.assert_array_equal(restored["pool_b"], state["pool_b"])
        assert restored["pool_draws"] == state["pool_draws"] == 12
        assert restored["count"] == state["count"]
        assert restored["iterations"] == state["iterations"] == 12
        assert restored["learning_rate"] == pytest.approx(state["learning_rate"])
        for w0, w1 in zip(restored["g_weights"], state["g_weights"], strict=True):
            np.testing.assert_array_equal(w0, w1)
    history = pd.read_csv(tmp_path / "model" / "history.csv")
    assert history["epoch"].tolist() == [1, 2, 3]


@pytest.mark.parametrize("kill_at", ["step:8", "backup:2"])
def test_a_killed_training_resumes_to_the_uninterrupted_weights(
    data, trained, tmp_path, kill_at, train_in_child, weights_digest
):
    """SIGKILL mid-epoch 2 or halfway through its backup; the re-run restores networks,
    optimizers (so the learning-rate schedule), both image pools and the data stream's place,
    and ends with the uninterrupted run's generators."""
    from condgen.cyclegan import train as training

    root = trained[0]
    train_in_child("cyclegan", CONFIG, data, tmp_path / "m", tmp_path / "ckpt", kill_at=kill_at)
    assert (tmp_path / "ckpt" / "backup.npz").is_file() and not (tmp_path / "m").exists()
    training.train(
        MODELS["cyclegan"],
        CONFIG,
        0,
        data,
        tmp_path / "m",
        tmp_path / "ckpt",
        log_to_mlflow=False,
        verbose=0,
    )
    for name in ("generator_a2b.keras", "generator_b2a.keras"):
        assert weights_digest(tmp_path / "m" / name) == weights_digest(root / "model" / name)
    pd.testing.assert_frame_equal(
        pd.read_csv(tmp_path / "m" / "history.csv"), pd.read_csv(root / "model" / "history.csv")
    )


def test_evaluation_scores_both_ways_beside_every_trivial_answer(data, trained):
    root, _, result, _ = trained
    assert json.loads((root / "report" / "metrics.json").read_text()) == result
    assert result["paired_test"] is True and result["num_test_a"] == 4
    trivial = ("mean_target", "colour_map", "unchanged_input")
    for direction in ("a2b", "b2a"):
        for metric in ("l1", "psnr", "ssim", "mean_iou", "pixel_accuracy", "kid"):
            assert np.isfinite(result[f"{direction}_{metric}"])
            # The ratio, or why there is none (2 vs 2 images: an unbiased KID can be below 0).
            ratio = f"{direction}_{metric}_vs_best_baseline"
            assert ratio in result or "not defined" in result[f"{ratio}_note"]
            for name in trivial:
                assert np.isfinite(result[f"{direction}_baseline_{name}_{metric}"])
        for metric in ("mean_iou", "kid"):
            assert np.isfinite(result[f"{direction}_real_{metric}"])
    assert 0 < result["cycle_a_l1"] < 1 and 0 < result["cycle_b_l1"] < 1
    # The trivial answers' scores are what the data says: day photos are far from night ones,
    # and the mean night image is closer to them than the day photo.
    train_a, train_b = unpaired.load_split(data / "train.npz")
    test_a, test_b = unpaired.load_split(data / "test.npz")
    expected = np.mean(np.abs(test_a / 255.0 - test_b / 255.0))
    assert result["a2b_baseline_unchanged_input_l1"] == pytest.approx(expected, rel=1e-4)
    mean_night = np.rint(train_b.astype(np.float64).mean(axis=0)) / 255.0
    assert result["a2b_baseline_mean_target_l1"] == pytest.approx(
        np.abs(mean_night - test_b / 255.0).mean(), rel=1e-4
    )
    assert result["a2b_baseline_colour_map_l1"] < result["a2b_baseline_unchanged_input_l1"]
    for name in ("grid_a2b.png", "grid_b2a.png", "losses.png"):
        assert (root / "report" / name).stat().st_size > 0


def test_evaluation_without_ground_truth_scores_kid_and_says_why_fid_is_missing(
    data, trained, segmenters, tmp_path
):
    from condgen.cyclegan import evaluate as evaluation

    root, *_ = trained
    train_a, train_b = unpaired.load_split(data / "train.npz")
    test_a, test_b = unpaired.load_split(data / "test.npz")
    unmatched = tmp_path / "data"
    unmatched.mkdir()
    np.savez(unmatched / "train.npz", a=train_a, b=train_b)
    np.savez(unmatched / "test.npz", a=test_a, b=test_b[:2])
    (unmatched / "summary.json").write_text(json.dumps({"paired_test": False}))
    result = evaluation.evaluate(
        0,
        root / "model",
        unmatched,
        tmp_path / "report",
        segmenters,
        inception_weights=str(tmp_path / "none.h5"),
    )
    assert "a2b_l1" not in result and "fid_a2b" not in result and "a2b_mean_iou" not in result
    assert "FID skipped" in result["fid_note"] and "none.h5" in result["fid_note"]
    assert "no ground truth" in result["segmentation_note"]
    assert result["num_test_b"] == 2 and 0 < result["cycle_a_l1"] < 1
    assert np.isfinite(result["a2b_kid"]) and "a2b_best_baseline_kid" in result
    from condgen.cyclegan.registration import registration

    assert registration(MODELS["cyclegan"]).metric_of(result) == "a2b_kid"


def test_inception_weights_come_from_the_cache_a_download_or_a_note(
    tmp_path, monkeypatch, file_server
):
    from condgen.cyclegan.evaluate import INCEPTION_URL, inception_weights_file
    from tests.test_core_download import socket_closed_port

    folder, base = file_server
    name = INCEPTION_URL.rsplit("/", 1)[1]
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    # Offline (nothing listens): no file, and a note that says where to put it.
    with socket_closed_port() as port:
        path, note = inception_weights_file(url=f"http://127.0.0.1:{port}/{name}")
    assert path is None and "could not be downloaded" in note and name in note
    assert not (tmp_path / "keras" / "models" / name).exists()
    # A server that has it: downloaded into Keras' cache, then used from there.
    (folder / name).write_bytes(b"weights")
    path, note = inception_weights_file(url=f"{base}/{name}")
    assert path == tmp_path / "keras" / "models" / name and path.read_bytes() == b"weights"
    assert inception_weights_file(url=f"{base}/gone.h5") == (path, "")


def test_a_weights_file_that_cannot_be_read_fails_the_fid_loudly(tmp_path):
    from condgen.cyclegan.evaluate import inception_features

    broken = tmp_path / "broken.h5"
    broken.write_bytes(b"not an HDF5 file")
    with pytest.raises((OSError, ValueError)):
        inception_features(str(broken))
