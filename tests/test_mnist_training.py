"""Training to files: history, checkpoints, resume after an interruption, determinism."""

import json

import keras
import numpy as np
import pandas as pd
import pytest

from condgen.families import MODELS
from condgen.mnist.config import GanConfig
from condgen.mnist.train import train


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


CONFIG = GanConfig(epochs=3, batch_size=50, ema_decay=0.9)


def fit(data, folder, name, config=CONFIG, **kwargs):
    """Train the GAN without MLflow into folder/name (backups in folder/ckpt_name)."""
    return train(
        MODELS["gan"],
        config,
        0,
        data,
        folder / name,
        folder / f"ckpt_{name}",
        log_to_mlflow=False,
        verbose=0,
        **kwargs,
    )


def test_training_writes_history_and_generator(tiny_mnist, tmp_path):
    info = fit(tiny_mnist, tmp_path, "out")
    history = pd.read_csv(tmp_path / "out" / "history.csv")
    assert history["epoch"].tolist() == [1, 2, 3]
    assert {"g_loss", "d_loss", "d_real", "d_fake"} <= set(history.columns)
    assert info["steps"] == 3 * (300 // 50)
    assert (tmp_path / "out" / "generator.keras").is_file()
    assert not (tmp_path / "ckpt_out").exists()  # a finished run removes its backup
    assert json.loads((tmp_path / "out" / "run.json").read_text())["run_id"] is None


def test_same_seed_same_weights_and_resume_continues(tiny_mnist, tmp_path):
    fit(tiny_mnist, tmp_path, "a")
    fit(tiny_mnist, tmp_path, "b")
    for wa, wb in zip(
        weights(tmp_path / "a/generator.keras"), weights(tmp_path / "b/generator.keras")
    ):
        np.testing.assert_array_equal(wa, wb)

    with pytest.raises(KeyboardInterrupt):
        fit(tiny_mnist, tmp_path, "c", extra_callbacks=[StopAfterEpoch(1)])
    assert (tmp_path / "ckpt_c" / "backup").is_dir()
    fit(tiny_mnist, tmp_path, "c")
    history = pd.read_csv(tmp_path / "c" / "history.csv")
    assert history["epoch"].tolist() == [1, 2, 3]  # epochs 1-2 kept, only epoch 3 re-run
    reference = pd.read_csv(tmp_path / "a" / "history.csv")
    np.testing.assert_allclose(history.loc[:1, "g_loss"], reference.loc[:1, "g_loss"])


def test_changed_params_do_not_resume_a_stale_backup(tiny_mnist, tmp_path):
    with pytest.raises(KeyboardInterrupt):
        fit(tiny_mnist, tmp_path, "c", extra_callbacks=[StopAfterEpoch(0)])
    fit(tiny_mnist, tmp_path, "c", config=GanConfig(epochs=2, batch_size=60))
    assert pd.read_csv(tmp_path / "c" / "history.csv")["epoch"].tolist() == [1, 2]


def test_batch_larger_than_data_is_a_clear_error(tiny_mnist, tmp_path):
    with pytest.raises(ValueError, match=r"train\.gan\.batch_size \(1000\) is larger"):
        fit(tiny_mnist, tmp_path, "o", config=GanConfig(epochs=1, batch_size=1000))


def test_epochs_are_whole_executions():
    from condgen.core.fit import epoch_steps

    assert epoch_steps(4000, 64, 10) == (60, 10)  # 62 steps rounded down to whole executions
    assert epoch_steps(300, 50, 1) == (6, 1)
    assert epoch_steps(300, 50, 10) == (6, 6)  # never more per execution than an epoch has
