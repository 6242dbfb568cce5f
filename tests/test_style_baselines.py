"""Style transfer beside its trivial answers: colour transfer, scoring, the stage's metrics."""

from __future__ import annotations

import json

import numpy as np
import pytest

from condgen.core.backbones import FeatureExtractor
from condgen.core.baselines import beats_best_baseline
from condgen.style.baselines import (
    BASELINES,
    SCORED_TERMS,
    baseline_images,
    colour_transfer,
    compare_losses,
    score,
)
from condgen.style.model import StyleLoss


def _colour_stats(image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    pixels = np.asarray(image, np.float64).reshape(-1, 3)
    return pixels.mean(axis=0), np.cov(pixels, rowvar=False, bias=True)


def test_colour_transfer_gives_the_content_the_style_colour_mean_and_covariance():
    rng = np.random.default_rng(0)
    content = rng.uniform(0.45, 0.55, (6, 5, 3)).astype(np.float32)
    # A style whose channels vary together: green follows red, blue runs against it.
    red = rng.uniform(0.35, 0.65, (7, 4))
    noise = rng.uniform(-0.05, 0.05, (2, 7, 4))
    style = np.stack([red, 0.5 * red + 0.2 + noise[0], 0.9 - 0.6 * red + noise[1]], axis=-1)
    out = colour_transfer(content, style.astype(np.float32))
    assert out.shape == content.shape and out.dtype == np.float32
    assert out.min() > 0.0 and out.max() < 1.0  # nothing clipped: the statistics are exact
    mean, cov = _colour_stats(out)
    style_mean, style_cov = _colour_stats(style)
    np.testing.assert_allclose(mean, style_mean, atol=1e-5)
    np.testing.assert_allclose(np.sqrt(np.diag(cov)), np.sqrt(np.diag(style_cov)), rtol=1e-3)
    np.testing.assert_allclose(cov, style_cov, atol=1e-5)  # the correlations too
    # An image that already has the style's colours is left as it is.
    np.testing.assert_allclose(colour_transfer(style, style), style, atol=1e-5)


def test_colour_transfer_of_a_flat_image_is_the_style_mean_and_stays_in_range():
    style = np.random.default_rng(1).uniform(0, 1, (5, 5, 3)).astype(np.float32)
    flat = np.full((4, 4, 3), 0.3, np.float32)
    expected = np.broadcast_to(style.mean(axis=(0, 1)), flat.shape)
    np.testing.assert_allclose(colour_transfer(flat, style), expected, atol=1e-5)
    # A grey image with two outliers recoloured to a bright style: the outliers land far
    # outside 0..1 and are clipped.
    spiky = np.full((8, 8, 3), 0.5, np.float32)
    spiky[0, 0], spiky[7, 7] = 0.0, 1.0
    bright = np.random.default_rng(2).uniform(0.9, 1.0, (5, 5, 3)).astype(np.float32)
    out = colour_transfer(spiky, bright)
    assert out.min() >= 0.0 and out.max() == 1.0


@pytest.fixture(scope="module")
def small_objective():
    rng = np.random.default_rng(4)
    content = rng.integers(0, 256, (24, 32, 3)).astype(np.float32) / 255.0
    style = rng.integers(0, 256, (32, 32, 3)).astype(np.float32) / 255.0
    style[:, ::4] = [1.0, 0.3, 0.0]
    layers = {"block1_conv1": 0.5, "block2_conv1": 0.5}
    extractor = FeatureExtractor("vgg16-hed", [*layers, "block2_conv2"])
    objective = StyleLoss(extractor, content, style, "block2_conv2", layers, 1.0, 1.0, 1.0)
    return objective, content, style


def test_the_content_image_scores_no_content_loss_and_the_same_total_as_the_objective(
    small_objective,
):
    objective, content, style = small_objective
    images = baseline_images(content, style)
    assert list(images) == list(BASELINES)
    assert all(image.shape == content.shape for image in images.values())
    scores = {name: score(objective, image) for name, image in images.items()}
    assert scores["content_image"]["content"] == 0.0
    assert all(s["content"] > 0.0 for name, s in scores.items() if name != "content_image")
    # The baselines are scored by the objective itself, weights and TV term included.
    direct = objective(content[None])
    assert scores["content_image"]["total"] == pytest.approx(float(direct["total"]), rel=1e-6)
    assert scores["content_image"]["style"] == pytest.approx(float(direct["style"]), rel=1e-6)
    # Recolouring with the style's statistics lowers the style loss of the content image.
    assert scores["colour_transfer"]["style"] < scores["content_image"]["style"]


def test_a_result_worse_than_a_baseline_shows_a_ratio_above_one():
    baselines = {
        "content_image": {"total": 50.0, "content": 0.0, "style": 50.0},
        "colour_transfer": {"total": 20.0, "content": 2.0, "style": 18.0},
    }
    result = compare_losses({}, {"total": 30.0, "content": 3.0, "style": 27.0}, baselines)
    assert result["best_baseline_name_total"] == "colour_transfer"
    assert result["total_vs_best_baseline"] == pytest.approx(1.5)
    assert result["style_vs_best_baseline"] == pytest.approx(1.5)
    assert result["content_vs_best_baseline_note"] == "not defined: content_image scores 0"
    assert beats_best_baseline(result, "total", greater_is_better=False)[0] is False


def test_a_short_real_run_beats_the_content_image_and_records_every_baseline(tmp_path):
    from condgen.style.config import StyleConfig, StylePair
    from condgen.style.transfer import run

    config = StyleConfig(
        image_size=32,
        steps=20,
        pairs=[StylePair("cat", "skimage:chelsea", "skimage:immunohistochemistry")],
    )
    metrics = run(config, 0, tmp_path, log_to_mlflow=False)
    assert json.loads((tmp_path / "metrics.json").read_text()) == metrics
    cat = metrics["cat"]
    for term in SCORED_TERMS:
        values = [cat[f"baseline_{name}_{term}"] for name in BASELINES]
        assert cat[f"best_baseline_{term}"] == min(values)
        assert cat[f"best_baseline_name_{term}"] in BASELINES
        if cat[f"best_baseline_{term}"] > 0:
            assert cat[f"{term}_vs_best_baseline"] == cat[term] / cat[f"best_baseline_{term}"]
    assert cat["baseline_content_image_content"] == 0.0
    assert "content_vs_best_baseline" not in cat and "content_vs_best_baseline_note" in cat
    # The saved result is scored, close to the optimiser's last (unrounded) loss.
    assert cat["total"] == pytest.approx(cat["last_total"], rel=0.05)
    assert cat["baseline_content_image_total"] == pytest.approx(cat["first_total"], rel=1e-5)
    assert cat["total"] < cat["baseline_content_image_total"]
