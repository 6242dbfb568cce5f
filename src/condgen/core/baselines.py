"""Trivial answers every model's scores stand beside, and how a report records them.

A number means something only next to what a model that learned nothing would score. For image
translation the trivial answers are scored by the same code as the model, on the same test
split:

- ``mean_target``: the mean training target, whatever the input (ignores the input);
- ``colour_map``: a per-pixel colour map fitted on the training data (input colour, and for
  paired data one global cue of the input, -> target colour); it keeps the input's edges;
- ``unchanged_input``: the input itself.

:func:`compare` writes, for one metric, every baseline's score, the best of them and the
model's ratio to it (``<metric>_vs_best_baseline``) into a report; :func:`beats_best_baseline`
is the rule the champion policy applies.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

BEST = "best_baseline"


def compare(
    result: dict,
    metric: str,
    model_value: float,
    baseline_values: Mapping[str, float],
    greater_is_better: bool,
    prefix: str = "",
) -> dict:
    """Record ``metric`` of the model and of each baseline in ``result`` (returned).

    Keys (with ``prefix``, e.g. ``a2b_``): ``<metric>``, ``baseline_<name>_<metric>``,
    ``best_baseline_<metric>`` (the best baseline's value), ``best_baseline_name_<metric>`` and
    ``<metric>_vs_best_baseline`` (model / best; below 1 is better for a lower-is-better metric,
    above 1 for a higher-is-better one). A ratio over a best baseline of 0 is not defined and
    is left out, with a note saying why.
    """
    if not baseline_values:
        raise ValueError(f"no baselines to compare {prefix}{metric} with")
    key = f"{prefix}{metric}"
    result[key] = float(model_value)
    for name, value in baseline_values.items():
        result[f"{prefix}baseline_{name}_{metric}"] = float(value)
    pick = max if greater_is_better else min
    best_name = pick(baseline_values, key=lambda n: baseline_values[n])
    best = float(baseline_values[best_name])
    result[f"{prefix}{BEST}_{metric}"] = best
    result[f"{prefix}{BEST}_name_{metric}"] = best_name
    if best > 0.0:
        result[f"{key}_vs_{BEST}"] = float(model_value) / best
    else:  # an unbiased KID can be 0 or below
        result[f"{key}_vs_{BEST}_note"] = f"not defined: {best_name} scores {best:g}"
    return result


def _best_keys(metrics: Mapping, metric: str) -> tuple[str, str] | None:
    """The keys of the best baseline's value and name beside ``metric``, which may carry a
    prefix (``a2b_kid`` -> ``a2b_best_baseline_kid``)."""
    for cut in [0] + [i + 1 for i, ch in enumerate(metric) if ch == "_"]:
        prefix, name = metric[:cut], metric[cut:]
        if f"{prefix}{BEST}_{name}" in metrics:
            return f"{prefix}{BEST}_{name}", f"{prefix}{BEST}_name_{name}"
    return None


def beats_best_baseline(
    metrics: Mapping, metric: str, greater_is_better: bool
) -> tuple[bool | None, str]:
    """(whether ``metric`` beats the best trivial answer recorded beside it, why).

    None when the report records no baseline for it: the caller decides (the champion policy
    refuses such a version).
    """
    keys = _best_keys(metrics, metric)
    best = metrics.get(keys[0]) if keys else None
    value = metrics.get(metric)
    if best is None or value is None:
        return None, f"the evaluation records no trivial answer beside {metric}"
    name = metrics.get(keys[1], "the best baseline")
    better = value > best if greater_is_better else value < best
    verb = "beats" if better else "does not beat"
    return better, f"{metric} {value:g} {verb} the trivial answer {name}'s {best:g}"


# --- image baselines -------------------------------------------------------------------------


def mean_image(targets: np.ndarray) -> np.ndarray:
    """The per-pixel mean of uint8 images (N, H, W, C), rounded to uint8 (H, W, C)."""
    return np.rint(np.asarray(targets, np.float64).mean(axis=0)).astype(np.uint8)


def _quantise(images: np.ndarray, levels: int) -> np.ndarray:
    """uint8 (..., 3) -> colour bin index (...) with ``levels`` levels per channel."""
    q = (np.asarray(images, np.int64) * levels) // 256
    return (q[..., 0] * levels + q[..., 1]) * levels + q[..., 2]


@dataclass(frozen=True)
class ColourLookup:
    """Input colour bin (and one global cue) -> mean target colour, fitted on training pairs.

    The cue is "the input contains colour bin ``cue_bin``" (for facade label maps: a shop
    front), chosen among the commonest bins as the one that lowers the training L1 most; -1
    when no cue helps. Unseen (bin, cue) keys fall back to the bin alone, then to the mean
    target colour.
    """

    levels: int
    cue_bin: int
    table: np.ndarray  # (bins * 2, 3) float: mean target colour per (bin, cue); NaN = unseen
    by_bin: np.ndarray  # (bins, 3): mean target colour per bin; NaN = unseen
    overall: np.ndarray  # (3,)

    def predict(self, inputs: np.ndarray) -> np.ndarray:
        bins = _quantise(inputs, self.levels)
        cue = _cue(bins, self.cue_bin)
        out = self.table[bins * 2 + cue[:, None, None]]
        missing = np.isnan(out[..., 0])
        out[missing] = self.by_bin[bins[missing]]
        missing = np.isnan(out[..., 0])
        out[missing] = self.overall
        return np.clip(np.rint(out), 0, 255).astype(np.uint8)


def _cue(bins: np.ndarray, cue_bin: int) -> np.ndarray:
    if cue_bin < 0:
        return np.zeros(len(bins), np.int64)
    return (bins == cue_bin).any(axis=(1, 2)).astype(np.int64)


def _group_means(keys: np.ndarray, targets: np.ndarray, size: int) -> np.ndarray:
    counts = np.bincount(keys, minlength=size).astype(np.float64)
    sums = np.stack(
        [np.bincount(keys, weights=targets[:, c], minlength=size) for c in range(3)], axis=1
    )
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(counts[:, None] > 0, sums / counts[:, None], np.nan)


def fit_colour_lookup(
    inputs: np.ndarray, targets: np.ndarray, levels: int = 8, candidates: int = 32
) -> ColourLookup:
    """Fit a :class:`ColourLookup` on uint8 pairs (N, H, W, 3) -> (N, H, W, 3)."""
    inputs, targets = np.asarray(inputs), np.asarray(targets)
    if inputs.shape != targets.shape or inputs.ndim != 4 or inputs.shape[-1] != 3:
        raise ValueError(f"expected RGB pairs of one shape, got {inputs.shape}, {targets.shape}")
    bins = _quantise(inputs, levels)
    size = levels**3
    flat_bins = bins.reshape(-1)
    flat_targets = targets.reshape(-1, 3).astype(np.float64)
    by_bin = _group_means(flat_bins, flat_targets, size)
    overall = flat_targets.mean(axis=0)

    def train_l1(cue_bin: int) -> tuple[float, np.ndarray]:
        cue = np.repeat(_cue(bins, cue_bin), bins.shape[1] * bins.shape[2])
        keys = flat_bins * 2 + cue
        table = _group_means(keys, flat_targets, size * 2)
        return float(np.abs(table[keys] - flat_targets).mean()), table

    # Candidate cues: bins present in some but not all training inputs, commonest first.
    present = np.stack([np.bincount(b.reshape(-1), minlength=size) > 0 for b in bins])
    share = present.mean(axis=0)
    order = np.argsort(-share, kind="stable")
    options = [int(b) for b in order if 0 < share[b] < 1][:candidates]
    best_l1, best_table = train_l1(-1)
    cue_bin = -1
    for option in options:
        l1, table = train_l1(option)
        if l1 < best_l1 - 1e-9:
            best_l1, best_table, cue_bin = l1, table, option
    return ColourLookup(levels, cue_bin, best_table, by_bin, overall)


@dataclass(frozen=True)
class ChannelMap:
    """Per-channel histogram matching: each channel of the source domain mapped through its
    quantiles onto the target domain's (a monotone colour-statistics transfer)."""

    source_points: tuple[np.ndarray, np.ndarray, np.ndarray]  # increasing source values
    target_points: tuple[np.ndarray, np.ndarray, np.ndarray]  # what each one maps to

    def predict(self, images: np.ndarray) -> np.ndarray:
        images = np.asarray(images, np.float64)
        out = np.empty_like(images)
        for c in range(3):
            out[..., c] = np.interp(images[..., c], self.source_points[c], self.target_points[c])
        return np.clip(np.rint(out), 0, 255).astype(np.uint8)


def fit_channel_map(source: np.ndarray, target: np.ndarray, points: int = 257) -> ChannelMap:
    """Fit a :class:`ChannelMap` from uint8 images of one domain (N, H, W, 3) to another's.

    Many pixels of one value (black, saturated or flat areas) share several source quantiles;
    such a value maps to the mean of the target quantiles it spans, not the lowest.
    """
    q = np.linspace(0, 1, points)
    src = np.quantile(np.asarray(source).reshape(-1, 3), q, axis=0)
    tgt = np.quantile(np.asarray(target).reshape(-1, 3), q, axis=0)
    sources, targets = [], []
    for c in range(3):
        values, where = np.unique(src[:, c], return_inverse=True)
        sums = np.bincount(where, weights=tgt[:, c])
        sources.append(values)
        targets.append(sums / np.bincount(where))
    return ChannelMap(tuple(sources), tuple(targets))  # type: ignore[arg-type]
