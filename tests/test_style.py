"""Neural style transfer: Gram matrix, loss terms, the offline VGG16-HED backbone, optimisation."""

from __future__ import annotations

import numpy as np
import pytest

from condgen.models.style import (
    FeatureExtractor,
    StyleError,
    StyleLoss,
    content_loss,
    gram_matrix,
    hed_weights_path,
    layer_names,
    read_hed_vgg16,
    style_loss,
    stylize,
    total_variation_loss,
)


def test_gram_matrix_against_a_hand_computed_one():
    # 2x2 positions, 2 channels: F rows are positions [1, 0], [2, 1], [0, 3], [1, 1].
    features = np.array([[[[1, 0], [2, 1]], [[0, 3], [1, 1]]]], np.float32)
    # F^T F = [[1+4+0+1, 0+2+0+1], [0+2+0+1, 0+1+9+1]] = [[6, 3], [3, 11]]; / 4 positions.
    expected = np.array([[[1.5, 0.75], [0.75, 2.75]]], np.float32)
    np.testing.assert_allclose(np.asarray(gram_matrix(features)), expected)


def test_loss_terms_on_tiny_tensors():
    a = np.zeros((1, 2, 2, 1), np.float32)
    b = np.array([[[[1], [2]], [[3], [4]]]], np.float32)
    assert float(content_loss(a, b)) == pytest.approx((1 + 4 + 9 + 16) / 4)
    g1, g2 = np.eye(2, dtype=np.float32)[None], np.zeros((1, 2, 2), np.float32)
    assert float(style_loss(g1, g2)) == pytest.approx(2 / 4)
    # Down: (3-1), (4-2) -> mean 4; across: (2-1), (4-3) -> mean 1.
    assert float(total_variation_loss(b)) == pytest.approx(4 + 1)
    assert float(total_variation_loss(np.ones((1, 3, 3, 3), np.float32))) == 0.0


def test_hed_backbone_loads_offline_with_the_expected_layer_shapes():
    names = ["block1_conv1", "block2_conv1", "block3_conv1", "block4_conv1", "block4_conv2"]
    names.append("block5_conv1")
    extractor = FeatureExtractor("vgg16-hed", names)
    features = extractor(np.random.default_rng(0).uniform(0, 1, (1, 64, 64, 3)))
    shapes = {n: tuple(features[n].shape) for n in names}
    assert shapes == {
        "block1_conv1": (1, 64, 64, 64),
        "block2_conv1": (1, 32, 32, 128),
        "block3_conv1": (1, 16, 16, 256),
        "block4_conv1": (1, 8, 8, 512),
        "block4_conv2": (1, 8, 8, 512),
        "block5_conv1": (1, 4, 4, 512),
    }
    # The weights are HED's, not random: the first kernel equals the file's.
    stored = read_hed_vgg16(hed_weights_path())
    np.testing.assert_array_equal(
        extractor.model.get_layer("block1_conv1").get_weights()[0], stored["block1_conv1"][0]
    )
    assert len(stored) == len(layer_names("vgg16-hed")) == 13
    assert not extractor.model.trainable_weights


def test_bad_choices_are_named(tmp_path):
    with pytest.raises(StyleError, match="'vgg11'.*vgg16-hed, vgg19"):
        layer_names("vgg11")
    with pytest.raises(StyleError, match="no layer 'block3_conv4'"):
        FeatureExtractor("vgg16-hed", ["block3_conv4"])
    with pytest.raises(StyleError, match="vgg16-hed"):
        FeatureExtractor("vgg19", ["block1_conv1"], weights=str(tmp_path / "missing.h5"))


@pytest.mark.parametrize("optimizer, steps", [("adam", 8), ("lbfgs", 4)])
def test_a_few_steps_on_32_px_lower_the_loss(optimizer, steps):
    rng = np.random.default_rng(1)
    content = rng.uniform(0.2, 0.8, (32, 32, 3)).astype(np.float32)
    stripes = np.zeros((32, 32, 3), np.float32)
    stripes[:, ::4] = [1.0, 0.3, 0.0]
    layers = {"block1_conv1": 0.5, "block2_conv1": 0.5}
    extractor = FeatureExtractor("vgg16-hed", [*layers, "block2_conv2"])
    objective = StyleLoss(extractor, content, stripes, "block2_conv2", layers, 1.0, 1.0, 1.0)
    seen = []
    image, history = stylize(
        objective, content, steps, optimizer, on_step=lambda i, losses: seen.append(i)
    )
    assert image.shape == content.shape and image.min() >= 0.0 and image.max() <= 1.0
    assert set(history[0]) == {"total", "content", "style", "tv"}
    assert history[0]["content"] == pytest.approx(0.0, abs=1e-6)  # it starts from the content
    assert history[-1]["total"] < 0.8 * history[0]["total"]
    assert len(history) <= steps + 1 and seen == list(range(len(history)))
    with pytest.raises(StyleError, match="adam or lbfgs"):
        stylize(objective, content, 1, "sgd")
