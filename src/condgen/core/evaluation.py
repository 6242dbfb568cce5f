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
    test_target: np.ndarray,
    train_target: np.ndarray,
    seed: int,
    features: Callable[[np.ndarray], np.ndarray],
    segment: Callable[[np.ndarray], dict[str, float]] | None,
    prefix: str = "",
) -> dict:
    """Add one direction's scores to ``result`` (returned); every image is uint8 (N, S, S, 3).

    ``outputs``: the model's answers to the test inputs; ``trivial``: each trivial answer's;
    ``truth``: the true target of each test input, or None (unpaired downloads);
    ``test_target``, ``train_target``: real images of the target domain, KID's reference and
    ceiling when there is no ``truth`` (:func:`unpaired_kid_sets`); with ``truth``, KID is
    averaged over seeded half-splits of the test scenes (:func:`_paired_kid`);
    ``segment``: images -> segmentation scores against the test inputs' class maps, or None
    when there are no class maps (needs ``truth``).
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
            if real[metric] > 0:
                result[f"{prefix}{metric}_vs_real"] = model[metric] / real[metric]
            else:
                result[f"{prefix}{metric}_vs_real_note"] = "not defined: real photos score 0"
    if truth is not None:
        _paired_kid(result, outputs, trivial, truth, seed, features, prefix)
        return result
    reference, real_sample = unpaired_kid_sets(test_target, train_target, seed)
    ref = features(reference)
    model_kid = kid(features(outputs), ref)
    answers_kid = {n: kid(features(np.asarray(images)), ref) for n, images in trivial.items()}
    baselines.compare(result, "kid", model_kid, answers_kid, False, prefix)
    result[f"{prefix}real_kid"] = kid(features(real_sample), ref)
    return result


# Half-splits of the test scenes that paired KID averages over (a single split's KID moves by
# about 0.1-0.3 between splits on 100 scenes).
KID_SPLITS = 10


def half_splits(count: int, splits: int, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """``splits`` seeded random (scored rows, reference rows) halves of ``count`` test scenes."""
    half = count // 2
    if half < 2:
        raise ValueError(f"KID needs at least 4 paired test images, got {count}")
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(splits):
        order = rng.permutation(count)
        out.append((np.sort(order[:half]), np.sort(order[half : 2 * half])))
    return out


def _paired_kid(
    result: dict,
    outputs: np.ndarray,
    trivial: Mapping[str, np.ndarray],
    truth: np.ndarray,
    seed: int,
    features: Callable[[np.ndarray], np.ndarray],
    prefix: str,
) -> None:
    """KID with true targets: answers and reference must not show the same scenes (a colour
    map of the very scenes of the reference would look closer than any new real photo). Over
    :data:`KID_SPLITS` random halves, the answers to one half of the test inputs are compared
    with the real targets of the other half, and the KIDs averaged; the ceiling is the true
    targets of the scored half (what a perfect model answers). ``kid_spread`` is the standard
    deviation of the model's KID over the splits."""
    splits = half_splits(len(truth), KID_SPLITS, seed)
    real = features(truth)

    def mean_kid(answers: np.ndarray) -> tuple[float, float]:
        scored = features(np.asarray(answers))
        values = [kid(scored[rows], real[reference]) for rows, reference in splits]
        return float(np.mean(values)), float(np.std(values))

    model_kid, spread = mean_kid(outputs)
    answers_kid = {n: mean_kid(images)[0] for n, images in trivial.items()}
    baselines.compare(result, "kid", model_kid, answers_kid, False, prefix)
    result[f"{prefix}kid_spread"] = spread
    result[f"{prefix}kid_splits"] = KID_SPLITS
    result[f"{prefix}real_kid"] = float(
        np.mean([kid(real[rows], real[reference]) for rows, reference in splits])
    )


def unpaired_kid_sets(
    test_target: np.ndarray, train_target: np.ndarray, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """(reference, real ceiling) for KID without true targets (unpaired test sets): every
    answer is compared with all real test targets, and the ceiling is as many real training
    images, drawn with ``seed``."""
    count = len(test_target)
    if len(train_target) > count:
        rng = np.random.default_rng(seed)
        train_target = train_target[np.sort(rng.choice(len(train_target), count, replace=False))]
    return test_target, train_target
