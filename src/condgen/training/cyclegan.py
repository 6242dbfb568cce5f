"""Train CycleGAN on prepared unpaired images: data -> networks -> resumable fit -> generators."""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path

from condgen import runtime
from condgen.config import CycleGANConfig
from condgen.data import unpaired
from condgen.training.fit import (
    compile_adversarial,
    epoch_steps,
    fit_resumable,
    open_checkpoint,
)

GENERATOR_FILES = {"a2b": "generator_a2b.keras", "b2a": "generator_b2a.keras"}


def build(
    config: CycleGANConfig,
    image_size: int,
    seed: int,
    steps_per_epoch: int = 1,
    steps_per_execution: int | None = None,
):
    """The compiled CycleGAN for ``config`` at ``image_size`` px."""
    from condgen.models.cyclegan import build_cyclegan

    model = build_cyclegan(
        image_size,
        generator=config.generator,
        residual_blocks=config.residual_blocks or None,
        base_filters=config.base_filters,
        patch=str(config.patch),
        gan_loss=config.gan_loss,
        cycle_weight=config.cycle_weight,
        identity_weight=config.identity_weight,
        pool_size=config.pool_size,
        seed=seed,
    )
    compile_adversarial(model, config, config.epochs * steps_per_epoch, steps_per_execution)
    return model


def train(
    config: CycleGANConfig,
    seed: int,
    data_dir: str | Path,
    out_dir: str | Path,
    checkpoint_dir: str | Path,
    *,
    log_to_mlflow: bool = True,
    verbose: int = 2,
    extra_callbacks: list | None = None,
) -> dict:
    """Train CycleGAN on ``data_dir/train.npz`` and save both generators to ``out_dir``.

    An epoch is one pass over the larger domain (as the paper's code). Writes
    ``generator_a2b.keras``, ``generator_b2a.keras``, ``history.csv`` and ``run.json``; backs
    the whole training state up after every epoch (networks, optimizers and so the learning
    rate schedule, and both image pools) and resumes from it like the other models.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    runtime.set_seed(seed, deterministic=config.deterministic)
    runtime.set_mixed_precision(config.mixed_precision)
    images_a, images_b = unpaired.load_split(Path(data_dir) / "train.npz")
    image_size = int(images_a.shape[1])
    params = {"seed": seed, "image_size": image_size, **dataclasses.asdict(config)}
    state = open_checkpoint(checkpoint_dir, params)

    strategy = runtime.make_strategy(config.distribute)
    global_batch = config.batch_size * strategy.num_replicas_in_sync
    smaller = min(len(images_a), len(images_b))
    if smaller < global_batch:
        raise ValueError(
            f"train.cyclegan.batch_size ({global_batch} over all replicas) is larger than the "
            f"{smaller} training images of the smaller domain"
        )
    dataset = unpaired.make_train_dataset(
        images_a, images_b, global_batch, seed, jitter=config.jitter
    )
    steps_per_epoch, per_execution = epoch_steps(
        max(len(images_a), len(images_b)), global_batch, config.steps_per_execution
    )
    with strategy.scope():
        model = build(config, image_size, seed, steps_per_epoch, per_execution)

    history, run_id, seconds = fit_resumable(
        model,
        dataset,
        family="cyclegan",
        epochs=config.epochs,
        steps_per_epoch=steps_per_epoch,
        checkpoint_dir=checkpoint_dir,
        state=state,
        params=params,
        data=("prepare_unpaired", "data/unpaired"),
        log_to_mlflow=log_to_mlflow,
        verbose=verbose,
        extra_callbacks=extra_callbacks,
    )
    model.generator_a2b.save(out / GENERATOR_FILES["a2b"])
    model.generator_b2a.save(out / GENERATOR_FILES["b2a"])
    history.to_csv(out / "history.csv", index=False)
    info = {
        "model": "cyclegan",
        "run_id": run_id,
        "epochs": config.epochs,
        "steps": steps_per_epoch * config.epochs,
        "train_a": int(len(images_a)),
        "train_b": int(len(images_b)),
        "image_size": image_size,
        "train_seconds_last_session": round(seconds, 1),
    }
    (out / "run.json").write_text(json.dumps(info, indent=2) + "\n")
    shutil.rmtree(checkpoint_dir, ignore_errors=True)
    return info
