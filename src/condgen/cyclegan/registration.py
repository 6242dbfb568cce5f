"""How CycleGAN's two generators are logged, served and judged (see condgen.core.registry)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from condgen.core.registry import Registration
from condgen.serving import image_pyfunc_file
from condgen.serving.signatures import image_signature


def input_example() -> pd.DataFrame:
    """A day and a night rendering of one synthetic scene, one request row per direction."""
    from condgen.facades import scenes
    from condgen.serving.requests import png_base64

    day, night = scenes.generate_day_night(1, 64, 0)
    return pd.DataFrame(
        {"image": [png_base64(day[0]), png_base64(night[0])], "direction": ["a2b", "b2a"]}
    )


def registration(model) -> Registration:
    """Both generators in one model of the shared image wrapper; a row names its direction."""
    from condgen.cyclegan.train import GENERATOR_FILES

    def serving_meta(model_dir: Path) -> dict:
        run = json.loads((model_dir / "run.json").read_text())
        return {
            "model": model.name,
            "image_size": int(run["image_size"]),
            # No dropout, instance norm: nothing differs between training and test mode.
            "train_mode_at_test": False,
            "directions": list(model.directions),
        }

    def artifacts(model_dir: Path) -> dict[str, Path]:
        return {f"generator_{d}": model_dir / GENERATOR_FILES[d] for d in model.directions}

    return Registration.of(
        model,
        pyfunc_file=image_pyfunc_file(),
        signature=lambda: image_signature(with_direction=True),
        input_example=input_example,
        serving_meta=serving_meta,
        artifacts=artifacts,
    )
