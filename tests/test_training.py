"""Training to files: history, checkpoints, resume after an interruption, determinism."""

import json

import keras
import numpy as np
import pandas as pd
import pytest

from condgen.config import TrainConfig
from condgen.training.fit import train


class StopAfterEpoch(keras.callbacks.Callback):
    """Simulates a crash at the end of an epoch, after the backup was written."""

    def __init__(self, epoch):
        super().__init__()
        self.epoch = epoch

    def on_epoch_end(self, epoch, logs=None):
        if epoch == self.epoch:
            raise KeyboardInterrupt


def weights(path):
    return [w.copy() for w in keras.models.load_model(path).get_weights()]


CONFIG = TrainConfig(epochs=3, batch_size=50)


def test_training_writes_history_and_generator(tiny_mnist, tmp_path):
    info = train(
        "gan",
        CONFIG,
        0,
        tiny_mnist,
        tmp_path / "out",
        tmp_path / "ckpt",
        log_to_mlflow=False,
        verbose=0,
    )
    history = pd.read_csv(tmp_path / "out" / "history.csv")
    assert history["epoch"].tolist() == [1, 2, 3]
    assert {"g_loss", "d_loss", "d_real", "d_fake"} <= set(history.columns)
    assert info["steps"] == 3 * (300 // 50)
    assert (tmp_path / "out" / "generator.keras").is_file()
    assert not (tmp_path / "ckpt").exists()  # a finished run removes its backup
    assert json.loads((tmp_path / "out" / "run.json").read_text())["run_id"] is None


def test_same_seed_same_weights_and_resume_continues(tiny_mnist, tmp_path):
    train(
        "gan",
        CONFIG,
        0,
        tiny_mnist,
        tmp_path / "a",
        tmp_path / "ckpt_a",
        log_to_mlflow=False,
        verbose=0,
    )
    train(
        "gan",
        CONFIG,
        0,
        tiny_mnist,
        tmp_path / "b",
        tmp_path / "ckpt_b",
        log_to_mlflow=False,
        verbose=0,
    )
    for wa, wb in zip(
        weights(tmp_path / "a/generator.keras"), weights(tmp_path / "b/generator.keras")
    ):
        np.testing.assert_array_equal(wa, wb)

    with pytest.raises(KeyboardInterrupt):
        train(
            "gan",
            CONFIG,
            0,
            tiny_mnist,
            tmp_path / "c",
            tmp_path / "ckpt_c",
            log_to_mlflow=False,
            verbose=0,
            extra_callbacks=[StopAfterEpoch(1)],
        )
    assert (tmp_path / "ckpt_c" / "backup").is_dir()
    train(
        "gan",
        CONFIG,
        0,
        tiny_mnist,
        tmp_path / "c",
        tmp_path / "ckpt_c",
        log_to_mlflow=False,
        verbose=0,
    )
    history = pd.read_csv(tmp_path / "c" / "history.csv")
    assert history["epoch"].tolist() == [1, 2, 3]  # epochs 1-2 kept, only epoch 3 re-run
    reference = pd.read_csv(tmp_path / "a" / "history.csv")
    np.testing.assert_allclose(history.loc[:1, "g_loss"], reference.loc[:1, "g_loss"])


def test_changed_params_do_not_resume_a_stale_backup(tiny_mnist, tmp_path):
    with pytest.raises(KeyboardInterrupt):
        train(
            "gan",
            CONFIG,
            0,
            tiny_mnist,
            tmp_path / "c",
            tmp_path / "ckpt",
            log_to_mlflow=False,
            verbose=0,
            extra_callbacks=[StopAfterEpoch(0)],
        )
    other = TrainConfig(epochs=2, batch_size=60)
    train(
        "gan",
        other,
        0,
        tiny_mnist,
        tmp_path / "c",
        tmp_path / "ckpt",
        log_to_mlflow=False,
        verbose=0,
    )
    assert pd.read_csv(tmp_path / "c" / "history.csv")["epoch"].tolist() == [1, 2]


def test_batch_larger_than_data_is_a_clear_error(tiny_mnist, tmp_path):
    with pytest.raises(ValueError, match=r"train\.gan\.batch_size \(1000\) is larger"):
        train(
            "gan",
            TrainConfig(epochs=1, batch_size=1000),
            0,
            tiny_mnist,
            tmp_path / "o",
            tmp_path / "c",
            log_to_mlflow=False,
            verbose=0,
        )
