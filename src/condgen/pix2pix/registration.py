"""How a Pix2Pix generator is logged, served and judged (see condgen.core.registry)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from condgen.core.registry import Registration
from condgen.serving import image_pyfunc_file
from condgen.serving.signatures import image_signature


def input_example() -> pd.DataFrame:
    """One label map of the synthetic facades, as a request carries it."""
    from condgen.facades import scenes
    from condgen.serving.requests import png_base64

    scene = scenes.sample_scene(0, 64)
    return pd.DataFrame({"image": [png_base64(scenes.label_map(scene))], "seed": [0.0]})


def registration(model) -> Registration:
    """Served by the shared image wrapper, at the size and test-time mode it was trained with."""

    def serving_meta(model_dir: Path) -> dict:
        run = json.loads((model_dir / "run.json").read_text())
        return {
            "model": model.name,
            "image_size": int(run["image_size"]),
            "train_mode_at_test": bool(run["train_mode_at_test"]),
        }

    return Registration.of(
        model,
        pyfunc_file=image_pyfunc_file(),
        signature=image_signature,
        input_example=input_example,
        serving_meta=serving_meta,
    )
