"""Score image translations beside the trivial answers and the real data, one way for all.

:func:`score_translation` puts every score of one direction into a report: the per-pixel
distances to the true targets (where they exist), the segmentation score (where class maps and
a segmenter exist), and KID against the real test targets, each next to every trivial answer
(:mod:`condgen.core.baselines`) and, for the last two, next to real photos (the ceiling).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np

from condgen.core import baselines
from condgen.core.images import to_unit
from condgen.core.metrics import image_similarity, kid

# Per-pixel metrics and whether greater is better.
PIXEL_METRICS = {"l1": False, "psnr": True, "ssim": True}
SEGMENT_METRICS = ("mean_iou", "pixel_accuracy")


def _mean(scores: Mapping[str, np.ndarray]) -> dict[str, float]:
    return {k: float(np.mean(v)) for k, v in scores.items()}


def score_translation(
    result: dict,
    outputs: np.ndarray,
    trivial: Mapping[str, np.ndarray],
    *,
    truth: np.ndarray | None,
    reference: np.ndarray,
    real_sample: np.ndarray,
    features: Callable[[np.ndarray], np.ndarray],
    segment: Callable[[np.ndarray], dict[str, float]] | None,
    prefix: str = "",
) -> dict:
    """Add one direction's scores to ``result`` (returned); every image is uint8 (N, S, S, 3).

    ``outputs``: the model's answers to the test inputs; ``trivial``: each trivial answer's;
    ``truth``: the true target of each test input, or None (unpaired downloads);
    ``reference``: real test images of the target domain, what KID compares with;
    ``real_sample``: as many other real images of that domain (from training): their KID is
    the ceiling a perfect model reaches; ``segment``: images -> segmentation scores against
    the test inputs' class maps, or None when there are no class maps (needs ``truth``).
    """
    if truth is not None:
        model = _mean(image_similarity(to_unit(outputs), to_unit(truth)))
        answers = {
            n: _mean(image_similarity(to_unit(images), to_unit(truth)))
            for n, images in trivial.items()
        }
        for metric, greater in PIXEL_METRICS.items():
            baselines.compare(
                result,
                metric,
                model[metric],
                {n: s[metric] for n, s in answers.items()},
                greater,
                prefix,
            )
    if segment is not None:
        if truth is None:
            raise ValueError("a segmentation score needs the true targets (the real ceiling)")
        model = segment(outputs)
        real = segment(truth)
        answers = {n: segment(images) for n, images in trivial.items()}
        for metric in SEGMENT_METRICS:
            baselines.compare(
                result,
                metric,
                model[metric],
                {n: s[metric] for n, s in answers.items()},
                True,
                prefix,
            )
            result[f"{prefix}real_{metric}"] = real[metric]
            result[f"{prefix}{metric}_vs_real"] = model[metric] / real[metric]
    ref = features(reference)
    model_kid = kid(features(outputs), ref)
    answers_kid = {n: kid(features(images), ref) for n, images in trivial.items()}
    baselines.compare(result, "kid", model_kid, answers_kid, False, prefix)
    result[f"{prefix}real_kid"] = kid(features(real_sample), ref)
    return result


def real_sample(images: np.ndarray, count: int, seed: int) -> np.ndarray:
    """``count`` of ``images`` drawn without replacement (all of them if there are fewer)."""
    rng = np.random.default_rng(seed)
    if len(images) <= count:
        return images
    return images[np.sort(rng.choice(len(images), count, replace=False))]
