"""MLflow pyfunc model of image-to-image generators (Pix2Pix, CycleGAN), "model from code".

Request, Pix2Pix: rows of ``image`` (base64 PNG or JPEG of any size) and an optional ``seed``
(the test-time dropout's randomness; default 0, so the same image gets the same answer).
CycleGAN: rows of ``image`` and ``direction`` (``a2b`` or ``b2a``: which generator to use).
Answer: per row, ``image`` (base64 PNG at the request's size), ``width`` and ``height``.
"""

from __future__ import annotations

import json

import mlflow
import numpy as np
import pandas as pd
from mlflow.pyfunc import PythonModel


class ImageTranslationModel(PythonModel):
    def load_context(self, context):
        from condgen.core.layers import load_image_model

        with open(context.artifacts["meta"]) as fh:
            self.meta = json.load(fh)
        self.directions = tuple(self.meta.get("directions", ()))
        if self.directions:
            self.generators = {
                d: load_image_model(context.artifacts[f"generator_{d}"]) for d in self.directions
            }
        else:
            self.generators = {None: load_image_model(context.artifacts["generator"])}

    def predict(self, context, model_input: pd.DataFrame, params=None) -> pd.DataFrame:
        from mlflow.exceptions import MlflowException

        from condgen.serving.requests import RequestError, parse_image_rows, png_base64
        from condgen.serving.translate import translate_images

        extra = {"direction": self.directions} if self.directions else None
        try:
            images, seeds, texts = parse_image_rows(model_input, extra, seeded=not self.directions)
        except RequestError as err:
            raise MlflowException.invalid_parameter_value(str(err)) from err
        routes = texts.get("direction", [None] * len(images))
        outputs: list = [None] * len(images)
        for key, generator in self.generators.items():
            rows = [i for i, route in enumerate(routes) if route == key]
            if not rows:
                continue
            translated = translate_images(
                generator,
                [images[i] for i in rows],
                np.asarray(seeds)[rows],
                int(self.meta["image_size"]),
                bool(self.meta["train_mode_at_test"]),
            )
            for i, image in zip(rows, translated, strict=True):
                outputs[i] = image
        return pd.DataFrame(
            {
                "image": [png_base64(o) for o in outputs],
                "width": [o.shape[1] for o in outputs],
                "height": [o.shape[0] for o in outputs],
            }
        )


mlflow.models.set_model(ImageTranslationModel())
