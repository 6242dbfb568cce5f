"""How an MNIST generator is logged, served and judged (see condgen.core.registry)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from condgen.core.registry import Registration


def signature(conditional: bool):
    """Labels and seeds are untyped for MLflow's schema check, so that 3 (an integer column
    from Python), 3.0 (JSON) and 3.7 all reach the wrapper, which takes whole numbers and
    refuses the rest naming the row (a typed column would turn 3.7 into 3, or refuse a
    Python integer with a schema error)."""
    from mlflow.models import ModelSignature
    from mlflow.types import ColSpec, Schema
    from mlflow.types.schema import AnyType

    inputs = [ColSpec(AnyType(), "seed", required=not conditional)]
    outputs = [ColSpec("string", "image"), ColSpec("long", "seed")]
    if conditional:
        inputs.insert(0, ColSpec(AnyType(), "label"))
        outputs.append(ColSpec("long", "label"))
    return ModelSignature(inputs=Schema(inputs), outputs=Schema(outputs))


def input_example(conditional: bool) -> pd.DataFrame:
    if conditional:
        return pd.DataFrame({"label": [3, 7], "seed": [0, 1]})
    return pd.DataFrame({"seed": [0, 1]})


def registration(model) -> Registration:
    """The recipe of the MNIST model row ``model``: served by ``pyfunc.py`` from its generator."""

    def serving_meta(model_dir: Path) -> dict:
        import keras

        generator = keras.models.load_model(model_dir / "generator.keras")
        noise_dim = int(generator.inputs[0].shape[-1])
        return {"model": model.name, "conditional": model.conditional, "noise_dim": noise_dim}

    return Registration.of(
        model,
        pyfunc_file=Path(__file__).with_name("pyfunc.py"),
        signature=lambda: signature(model.conditional),
        input_example=lambda: input_example(model.conditional),
        serving_meta=serving_meta,
    )
