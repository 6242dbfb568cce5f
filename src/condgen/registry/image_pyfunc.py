"""MLflow pyfunc model of an image-to-image generator (Pix2Pix), logged as "model from code".

Request: rows of ``image`` (base64 PNG or JPEG of any size) and an optional ``seed`` (the
test-time dropout's randomness; default 0, so the same image gets the same answer).
Answer: per row, ``image`` (base64 PNG at the request's size), ``width`` and ``height``.
"""

from __future__ import annotations

import json

import mlflow
import pandas as pd
from mlflow.pyfunc import PythonModel


class ImageTranslationModel(PythonModel):
    def load_context(self, context):
        import keras

        with open(context.artifacts["meta"]) as fh:
            self.meta = json.load(fh)
        self.generator = keras.models.load_model(context.artifacts["generator"])

    def predict(self, context, model_input, params=None):
        from mlflow.exceptions import MlflowException

        from condgen.registry.requests import RequestError, parse_image_rows, png_base64
        from condgen.registry.translate import translate_images

        try:
            images, seeds, _ = parse_image_rows(model_input)
        except RequestError as err:
            raise MlflowException.invalid_parameter_value(str(err)) from err
        outputs = translate_images(
            self.generator,
            images,
            seeds,
            int(self.meta["image_size"]),
            bool(self.meta["train_mode_at_test"]),
        )
        return pd.DataFrame(
            {
                "image": [png_base64(o) for o in outputs],
                "width": [o.shape[1] for o in outputs],
                "height": [o.shape[0] for o in outputs],
            }
        )


mlflow.models.set_model(ImageTranslationModel())
