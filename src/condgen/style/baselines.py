"""The trivial answers a stylised image stands beside, scored by the same objective.

For one (content, style) pair:

- ``content_image``: the content image itself (no content loss, the full style loss);
- ``colour_transfer``: the content image recoloured with the style image's colour mean and
  covariance (:func:`colour_transfer`), which lowers the style loss for free;
- ``style_image``: the style image resized to the content's size (a low style loss, a high
  content loss).

Every image, the result's included, is scored as it is saved (rounded to 8 bits) by the pair's
:class:`~condgen.style.model.StyleLoss`, so the weights, layers and TV term are the result's.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from PIL import Image

from condgen.core.baselines import compare
from condgen.core.images import unit_to_uint8
from condgen.style.model import StyleLoss

BASELINES = ("content_image", "colour_transfer", "style_image")
SCORED_TERMS = ("total", "content", "style")
# Added to the content's colour covariance so that it has an inverse when the content is flat
# or grey (zero variance along some colour direction); small enough not to bias the match.
COVARIANCE_FLOOR = 1e-10


def _sqrtm(matrix: np.ndarray) -> np.ndarray:
    """The symmetric square root of a symmetric positive semi-definite matrix."""
    values, vectors = np.linalg.eigh(matrix)
    return (vectors * np.sqrt(np.clip(values, 0.0, None))) @ vectors.T


def colour_transfer(content: np.ndarray, style: np.ndarray) -> np.ndarray:
    """``content`` (RGB 0..1) recoloured to the colour mean and covariance of ``style``.

    The map is affine, x -> T (x - mean_c) + mean_s, with T the symmetric solution of
    T C_c T = C_s (C: 3x3 RGB covariances), the linear map that moves the colours least.
    Matching the full covariance, not only each channel's mean and standard deviation, also
    matches how the channels vary together, which the Gram matrices of the first VGG layers
    see; it needs no decorrelating colour space (a log-LMS space, as in per-channel transfer
    in l-alpha-beta, blows up dark pixels). Values are clipped to 0..1 afterwards.
    """
    pixels = np.asarray(content, np.float64).reshape(-1, 3)
    target = np.asarray(style, np.float64).reshape(-1, 3)
    cov_c = np.cov(pixels, rowvar=False, bias=True) + COVARIANCE_FLOOR * np.eye(3)
    cov_s = np.cov(target, rowvar=False, bias=True)
    root_c = _sqrtm(cov_c)
    inverse_root_c = np.linalg.inv(root_c)
    transform = inverse_root_c @ _sqrtm(root_c @ cov_s @ root_c) @ inverse_root_c
    out = (pixels - pixels.mean(axis=0)) @ transform.T + target.mean(axis=0)
    return np.clip(out, 0.0, 1.0).reshape(np.shape(content)).astype(np.float32)


def resized(image: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """``image`` (RGB 0..1) resized to ``shape``'s height and width (aspect ratio not kept)."""
    height, width = shape[:2]
    pixels = Image.fromarray(unit_to_uint8(image)).resize((width, height), Image.Resampling.LANCZOS)
    return np.asarray(pixels, np.float32) / 255.0


def baseline_images(content: np.ndarray, style: np.ndarray) -> dict[str, np.ndarray]:
    """{name in BASELINES: image of the content's size, RGB 0..1}."""
    return {
        "content_image": np.asarray(content, np.float32),
        "colour_transfer": colour_transfer(content, style),
        "style_image": resized(style, np.shape(content)),
    }


def score(objective: StyleLoss, image: np.ndarray) -> dict[str, float]:
    """{"total", "content", "style"} of ``image`` (RGB 0..1) as saved: rounded to 8 bits."""
    saved = unit_to_uint8(image).astype(np.float32) / 255.0
    losses = objective(saved[None])
    return {term: float(losses[term]) for term in SCORED_TERMS}


def compare_losses(
    result: dict, model: Mapping[str, float], baselines: Mapping[str, Mapping[str, float]]
) -> dict:
    """Record each of SCORED_TERMS of the result and of every baseline in ``result``.

    Lower is better: ``<term>_vs_best_baseline`` at or above 1 means the stylised image does
    no better on that term than the best trivial answer.
    """
    for term in SCORED_TERMS:
        values = {name: losses[term] for name, losses in baselines.items()}
        compare(result, term, model[term], values, greater_is_better=False)
    return result
