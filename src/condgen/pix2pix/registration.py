"""How a Pix2Pix generator is logged, served and judged (see condgen.core.registry)."""

from __future__ import annotations

import pandas as pd

from condgen.core.registry import Registration
from condgen.serving.signatures import image_registration


def input_example() -> pd.DataFrame:
    """One label map of the synthetic facades, as a request carries it."""
    from condgen.facades import scenes
    from condgen.serving.requests import png_base64

    scene = scenes.sample_scene(0, 64)
    return pd.DataFrame({"image": [png_base64(scenes.label_map(scene))], "seed": [0.0]})


def registration(model) -> Registration:
    """The shared image wrapper, at the size and test-time mode the model was trained with."""
    return image_registration(model, input_example)
