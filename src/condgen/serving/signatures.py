"""MLflow signatures of the image-to-image models (a base64 image in, a base64 PNG out)."""

from __future__ import annotations


def image_signature(with_direction: bool = False):
    """A base64 PNG in, a base64 PNG out; Pix2Pix takes an optional seed for test-time
    dropout, CycleGAN a ``direction`` (a2b or b2a) instead."""
    from mlflow.models import ModelSignature
    from mlflow.types import ColSpec, Schema

    if with_direction:
        inputs = [ColSpec("string", "image"), ColSpec("string", "direction")]
    else:
        inputs = [ColSpec("string", "image"), ColSpec("double", "seed", required=False)]
    outputs = [ColSpec("string", "image"), ColSpec("long", "width"), ColSpec("long", "height")]
    return ModelSignature(inputs=Schema(inputs), outputs=Schema(outputs))
