"""Train one MNIST GAN family: data -> networks -> fit with checkpoints -> saved generator."""

from __future__ import annotations

import dataclasses
import json
import shutil
import time
from pathlib import Path

import keras
import pandas as pd

from condgen import runtime, tracking
from condgen.config import CycleGANConfig, Pix2PixConfig, TrainConfig
from condgen.data import mnist
from condgen.models import GAN, MODELS
from condgen.models.schedules import LinearDecay
from condgen.training.callbacks import MlflowEpochLogger


def make_adam(
    learning_rate: float, config: TrainConfig | Pix2PixConfig | CycleGANConfig, total_steps: int
) -> keras.optimizers.Optimizer:
    """Adam with the section's betas, linear decay from ``lr_decay_start`` and loss scaling."""
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
    config: TrainConfig | Pix2PixConfig | CycleGANConfig,
    total_steps: int,
    steps_per_execution: int | None = None,
) -> None:
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


def build_gan(
    model: str,
    config: TrainConfig,
    seed: int,
    steps_per_epoch: int = 1,
    steps_per_execution: int | None = None,
) -> GAN:
    """The compiled GAN of family ``model`` (networks, optimizers and switches from config)."""
    spec = MODELS[model]
    gan = GAN(
        spec.build_generator(config.noise_dim),
        spec.build_discriminator(),
        noise_dim=config.noise_dim,
        conditional=spec.conditional,
        seed=seed,
        ema_decay=config.ema_decay,
        diff_augment=config.diff_augment,
        mismatch_weight=config.mismatch_weight,
        name=f"{model}",
    )

    compile_adversarial(gan, config, config.epochs * steps_per_epoch, steps_per_execution)
    return gan


def train(
    model: str,
    config: TrainConfig,
    seed: int,
    data_dir: str | Path,
    out_dir: str | Path,
    checkpoint_dir: str | Path,
    *,
    log_to_mlflow: bool = True,
    verbose: int = 2,
    extra_callbacks: list | None = None,
) -> dict:
    """Train ``model`` on the prepared MNIST arrays and save its generator.

    Writes ``generator.keras``, ``history.csv`` (one row of mean losses per epoch) and
    ``run.json`` (the MLflow run) to ``out_dir``. The full training state is backed up to
    ``checkpoint_dir`` after every epoch; an interrupted run started again with the same params
    resumes from there (and continues the same MLflow run); a finished run removes it.
    """
    spec = MODELS[model]
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    runtime.set_seed(seed, deterministic=config.deterministic)
    runtime.set_mixed_precision(config.mixed_precision)
    params = {"seed": seed, **dataclasses.asdict(config)}
    state = open_checkpoint(checkpoint_dir, params)

    images, labels = mnist.load_split(Path(data_dir) / "train.npz")
    if len(images) < config.batch_size:
        raise ValueError(
            f"train.{model}.batch_size ({config.batch_size}) is larger than the "
            f"{len(images)} training images"
        )
    strategy = runtime.make_strategy(config.distribute)
    global_batch = config.batch_size * strategy.num_replicas_in_sync
    # One endless, reshuffled stream: Keras then keeps a single iterator instead of refilling
    # the shuffle buffer at every (short) epoch.
    dataset = mnist.make_dataset(
        images, labels, global_batch, seed, conditional=spec.conditional
    ).repeat()
    steps_per_epoch, per_execution = epoch_steps(
        len(images), global_batch, config.steps_per_execution
    )
    with strategy.scope():
        gan = build_gan(model, config, seed, steps_per_epoch, per_execution)

    history, run_id, seconds = fit_resumable(
        gan,
        dataset,
        family=model,
        epochs=config.epochs,
        steps_per_epoch=steps_per_epoch,
        checkpoint_dir=checkpoint_dir,
        state=state,
        params=params,
        data=("prepare_mnist", "data/mnist"),
        log_to_mlflow=log_to_mlflow,
        verbose=verbose,
        extra_callbacks=extra_callbacks,
    )
    gan.final_generator.save(out / "generator.keras")
    history.to_csv(out / "history.csv", index=False)
    steps = steps_per_epoch * config.epochs
    info = {
        "model": model,
        "run_id": run_id,
        "epochs": config.epochs,
        "steps": steps,
        "train_images": int(len(images)),
        "train_seconds_last_session": round(seconds, 1),
    }
    (out / "run.json").write_text(json.dumps(info, indent=2) + "\n")
    shutil.rmtree(checkpoint_dir, ignore_errors=True)
    return info


def open_checkpoint(checkpoint_dir: str | Path, params: dict) -> dict:
    """The resume state in ``checkpoint_dir`` if it was written for exactly ``params``.

    A backup is only valid for the params that made it; anything else starts afresh (and the
    stale backup is removed), so a changed learning rate never continues an old run.
    """
    ckpt = Path(checkpoint_dir)
    fingerprint = json.dumps(params, sort_keys=True)
    state_file = ckpt / "state.json"
    state = json.loads(state_file.read_text()) if state_file.is_file() else {}
    if state.get("fingerprint") != fingerprint:
        shutil.rmtree(ckpt, ignore_errors=True)
        state = {"fingerprint": fingerprint}
    ckpt.mkdir(parents=True, exist_ok=True)
    return state


def fit_resumable(
    model: keras.Model,
    dataset,
    *,
    family: str,
    epochs: int,
    steps_per_epoch: int,
    checkpoint_dir: str | Path,
    state: dict,
    params: dict,
    data: tuple[str, str],
    log_to_mlflow: bool = True,
    verbose: int = 2,
    extra_callbacks: list | None = None,
) -> tuple[pd.DataFrame, str | None, float]:
    """``model.fit`` with a backup every epoch, a history CSV and an MLflow run.

    ``state`` comes from :func:`open_checkpoint`; an interrupted fit started again with the
    same params resumes from the last finished epoch and continues the same MLflow run.
    ``data`` is (DVC stage, path) of the training data, for the run's data-hash tag. Returns
    the per-epoch history (epochs counted from 1), the MLflow run id and the seconds spent.
    """
    ckpt = Path(checkpoint_dir)
    state_file = ckpt / "state.json"
    callbacks: list[keras.callbacks.Callback] = [
        keras.callbacks.BackupAndRestore(str(ckpt / "backup"), delete_checkpoint=True),
        keras.callbacks.CSVLogger(str(ckpt / "history.csv"), append=True),
    ]
    run_id = None
    if log_to_mlflow:
        import mlflow

        tracking.setup(family)
        run = mlflow.start_run(run_id=state.get("run_id"), run_name=f"{family}-train")
        run_id = run.info.run_id
        state["run_id"] = run_id
        if "resumed" not in state:
            mlflow.log_params(params)
            mlflow.set_tags({**tracking.run_tags(*data), "model": family})
        callbacks.append(MlflowEpochLogger())
    callbacks.extend(extra_callbacks or [])
    state["resumed"] = True
    state_file.write_text(json.dumps(state))

    start = time.perf_counter()
    try:
        model.fit(
            dataset,
            epochs=epochs,
            steps_per_epoch=steps_per_epoch,
            callbacks=callbacks,
            verbose=verbose,
            shuffle=False,
        )
    finally:
        if log_to_mlflow:
            import mlflow

            mlflow.end_run()
    seconds = time.perf_counter() - start
    # CSVLogger adds empty val_* columns when there is no validation data: drop them.
    history = pd.read_csv(ckpt / "history.csv").dropna(axis=1, how="all")
    history["epoch"] = history["epoch"] + 1
    return history, run_id, seconds
