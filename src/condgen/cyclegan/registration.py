"""How CycleGAN's two generators are logged, served and judged (see condgen.core.registry)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from condgen.core.registry import Registration
from condgen.serving.signatures import image_registration


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

    def artifacts(model_dir: Path) -> dict[str, Path]:
        return {f"generator_{d}": model_dir / GENERATOR_FILES[d] for d in model.directions}

    return image_registration(model, input_example, artifacts)
