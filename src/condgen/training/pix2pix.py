"""Train Pix2Pix on prepared pairs: data -> networks -> resumable fit -> saved generator."""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path

from condgen import runtime
from condgen.config import Pix2PixConfig
from condgen.data import paired
from condgen.training.fit import (
    compile_adversarial,
    epoch_steps,
    fit_resumable,
    open_checkpoint,
)


def build(
    config: Pix2PixConfig,
    image_size: int,
    steps_per_epoch: int = 1,
    steps_per_execution: int | None = None,
):
    """The compiled Pix2Pix model for ``config`` at ``image_size`` px."""
    from condgen.models.pix2pix import build_pix2pix

    model = build_pix2pix(
        image_size,
        generator=config.generator,
        patch=str(config.patch),
        l1_weight=config.l1_weight,
        test_training_mode=config.train_mode_at_test,
        base_filters=config.base_filters,
    )
    compile_adversarial(model, config, config.epochs * steps_per_epoch, steps_per_execution)
    return model


def train(
    config: Pix2PixConfig,
    seed: int,
    data_dir: str | Path,
    out_dir: str | Path,
    checkpoint_dir: str | Path,
    *,
    log_to_mlflow: bool = True,
    verbose: int = 2,
    extra_callbacks: list | None = None,
) -> dict:
    """Train Pix2Pix on ``data_dir/train.npz`` and save its generator to ``out_dir``.

    Writes ``generator.keras``, ``history.csv`` (mean losses per epoch) and ``run.json``; backs
    the whole training state up after every epoch and resumes from it like the MNIST models.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    runtime.set_seed(seed, deterministic=config.deterministic)
    runtime.set_mixed_precision(config.mixed_precision)
    images_a, images_b = paired.load_split(Path(data_dir) / "train.npz")
    image_size = int(images_a.shape[1])
    params = {"seed": seed, "image_size": image_size, **dataclasses.asdict(config)}
    state = open_checkpoint(checkpoint_dir, params)

    strategy = runtime.make_strategy(config.distribute)
    global_batch = config.batch_size * strategy.num_replicas_in_sync
    if len(images_a) < global_batch:
        raise ValueError(
            f"train.pix2pix.batch_size ({global_batch} over all replicas) is larger than the "
            f"{len(images_a)} training pairs"
        )
    dataset = paired.make_train_dataset(
        images_a, images_b, global_batch, seed, jitter=config.jitter
    ).repeat()
    steps_per_epoch, per_execution = epoch_steps(
        len(images_a), global_batch, config.steps_per_execution
    )
    with strategy.scope():
        model = build(config, image_size, steps_per_epoch, per_execution)

    history, run_id, seconds = fit_resumable(
        model,
        dataset,
        family="pix2pix",
        epochs=config.epochs,
        steps_per_epoch=steps_per_epoch,
        checkpoint_dir=checkpoint_dir,
        state=state,
        params=params,
        data=("prepare_paired", "data/paired"),
        log_to_mlflow=log_to_mlflow,
        verbose=verbose,
        extra_callbacks=extra_callbacks,
    )
    model.generator.save(out / "generator.keras")
    history.to_csv(out / "history.csv", index=False)
    info = {
        "model": "pix2pix",
        "run_id": run_id,
        "epochs": config.epochs,
        "steps": steps_per_epoch * config.epochs,
        "train_pairs": int(len(images_a)),
        "image_size": image_size,
        "train_mode_at_test": config.train_mode_at_test,
        "train_seconds_last_session": round(seconds, 1),
    }
    (out / "run.json").write_text(json.dumps(info, indent=2) + "\n")
    shutil.rmtree(checkpoint_dir, ignore_errors=True)
    return info
