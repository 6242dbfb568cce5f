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


class EpochRecorder(keras.callbacks.Callback):
    """The epochs a run actually trained (0-based)."""

    def __init__(self):
        super().__init__()
        self.epochs: list[int] = []

    def on_epoch_begin(self, epoch, logs=None):
        self.epochs.append(epoch)


CONFIG = GanConfig(epochs=3, batch_size=50, ema_decay=0.9)


def fit(data, folder, name, config=CONFIG, **kwargs):
    """Train the GAN (without MLflow unless asked) into folder/name (backups in
    folder/ckpt_name)."""
    kwargs.setdefault("log_to_mlflow", False)
    return train(
        MODELS["gan"], config, 0, data, folder / name, folder / f"ckpt_{name}", verbose=0, **kwargs
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


def test_same_seed_same_weights_and_resume_ends_as_uninterrupted(
    tiny_mnist, tmp_path, weights_digest
):
    fit(tiny_mnist, tmp_path, "a")
    fit(tiny_mnist, tmp_path, "b")
    assert weights_digest(tmp_path / "a/generator.keras") == weights_digest(
        tmp_path / "b/generator.keras"
    )
    with pytest.raises(KeyboardInterrupt):
        fit(tiny_mnist, tmp_path, "c", extra_callbacks=[StopAfterEpoch(1)])
    assert (tmp_path / "ckpt_c" / "backup.npz").is_file()
    recorder = EpochRecorder()
    fit(tiny_mnist, tmp_path, "c", extra_callbacks=[recorder])
    assert recorder.epochs == [2]  # epochs 1-2 kept, only epoch 3 re-run
    pd.testing.assert_frame_equal(
        pd.read_csv(tmp_path / "c" / "history.csv"), pd.read_csv(tmp_path / "a" / "history.csv")
    )
    assert weights_digest(tmp_path / "c/generator.keras") == weights_digest(
        tmp_path / "a/generator.keras"
    )


# 30 steps per epoch in executions of 10: a kill at step 40 is in the middle of epoch 2.
KILLED = GanConfig(epochs=3, batch_size=10, ema_decay=0.9, steps_per_execution=10)


@pytest.mark.parametrize("kill_at", ["step:40", "backup:2"])
def test_a_killed_training_resumes_to_the_uninterrupted_weights(
    tiny_mnist, tmp_path, kill_at, train_in_child, weights_digest
):
    """SIGKILL mid-epoch, or halfway through writing a backup, then the stage is run again."""
    fit(tiny_mnist, tmp_path, "whole", config=KILLED)
    train_in_child("gan", KILLED, tiny_mnist, tmp_path / "m", tmp_path / "ckpt_m", kill_at=kill_at)
    assert not (tmp_path / "m").exists()  # nothing DVC would take for an output
    if kill_at.startswith("backup"):
        assert (tmp_path / "ckpt_m" / "backup.npz.tmp").is_file()  # the torn write
    fit(tiny_mnist, tmp_path, "m", config=KILLED)
    assert weights_digest(tmp_path / "m/generator.keras") == weights_digest(
        tmp_path / "whole/generator.keras"
    )
    pd.testing.assert_frame_equal(
        pd.read_csv(tmp_path / "m" / "history.csv"),
        pd.read_csv(tmp_path / "whole" / "history.csv"),
    )


def test_changed_params_do_not_resume_a_stale_backup(tiny_mnist, tmp_path, capsys):
    with pytest.raises(KeyboardInterrupt):
        fit(tiny_mnist, tmp_path, "c", extra_callbacks=[StopAfterEpoch(0)])
    fit(tiny_mnist, tmp_path, "c", config=GanConfig(epochs=2, batch_size=60))
    assert pd.read_csv(tmp_path / "c" / "history.csv")["epoch"].tolist() == [1, 2]
    line = capsys.readouterr().out
    assert (
        "not resuming the backup" in line
        and "params changed (batch_size, ema_decay, epochs)" in line
    )


def test_changed_data_does_not_resume_a_stale_backup(tiny_mnist, tmp_path, capsys, weights_digest):
    import shutil

    from condgen.mnist import data as mnist

    data = tmp_path / "data"
    shutil.copytree(tiny_mnist, data)
    with pytest.raises(KeyboardInterrupt):
        fit(data, tmp_path, "c", extra_callbacks=[StopAfterEpoch(1)])
    # New digits of the same count after the kill: the old backup must not be continued.
    images, labels = mnist.load_split(data / "train.npz")
    np.savez(data / "train.npz", images=255 - images, labels=labels)
    recorder = EpochRecorder()
    fit(data, tmp_path, "c", extra_callbacks=[recorder])
    assert recorder.epochs == [0, 1, 2]
    assert "the data changed (train.npz)" in capsys.readouterr().out
    fit(data, tmp_path, "fresh")
    assert weights_digest(tmp_path / "c/generator.keras") == weights_digest(
        tmp_path / "fresh/generator.keras"
    )


def test_batch_larger_than_data_is_a_clear_error(tiny_mnist, tmp_path):
    with pytest.raises(ValueError, match=r"train\.gan\.batch_size \(1000\) is larger"):
        fit(tiny_mnist, tmp_path, "o", config=GanConfig(epochs=1, batch_size=1000))
    assert not (tmp_path / "o").exists() and not (tmp_path / "ckpt_o").exists()


def test_epochs_are_whole_executions():
    from condgen.core.fit import epoch_steps

    assert epoch_steps(4000, 64, 10) == (60, 10)  # 62 steps rounded down to whole executions
    assert epoch_steps(300, 50, 1) == (6, 1)
    assert epoch_steps(300, 50, 10) == (6, 6)  # never more per execution than an epoch has


def test_a_killed_training_continues_its_mlflow_run(
    tiny_mnist, tmp_path, monkeypatch, train_in_child
):
    """The re-run after a SIGKILL logs into the training run the killed process started: one
    run, one value per epoch."""
    import mlflow

    store = {
        "CONDGEN_ROOT": str(tmp_path),
        "MLFLOW_TRACKING_URI": f"sqlite:///{tmp_path / 'mlflow.db'}",
    }
    train_in_child(
        "gan", KILLED, tiny_mnist, tmp_path / "m", tmp_path / "ckpt_m", kill_at="step:40", env=store
    )
    for key, value in store.items():
        monkeypatch.setenv(key, value)
    info = fit(tiny_mnist, tmp_path, "m", config=KILLED, log_to_mlflow=True)
    client = mlflow.MlflowClient(store["MLFLOW_TRACKING_URI"])
    experiment = client.get_experiment_by_name("condgen-gan")
    runs = client.search_runs([experiment.experiment_id])
    assert [r.info.run_id for r in runs] == [info["run_id"]]
    history = client.get_metric_history(info["run_id"], "g_loss")
    assert sorted({m.step for m in history}) == [1, 2, 3]
    assert runs[0].data.params["epochs"] == "3"


def test_device_gpu_without_a_gpu_stops_before_anything_is_written(tiny_mnist, tmp_path):
    """A user who asked for the GPU finds out at once, not from the clock."""
    import dataclasses

    import tensorflow as tf

    from condgen.core.params import ConfigError

    if tf.config.list_physical_devices("GPU"):
        pytest.skip("this machine has a GPU: device gpu trains on it")
    with pytest.raises(ConfigError, match=r"train\.gan\.device is gpu, but TensorFlow sees no GPU"):
        fit(tiny_mnist, tmp_path, "g", config=dataclasses.replace(CONFIG, device="gpu"))
    assert sorted(tmp_path.iterdir()) == []
