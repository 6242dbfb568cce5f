"""The one training driver: data -> networks -> resumable fit -> saved generators.

Every adversarial family trains through :func:`train_adversarial` with a :class:`Recipe` of its
own (what its data is, how its model is built and saved); seeding, precision, the strategy,
the batch check, epochs, backups and resume, the history CSV, the MLflow run and ``run.json``
happen here once.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
import tempfile
import time
from abc import ABC, abstractmethod
from pathlib import Path
from typing import TYPE_CHECKING, Any

import keras
import numpy as np
import pandas as pd

from condgen.core import backup, runtime, tracking
from condgen.core.schedules import LinearDecay

if TYPE_CHECKING:
    import tensorflow as tf


def make_adam(learning_rate: float, config: Any, total_steps: int) -> keras.optimizers.Optimizer:
    """Adam with the section's betas (``AdamSchedule``), linear decay from ``lr_decay_start``
    and, with ``mixed_precision`` (``RunSwitches``), dynamic loss scaling."""
    rate = learning_rate
    if config.lr_decay_start < 1.0:
        rate = LinearDecay(
            learning_rate, total_steps, int(round(config.lr_decay_start * total_steps))
        )
    opt = keras.optimizers.Adam(rate, beta_1=config.beta_1, beta_2=config.beta_2)
    # float16 gradients underflow without dynamic loss scaling.
    return keras.optimizers.LossScaleOptimizer(opt) if config.mixed_precision else opt


def epoch_steps(num_items: int, global_batch: int, steps_per_execution: int) -> tuple[int, int]:
    """(steps per epoch, steps per execution) for a pass over ``num_items``.

    An epoch that is not a multiple of steps_per_execution makes Keras run its remainder
    through a separate, slower path every epoch (measured: half the speed of a cGAN here),
    so the epoch is rounded down to a multiple. Training reads one endless reshuffled stream,
    so the few steps left out of an epoch are not data left out of training.
    """
    full = num_items // global_batch
    per_execution = max(1, min(steps_per_execution, full))
    return full - full % per_execution, per_execution


def compile_adversarial(
    model: keras.Model,
    config: Any,
    total_steps: int,
    steps_per_execution: int | None = None,
) -> keras.Model:
    """Compile an ``AdversarialModel`` with one Adam for its generator side, one for its
    discriminator side."""
    model.compile(
        g_optimizer=make_adam(config.g_learning_rate, config, total_steps),
        d_optimizer=make_adam(config.d_learning_rate, config, total_steps),
        jit_compile=config.jit_compile,
        steps_per_execution=steps_per_execution or config.steps_per_execution,
    )
    # Build the optimizers' slots now, so that a backup can be restored into them.
    model.g_optimizer.build(model.generator_variables)
    model.d_optimizer.build(model.discriminator_variables)
    model.built = True
    return model


@dataclasses.dataclass(frozen=True)
class TrainingData:
    """A family's training arrays, as the driver needs to see them."""

    arrays: tuple  # handed back to Recipe.dataset and Recipe.build
    epoch_items: int  # items in one epoch (CycleGAN: the larger domain)
    smallest: int  # items of the smallest set a batch is drawn from
    unit: str  # what an item is, for errors: "training images", "training pairs", ...
    counts: dict[str, int]  # written to run.json ({"train_images": 4000}, ...)
    # Facts of the data that the backup is only valid for (e.g. {"image_size": 64}); run.json
    # records them for evaluation and serving.
    fingerprint: dict[str, Any] = dataclasses.field(default_factory=dict)
    # The files the arrays were read from: a backup is only valid for their exact bytes.
    files: tuple[Path, ...] = ()


class Recipe(ABC):
    """What one model family tells the driver: its data, how it is built, what is kept."""

    def __init__(self, model: Any, config: Any, seed: int):
        self.model = model  # the families.Model row
        self.config = config
        self.seed = seed

    @abstractmethod
    def load(self, data_dir: Path) -> TrainingData: ...

    @abstractmethod
    def dataset(
        self, data: TrainingData, global_batch: int, start_step: int = 0
    ) -> tf.data.Dataset:
        """An endless, batched, prefetched stream from step ``start_step`` on: a function of
        the step (:mod:`condgen.core.stream`), so that a resumed run reads what an
        uninterrupted one would."""

    @abstractmethod
    def build(self, data: TrainingData) -> keras.Model:
        """The uncompiled model (called under the strategy's scope; the driver compiles it)."""

    @abstractmethod
    def save(self, model: keras.Model, out: Path) -> None:
        """Write the generator(s) that are evaluated and served."""

    def run_info(self, data: TrainingData) -> dict[str, Any]:
        """Extra facts for run.json that evaluation and registration read."""
        return {}

    def preview(self, model: keras.Model, data: TrainingData) -> Any:
        """A picture (PIL image) of what the model makes now from fixed inputs, logged to
        MLflow after every epoch so that progress can be watched in the UI; None for none.

        It must not draw from the training's random streams (inference mode, fixed inputs):
        a resumed run has to end with the weights of an uninterrupted one."""
        return None


def translation_preview(*rows: np.ndarray):
    """A picture of rows of uint8 images (N, S, S, 3) each (inputs, outputs, targets), 2x."""
    from condgen.core.plots import image_grid

    return image_grid(np.concatenate(rows), len(rows), len(rows[0]), scale=2)


class MlflowEpochLogger(keras.callbacks.Callback):
    """Log every epoch's mean losses, and the recipe's preview picture ("samples" in the run's
    images), to the active MLflow run (step = epoch number)."""

    def __init__(self, preview=None):
        super().__init__()
        self.preview = preview

    def on_epoch_end(self, epoch, logs=None):
        import mlflow

        if logs:
            mlflow.log_metrics({k: float(v) for k, v in logs.items()}, step=epoch + 1)
        picture = self.preview() if self.preview else None
        if picture is not None:
            mlflow.log_image(picture, key="samples", step=epoch + 1)


def train_adversarial(
    recipe: Recipe,
    data_dir: str | Path,
    out_dir: str | Path,
    checkpoint_dir: str | Path,
    *,
    log_to_mlflow: bool = True,
    verbose: int = 2,
    extra_callbacks: list | None = None,
) -> dict:
    """Train ``recipe``'s model on ``data_dir`` and keep its generators in ``out_dir``.

    Writes the recipe's generator files, ``history.csv`` (one row of mean losses per epoch)
    and ``run.json`` (steps, data counts, the MLflow run). The whole training state is backed
    up to ``checkpoint_dir`` after every epoch (:mod:`condgen.core.backup`); a run stopped at
    any moment and started again with the same params, data and code resumes from the last
    finished epoch and ends with the same weights as an uninterrupted run (and continues the
    same MLflow run); a finished run removes the backup.

    Under ``distribute: multi_worker`` every worker process calls this with the same params and
    data; the chief writes what is described above, the others nothing that outlives the run
    (their returned dict has ``worker``, their index).
    """
    from condgen import families

    config, seed, name = recipe.config, recipe.seed, recipe.model.name
    family = families.family_of(recipe.model)
    out = Path(out_dir)
    runtime.use_device(config.device, recipe.model.train_section)
    runtime.set_seed(seed, deterministic=config.deterministic)
    runtime.set_mixed_precision(config.mixed_precision)
    data = recipe.load(Path(data_dir))
    params = {"seed": seed, **data.fingerprint, **dataclasses.asdict(config)}
    strategy = runtime.make_strategy(config.distribute)
    devices = ", ".join(runtime.training_devices(strategy))
    chief, worker, workers = runtime.worker_role(strategy)
    where = f" (worker {worker} of {workers}{', chief' if chief else ''})" if workers > 1 else ""
    print(f"{name}: training on {devices}{where}", flush=True)
    backups = Path(checkpoint_dir)
    if not chief:
        # Every worker runs every step, backup and save (reading a variable may be a collective
        # that all take part in), but only the chief keeps outputs and logs to MLflow. The
        # others back up into a folder of their own beside the chief's (so that each can
        # resume where the chief does, shared disk or not) and save into a temporary folder;
        # both are removed at the end.
        checkpoint_dir = Path(f"{checkpoint_dir}.worker-{worker}")
        log_to_mlflow = False
    global_batch = config.batch_size * strategy.num_replicas_in_sync
    if strategy.num_replicas_in_sync > 1 and config.steps_per_execution > 1:
        from condgen.core.params import ConfigError

        section = recipe.model.train_section
        raise ConfigError(
            f"{section}.steps_per_execution is {config.steps_per_execution}, but Keras 3.15 "
            f"runs one step per execution over several replicas ({devices}, distribute: "
            f"{config.distribute}): its multi-step loop fails under tf.distribute "
            f"(keras-team/keras#19246); set {section}.steps_per_execution to 1"
        )
    if data.smallest < global_batch:
        replicas = strategy.num_replicas_in_sync
        size = str(global_batch) if replicas == 1 else f"{config.batch_size} x {replicas} replicas"
        raise ValueError(
            f"{recipe.model.train_section}.batch_size ({size}) is larger than the "
            f"{data.smallest} {data.unit}"
        )
    # After the checks, so that a refused run leaves no backup folder behind.
    ident = backup.identity(
        params, list(data.files), backup.code_version("core", "models", family.name)
    )
    state = backup.open_state(checkpoint_dir, ident, recipe.model.train_section)
    steps_per_epoch, per_execution = epoch_steps(
        data.epoch_items, global_batch, config.steps_per_execution
    )
    with strategy.scope():
        model = compile_adversarial(
            recipe.build(data), config, config.epochs * steps_per_epoch, per_execution
        )
    saver = backup.TrainingBackup(checkpoint_dir)
    done = saver.restore(model)
    if workers > 1:
        epochs_held = set(runtime.values_on_replicas(strategy, done))
        if len(epochs_held) > 1:
            raise RuntimeError(
                f"the workers' backups hold different epochs ({sorted(epochs_held)}): a run was "
                f"stopped while they were written; delete {backups} and its .worker-* "
                "siblings on every worker to start afresh"
            )
    dataset = recipe.dataset(data, global_batch, start_step=done * steps_per_epoch)

    callbacks: list[keras.callbacks.Callback] = []
    run_id = None
    if log_to_mlflow:
        import mlflow

        tracking.setup(name)
        # A resumed training continues its MLflow run; a new one logs its params and lineage.
        run_id = mlflow.start_run(run_id=state.get("run_id"), run_name=f"{name}-train").info.run_id
        if "run_id" not in state:
            mlflow.log_params(params)
            mlflow.set_tags(
                {
                    **tracking.run_tags(family.data_stage, family.data_dir),
                    "model": name,
                    "stage": "train",
                    "devices": devices,
                }
            )
            tracking.log_data_input(family.data_stage, family.data_dir, "training")
        state["run_id"] = run_id
        # Logged before the backup: an epoch re-run after a kill logs the same values again.
        callbacks.append(MlflowEpochLogger(lambda: recipe.preview(model, data)))
    callbacks.append(saver)
    callbacks.extend(extra_callbacks or [])
    backup.save_state(checkpoint_dir, state)

    start = time.perf_counter()
    try:
        model.fit(
            dataset,
            epochs=config.epochs,
            initial_epoch=done,
            steps_per_epoch=steps_per_epoch,
            callbacks=callbacks,
            verbose=verbose,
            shuffle=False,
        )
    finally:
        if log_to_mlflow:
            mlflow.end_run()
    seconds = time.perf_counter() - start
    history = pd.DataFrame(saver.history)
    history = history[["epoch", *sorted(c for c in history.columns if c != "epoch")]]

    if not chief:
        with tempfile.TemporaryDirectory(prefix=f"condgen-{name}-worker{worker}-") as scratch:
            recipe.save(model, Path(scratch))
        shutil.rmtree(checkpoint_dir, ignore_errors=True)
        return {
            "model": name,
            "run_id": None,
            "steps": steps_per_epoch * config.epochs,
            "worker": worker,
        }

    tmp = out.with_name(out.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    recipe.save(model, tmp)
    history.to_csv(tmp / "history.csv", index=False)
    info = {
        "model": name,
        "run_id": run_id,
        "epochs": config.epochs,
        "steps": steps_per_epoch * config.epochs,
        **data.counts,
        **data.fingerprint,
        **recipe.run_info(data),
        "train_seconds_last_session": round(seconds, 1),
    }
    (tmp / "run.json").write_text(json.dumps(info, indent=2) + "\n")
    # The outputs appear whole, or not at all.
    shutil.rmtree(out, ignore_errors=True)
    tmp.rename(out)
    shutil.rmtree(checkpoint_dir, ignore_errors=True)
    return info
