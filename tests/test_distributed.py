"""Training split across replicas: two logical CPUs (``mirrored``) and two worker processes on
127.0.0.1 (``multi_worker``) start from the losses of one process at the same global batch,
and only the chief keeps outputs and MLflow records."""

from __future__ import annotations

import dataclasses
import json
import os
import socket
import subprocess
import sys

import keras
import pytest

from condgen.families import MODELS
from condgen.mnist.config import GanConfig
from condgen.mnist.train import train

GLOBAL_BATCH = 50
# Differentiable augmentation draws random offsets per image: they must be split like the data.
CONFIG = GanConfig(epochs=2, batch_size=GLOBAL_BATCH, diff_augment="translation,cutout")
LOSSES = ("g_loss", "d_loss", "d_real", "d_fake")

# One training process: optional logical CPUs, then train; prints the first steps' logs.
_CHILD = """
import json, sys
spec = json.loads(sys.argv[1])
import tensorflow as tf
if spec["logical_cpus"] > 1:
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(
        cpu, [tf.config.LogicalDeviceConfiguration()] * spec["logical_cpus"]
    )
import keras
from condgen.families import MODELS
from condgen.mnist.config import GanConfig
from condgen.mnist.train import train

class FirstSteps(keras.callbacks.Callback):
    rows = []
    def on_train_batch_end(self, batch, logs=None):
        self.rows.append({k: float(v) for k, v in logs.items()})

train(
    MODELS["gan"], GanConfig(**spec["config"]), 0, spec["data"], spec["out"], spec["ckpt"],
    log_to_mlflow=spec["mlflow"], verbose=0, extra_callbacks=[FirstSteps()],
)
print("FIRST-STEPS " + json.dumps(FirstSteps.rows[:3]))
"""


class FirstSteps(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.rows: list[dict[str, float]] = []

    def on_train_batch_end(self, batch, logs=None):
        self.rows.append({k: float(v) for k, v in logs.items()})


@pytest.fixture(scope="module")
def one_process(tiny_mnist, tmp_path_factory) -> list[dict[str, float]]:
    """The first three steps' logs of one process at the global batch."""
    folder = tmp_path_factory.mktemp("one")
    steps = FirstSteps()
    train(
        MODELS["gan"], CONFIG, 0, tiny_mnist, folder / "m", folder / "ckpt",
        log_to_mlflow=False, verbose=0, extra_callbacks=[steps],
    )  # fmt: skip
    return steps.rows[:3]


def _spawn(spec: dict, env: dict) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", _CHILD, json.dumps(spec)],
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _first_steps(proc: subprocess.Popen) -> tuple[list[dict[str, float]], str]:
    out, err = proc.communicate(timeout=600)
    assert proc.returncode == 0, err[-3000:]
    line = next(x for x in out.splitlines() if x.startswith("FIRST-STEPS "))
    return json.loads(line.removeprefix("FIRST-STEPS ")), out


def _assert_same_losses(got: list[dict], want: list[dict]) -> None:
    assert len(got) == len(want) == 3
    for step_got, step_want in zip(got, want):
        for name in LOSSES:
            assert step_got[name] == pytest.approx(step_want[name], rel=1e-5, abs=0), name


def _free_ports(n: int) -> list[int]:
    sockets = [socket.socket() for _ in range(n)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


PER_WORKER = dataclasses.replace(CONFIG, batch_size=GLOBAL_BATCH // 2, distribute="multi_worker")


def _start_cluster(data, folder, uri: str, kill_worker_at: str = "") -> list[subprocess.Popen]:
    """Two worker processes of one cluster on 127.0.0.1, each with its own project folder
    (``folder/host<i>``) and temporary folder, as on two machines; worker 1 can be killed by
    fault injection (CONDGEN_KILL_AT)."""
    cluster = {"worker": [f"127.0.0.1:{p}" for p in _free_ports(2)]}
    procs = []
    for index in range(2):
        home = folder / f"host{index}"
        (home / "tmp").mkdir(parents=True, exist_ok=True)
        spec = {
            "config": dataclasses.asdict(PER_WORKER),
            "data": str(data),
            "out": str(home / "models" / "gan"),
            "ckpt": str(home / ".checkpoints" / "gan"),
            "mlflow": True,
            "logical_cpus": 1,
        }
        env = {
            "TF_CONFIG": json.dumps(
                {"cluster": cluster, "task": {"type": "worker", "index": index}}
            ),
            "TMPDIR": str(home / "tmp"),
            "MLFLOW_TRACKING_URI": uri,
            "CONDGEN_KILL_AT": kill_worker_at if index == 1 else "",
        }
        procs.append(_spawn(spec, env))
    return procs


def _spawn_on_two_cpus(config: GanConfig, data, folder) -> subprocess.Popen:
    """One process training ``config`` on two logical CPU devices into ``folder``."""
    spec = {
        "config": dataclasses.asdict(config),
        "data": str(data),
        "out": str(folder / "m"),
        "ckpt": str(folder / "ckpt"),
        "mlflow": False,
        "logical_cpus": 2,
    }
    return _spawn(spec, {})


def test_mirrored_on_two_logical_cpus_starts_from_one_process_losses(
    tiny_mnist, tmp_path, one_process
):
    per_replica = dataclasses.replace(CONFIG, batch_size=GLOBAL_BATCH // 2, distribute="mirrored")
    steps, out = _first_steps(_spawn_on_two_cpus(per_replica, tiny_mnist, tmp_path))
    assert "gan: training on CPU:0, CPU:1" in out
    _assert_same_losses(steps, one_process)
    assert (tmp_path / "m" / "generator.keras").is_file()
    # The losses are not all alike: a mix-up of the two halves would show.
    assert steps[0]["g_loss"] != steps[1]["g_loss"]


def test_two_local_workers_train_as_one_process_and_only_the_chief_keeps_outputs(
    tiny_mnist, tmp_path, one_process
):
    import mlflow

    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    procs = _start_cluster(tiny_mnist, tmp_path, uri)
    results = [_first_steps(p) for p in procs]

    for steps, _out in results:
        _assert_same_losses(steps, one_process)
    assert "gan: training on CPU:0 (worker 0 of 2, chief)" in results[0][1]
    assert "gan: training on CPU:0 (worker 1 of 2)" in results[1][1]

    chief, worker = tmp_path / "host0", tmp_path / "host1"
    assert sorted(p.name for p in (chief / "models" / "gan").iterdir()) == [
        "generator.keras",
        "history.csv",
        "run.json",
    ]
    history = (chief / "models" / "gan" / "history.csv").read_text().splitlines()
    assert len(history) == 1 + CONFIG.epochs
    # The worker kept nothing: no model, no backup folder, an empty temporary folder.
    assert not (worker / "models").exists()
    assert not (worker / ".checkpoints").exists() or not any((worker / ".checkpoints").iterdir())
    assert list((worker / "tmp").iterdir()) == []
    assert not (chief / ".checkpoints" / "gan").exists()

    # One training run, written by the chief, with its epochs logged once each.
    client = mlflow.MlflowClient(uri)
    runs = client.search_runs(
        [e.experiment_id for e in client.search_experiments()], "tags.stage = 'train'"
    )
    assert len(runs) == 1
    run_id = json.loads((chief / "models" / "gan" / "run.json").read_text())["run_id"]
    assert runs[0].info.run_id == run_id
    assert runs[0].data.tags["devices"] == "CPU:0"
    g_loss = client.get_metric_history(run_id, "g_loss")
    assert [m.step for m in g_loss] == [1, 2]


def test_several_steps_per_execution_over_replicas_stop_with_what_to_set(tiny_mnist, tmp_path):
    # Keras 3.15's multi-step loop fails under tf.distribute with several replicas.
    config = dataclasses.replace(
        CONFIG, batch_size=GLOBAL_BATCH // 2, distribute="mirrored", steps_per_execution=2
    )
    proc = _spawn_on_two_cpus(config, tiny_mnist, tmp_path)
    _out, err = proc.communicate(timeout=600)
    assert proc.returncode != 0
    assert (
        "ConfigError: train.gan.steps_per_execution is 2, but Keras 3.15 runs one step per "
        "execution over several replicas (CPU:0, CPU:1, distribute: mirrored)"
    ) in err
    assert "set train.gan.steps_per_execution to 1" in err
    assert not (tmp_path / "ckpt").exists() and not (tmp_path / "m").exists()


def test_a_killed_cluster_resumes_from_every_workers_own_backup(tiny_mnist, tmp_path):
    """Worker 1 dies in epoch 2; the chief is stopped too. Started again, each restores its
    own epoch-1 backup and the run ends as an uninterrupted cluster's; had a worker lost its
    backup, both stop and say which folders to delete."""
    import shutil
    import signal

    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    whole = tmp_path / "whole"
    for proc in _start_cluster(tiny_mnist, whole, uri):
        _first_steps(proc)

    steps_per_epoch = 300 // GLOBAL_BATCH
    killed = tmp_path / "killed"
    chief, worker = _start_cluster(tiny_mnist, killed, uri, f"step:{steps_per_epoch + 2}")
    worker.communicate(timeout=600)
    assert worker.returncode == -signal.SIGKILL
    try:  # the chief waits for its peer in a collective, or fails on its own
        chief.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        chief.kill()
        chief.communicate()
    worker_backup = killed / "host1" / ".checkpoints" / "gan.worker-1"
    assert (killed / "host0" / ".checkpoints" / "gan" / "backup.npz").is_file()
    assert (worker_backup / "backup.npz").is_file()

    shutil.move(worker_backup, tmp_path / "aside")
    results = [p.communicate(timeout=600) for p in _start_cluster(tiny_mnist, killed, uri)]
    for _out, err in results:
        assert "the workers' backups hold different epochs ([0, 1])" in err, err[-2000:]
    shutil.rmtree(worker_backup)
    shutil.move(tmp_path / "aside", worker_backup)

    for proc in _start_cluster(tiny_mnist, killed, uri):
        _first_steps(proc)
    assert (killed / "host0" / "models" / "gan" / "history.csv").read_text() == (
        whole / "host0" / "models" / "gan" / "history.csv"
    ).read_text()
    assert not worker_backup.exists() and not (killed / "host1" / "models").exists()
