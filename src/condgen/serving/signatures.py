"""How the image-to-image models are registered: signature, serving metadata, the recipe."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from condgen.core.registry import Registration


def image_signature(with_direction: bool = False):
    """A base64 PNG in, a base64 PNG out; Pix2Pix takes an optional seed for test-time
    dropout, CycleGAN a ``direction`` (a2b or b2a) instead."""
    from mlflow.models import ModelSignature
    from mlflow.types import ColSpec, Schema
    from mlflow.types.schema import AnyType

    if with_direction:
        inputs = [ColSpec("string", "image"), ColSpec("string", "direction")]
    else:
        # Untyped, as the MNIST labels: the wrapper takes whole numbers, integer or float.
        inputs = [ColSpec("string", "image"), ColSpec(AnyType(), "seed", required=False)]
    outputs = [ColSpec("string", "image"), ColSpec("long", "width"), ColSpec("long", "height")]
    return ModelSignature(inputs=Schema(inputs), outputs=Schema(outputs))


def image_registration(
    model,
    input_example: Callable[[], pd.DataFrame],
    artifacts: Callable[[Path], dict[str, Path]] | None = None,
) -> Registration:
    """The recipe of an image model row: served by ``image_pyfunc.py`` at the size (and
    test-time mode) its ``run.json`` records; with ``directions``, one generator per direction."""

    def serving_meta(model_dir: Path) -> dict:
        run = json.loads((model_dir / "run.json").read_text())
        meta = {
            "model": model.name,
            "image_size": int(run["image_size"]),
            "train_mode_at_test": bool(run.get("train_mode_at_test", False)),
        }
        if model.directions:
            meta["directions"] = list(model.directions)
        return meta

    extra = {"artifacts": artifacts} if artifacts else {}
    return Registration.of(
        model,
        pyfunc_file=Path(__file__).with_name("image_pyfunc.py"),
        signature=lambda: image_signature(with_direction=bool(model.directions)),
        input_example=input_example,
        serving_meta=serving_meta,
        **extra,
    )
