"""Metrics: FID, classifier score, coverage, label accuracy (NumPy), L1/PSNR/SSIM, and the
shapes metrics take in metrics.json and MLflow."""

from __future__ import annotations

import numpy as np


def feature_statistics(features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and covariance of (N, D) features."""
    features = np.asarray(features, dtype=np.float64)
    return features.mean(axis=0), np.cov(features, rowvar=False)


def frechet_distance(
    mu1: np.ndarray, sigma1: np.ndarray, mu2: np.ndarray, sigma2: np.ndarray
) -> float:
    """||mu1 - mu2||^2 + Tr(S1 + S2 - 2 (S1 S2)^1/2) between two Gaussians (Heusel et al. 2017).

    Tr((S1 S2)^1/2) is computed as the sum of square roots of the eigenvalues of the symmetric
    matrix S1^1/2 S2 S1^1/2, which avoids the complex round-off of a general matrix square root.
    """
    vals, vecs = np.linalg.eigh(sigma1)
    sqrt_s1 = (vecs * np.sqrt(np.clip(vals, 0, None))) @ vecs.T
    middle = sqrt_s1 @ sigma2 @ sqrt_s1
    trace_sqrt = np.sqrt(np.clip(np.linalg.eigvalsh((middle + middle.T) / 2), 0, None)).sum()
    diff = mu1 - mu2
    value = diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2.0 * trace_sqrt
    return float(max(value, 0.0))


def fid(features_a: np.ndarray, features_b: np.ndarray) -> float:
    return frechet_distance(*feature_statistics(features_a), *feature_statistics(features_b))


def kid(features: np.ndarray, reference: np.ndarray) -> float:
    """Kernel Inception Distance (Bińkowski et al. 2018): the unbiased squared MMD between two
    feature sets with the cubic kernel k(x, y) = (x.y / d + 1)^3.

    Both sets are first divided by one number, the root mean square of the ``reference``
    features, so that x.y / d is about 1 whatever network made the features (InceptionV3's
    pool features, for which the kernel was chosen, are of that order); every score against
    one reference shares that scale. Unbiased: about 0 for two samples of one distribution
    (it can be slightly negative), and it needs no more samples than features, unlike FID.
    """
    x = np.asarray(features, np.float64)
    y = np.asarray(reference, np.float64)
    if x.ndim != 2 or y.ndim != 2 or x.shape[1] != y.shape[1]:
        raise ValueError(f"expected (N, D) and (M, D) features, got {x.shape} and {y.shape}")
    if len(x) < 2 or len(y) < 2:
        raise ValueError("KID needs at least 2 samples in each set")
    scale = np.sqrt(np.mean(y**2))
    if scale == 0.0:
        raise ValueError("the reference features are all zero: KID has no scale")
    x, y = x / scale, y / scale
    d = x.shape[1]

    def kernel(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return (a @ b.T / d + 1.0) ** 3

    kxx, kyy, kxy = kernel(x, x), kernel(y, y), kernel(x, y)
    n, m = len(x), len(y)
    within_x = (kxx.sum() - np.trace(kxx)) / (n * (n - 1))
    within_y = (kyy.sum() - np.trace(kyy)) / (m * (m - 1))
    return float(within_x + within_y - 2.0 * kxy.mean())


def classifier_score(probs: np.ndarray, eps: float = 1e-12) -> float:
    """exp(E_x KL(p(y|x) || p(y))): high when each sample is confident and classes are varied.

    The Inception Score's formula with the MNIST evaluator in place of InceptionV3; its maximum
    is the number of classes (10).
    """
    probs = np.asarray(probs, dtype=np.float64)
    marginal = probs.mean(axis=0, keepdims=True)
    kl = (probs * (np.log(probs + eps) - np.log(marginal + eps))).sum(axis=1)
    return float(np.exp(kl.mean()))


def class_coverage(probs: np.ndarray, min_share: float = 0.02) -> dict:
    """How many classes the samples cover and how evenly.

    ``classes_covered``: classes predicted for at least ``min_share`` of the samples (a
    collapsed generator covers few); ``class_histogram_tv``: total-variation distance between
    the predicted class histogram and the uniform one (0 = perfectly balanced).
    """
    predicted = np.asarray(probs).argmax(axis=1)
    num_classes = np.asarray(probs).shape[1]
    share = np.bincount(predicted, minlength=num_classes) / len(predicted)
    return {
        "classes_covered": int((share >= min_share).sum()),
        "class_histogram_tv": float(0.5 * np.abs(share - 1.0 / num_classes).sum()),
    }


def label_accuracy(probs: np.ndarray, requested: np.ndarray) -> tuple[float, dict[str, float]]:
    """Share of samples the evaluator classifies as their requested label, overall and per label."""
    predicted = np.asarray(probs).argmax(axis=1)
    requested = np.asarray(requested)
    per_label = {
        str(int(c)): float((predicted[requested == c] == c).mean()) for c in np.unique(requested)
    }
    return float((predicted == requested).mean()), per_label


def image_similarity(predicted: np.ndarray, target: np.ndarray) -> dict[str, np.ndarray]:
    """Per-image L1, PSNR (dB) and SSIM of float images in 0..1, shaped (N, H, W, C).

    L1 is the mean absolute pixel difference on the 0..1 scale; PSNR and SSIM use a peak of 1
    and TensorFlow's SSIM (11x11 Gaussian window, as in Wang et al. 2004).
    """
    import tensorflow as tf

    predicted = np.asarray(predicted, np.float32)
    target = np.asarray(target, np.float32)
    if predicted.shape != target.shape:
        raise ValueError(f"shapes differ: {predicted.shape} vs {target.shape}")
    l1 = np.abs(predicted - target).mean(axis=(1, 2, 3))
    psnr = tf.image.psnr(predicted, target, max_val=1.0).numpy()
    ssim = tf.image.ssim(predicted, target, max_val=1.0).numpy()
    return {"l1": l1, "psnr": psnr, "ssim": ssim}


def rounded(value):
    """Floats rounded to 6 decimals, inside mappings too (metrics.json stays readable)."""
    if isinstance(value, dict):
        return {k: rounded(v) for k, v in value.items()}
    if isinstance(value, float):
        return round(value, 6)
    return value


def flat_metrics(result: dict) -> dict[str, float]:
    """Nested metrics flattened for MLflow (per-label accuracy 3 -> ``label_accuracy_3``)."""
    flat: dict[str, float] = {}
    for key, value in result.items():
        if isinstance(value, dict):
            stem = key.removesuffix("_per_label")
            flat.update({f"{stem}_{k}": float(v) for k, v in value.items()})
        elif not isinstance(value, str):  # notes stay in metrics.json only
            flat[key] = float(value)
    return flat


def wilson_interval(successes: int, trials: int, z: float = 1.959964) -> tuple[float, float]:
    """Wilson score interval of a binomial proportion (95% for the default ``z``).

    Unlike the normal approximation it stays inside 0..1 and keeps a width at 0% or 100%
    accuracy, which small evaluations of good conditional generators reach.
    """
    if trials <= 0:
        raise ValueError(f"an interval needs at least one trial, got {trials}")
    if not 0 <= successes <= trials:
        raise ValueError(f"successes ({successes}) must lie in 0..{trials}")
    p = successes / trials
    z2 = z * z
    centre = (p + z2 / (2 * trials)) / (1 + z2 / trials)
    half = z / (1 + z2 / trials) * np.sqrt(p * (1 - p) / trials + z2 / (4 * trials * trials))
    return float(max(centre - half, 0.0)), float(min(centre + half, 1.0))


def nearest_distances(
    queries: np.ndarray, references: np.ndarray, max_elements: int = 2**22
) -> np.ndarray:
    """Euclidean distance from each query row to its nearest reference row.

    Inputs are (N, ...) arrays flattened per row; queries are taken in chunks of at most
    ``max_elements`` query-reference pairs, so that 60,000 references fit in memory.
    """
    q = np.asarray(queries, np.float64).reshape(len(queries), -1)
    r = np.asarray(references, np.float64).reshape(len(references), -1)
    if q.shape[1] != r.shape[1]:
        raise ValueError(f"queries have {q.shape[1]} values per row, references {r.shape[1]}")
    r_sq = (r * r).sum(axis=1)
    chunk = max(1, max_elements // max(len(r), 1))
    out = np.empty(len(q))
    for start in range(0, len(q), chunk):
        block = q[start : start + chunk]
        sq = (block * block).sum(axis=1)[:, None] + r_sq[None, :] - 2.0 * block @ r.T
        out[start : start + chunk] = np.sqrt(np.clip(sq.min(axis=1), 0.0, None))
    return out


def memorisation(
    sample_distances: np.ndarray, heldout_distances: np.ndarray, percentile: float = 1.0
) -> dict[str, float]:
    """How much closer samples lie to the training set than held-out real data does.

    Both arguments are nearest-training-neighbour distances (:func:`nearest_distances`).
    ``nn_median_ratio``: median sample distance / median held-out distance (about 1 for a
    generator as far from its training data as new real data is; near 0 for a copier).
    ``copy_share``: share of samples closer than the ``percentile``-th percentile of the
    held-out distances (about ``percentile`` / 100 for new real data; near 1 for a copier).
    """
    samples = np.asarray(sample_distances, np.float64)
    heldout = np.asarray(heldout_distances, np.float64)
    threshold = float(np.percentile(heldout, percentile))
    median = float(np.median(heldout))
    if median <= 0:
        raise ValueError("half the held-out data also lies in the training set: no reference")
    return {
        "nn_median": float(np.median(samples)),
        "heldout_nn_median": median,
        "nn_median_ratio": float(np.median(samples)) / median,
        "copy_threshold": threshold,
        "copy_share": float((samples < threshold).mean()),
    }
