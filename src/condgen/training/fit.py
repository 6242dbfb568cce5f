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
from condgen.config import TrainConfig
from condgen.data import mnist
from condgen.models import GAN, MODELS
from condgen.models.schedules import LinearDecay
from condgen.training.callbacks import MlflowEpochLogger


def build_gan(model: str, config: TrainConfig, seed: int, steps_per_epoch: int = 1) -> GAN:
    """The compiled GAN of family ``model`` (networks, optimizers and switches from config)."""
    spec = MODELS[model]
    gan = GAN(
        spec.build_generator(config.noise_dim),
        spec.build_discriminator(),
        noise_dim=config.noise_dim,
        conditional=spec.conditional,
        seed=seed,
        name=f"{model}",
    )

    total = config.epochs * steps_per_epoch

    def adam(lr: float) -> keras.optimizers.Optimizer:
        rate = lr
        if config.lr_decay_start < 1.0:
            rate = LinearDecay(lr, total, int(round(config.lr_decay_start * total)))
        opt = keras.optimizers.Adam(rate, beta_1=config.beta_1, beta_2=config.beta_2)
        # float16 gradients underflow without dynamic loss scaling.
        return keras.optimizers.LossScaleOptimizer(opt) if config.mixed_precision else opt

    gan.compile(
        g_optimizer=adam(config.g_learning_rate),
        d_optimizer=adam(config.d_learning_rate),
        jit_compile=config.jit_compile,
        steps_per_execution=config.steps_per_execution,
    )
    # Build the optimizers' slots now, so that a backup can be restored into them.
    gan.g_optimizer.build(gan.generator.trainable_variables)
    gan.d_optimizer.build(gan.discriminator.trainable_variables)
    gan.built = True
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
    ckpt = Path(checkpoint_dir)
    runtime.set_seed(seed, deterministic=config.deterministic)
    runtime.set_mixed_precision(config.mixed_precision)

    # A backup is only valid for exactly these params; anything else starts afresh.
    fingerprint = json.dumps({"seed": seed, **dataclasses.asdict(config)}, sort_keys=True)
    state_file = ckpt / "state.json"
    state = json.loads(state_file.read_text()) if state_file.is_file() else {}
    if state.get("fingerprint") != fingerprint:
        shutil.rmtree(ckpt, ignore_errors=True)
        state = {"fingerprint": fingerprint}
    ckpt.mkdir(parents=True, exist_ok=True)

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
    steps_per_epoch = len(images) // global_batch
    with strategy.scope():
        gan = build_gan(model, config, seed, steps_per_epoch)

    callbacks: list[keras.callbacks.Callback] = [
        keras.callbacks.BackupAndRestore(str(ckpt / "backup"), delete_checkpoint=True),
        keras.callbacks.CSVLogger(str(ckpt / "history.csv"), append=True),
    ]
    run_id = None
    if log_to_mlflow:
        import mlflow

        tracking.setup(model)
        run = mlflow.start_run(run_id=state.get("run_id"), run_name=f"{model}-train")
        run_id = run.info.run_id
        state["run_id"] = run_id
        if "resumed" not in state:
            mlflow.log_params({"seed": seed, **dataclasses.asdict(config)})
            mlflow.set_tags({**tracking.run_tags("prepare_mnist", "data/mnist"), "model": model})
        callbacks.append(MlflowEpochLogger())
    callbacks.extend(extra_callbacks or [])
    state["resumed"] = True
    state_file.write_text(json.dumps(state))

    start = time.perf_counter()
    try:
        gan.fit(
            dataset,
            epochs=config.epochs,
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

    gan.generator.save(out / "generator.keras")
    history = pd.read_csv(ckpt / "history.csv")
    history["epoch"] = history["epoch"] + 1
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
    shutil.rmtree(ckpt, ignore_errors=True)
    return info
