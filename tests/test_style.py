"""Neural style transfer: Gram matrix, loss terms, the offline VGG16-HED backbone, optimisation."""

from __future__ import annotations

import numpy as np
import pytest

from condgen.core.backbones import FeatureExtractor, hed_weights_path, layer_names, read_hed_vgg16
from condgen.style.model import (
    StyleError,
    StyleLoss,
    content_loss,
    gram_matrix,
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


def test_stage_run_writes_images_sheet_losses_and_metrics(tmp_path):
    import json

    import pandas as pd
    from PIL import Image

    from condgen.style.config import StyleConfig, StylePair
    from condgen.style.transfer import run

    photo = tmp_path / "photo.png"
    Image.fromarray((np.random.default_rng(0).uniform(0, 255, (20, 30, 3))).astype(np.uint8)).save(
        photo
    )
    config = StyleConfig(
        image_size=32,
        steps=3,
        style_layers={"block1_conv1": 1.0},
        content_layer="block2_conv1",
        pairs=[StylePair("mine", str(photo), "skimage:coffee")],
    )
    metrics = run(config, 0, tmp_path / "out", log_to_mlflow=False)
    out = tmp_path / "out"
    with Image.open(out / "images" / "mine.png") as image:
        assert image.size == (32, 21)  # the content's aspect ratio, longer side 32
    losses = pd.read_csv(out / "losses" / "mine.csv")
    assert list(losses.columns) == ["step", "total", "content", "style", "tv"]
    assert losses["step"].tolist() == [0, 1, 2, 3]
    assert json.loads((out / "metrics.json").read_text()) == metrics
    assert metrics["mine"]["loss_ratio"] == pytest.approx(
        losses["total"].iloc[0] / losses["total"].iloc[-1]
    )
    assert (out / "sheet.png").stat().st_size > 0 and (out / "losses.png").stat().st_size > 0


def test_sheet_columns_line_up_when_the_pairs_differ_in_shape():
    from condgen.style.transfer import SHEET_COLUMNS, comparison_rows

    colours = [(1.0, 0, 0), (0, 1.0, 0), (0, 0, 1.0), (1.0, 1.0, 0)]
    wide = [np.full((10, 20, 3), c, np.float32) for c in colours]
    tall = [np.full((20, 10, 3), c, np.float32) for c in colours]
    tall[1] = np.full((10, 40, 3), colours[1], np.float32)  # a wide style beside a tall content
    sheet = np.asarray(comparison_rows([wide, tall]))
    assert len(SHEET_COLUMNS) == 4
    # Each column's cells start at the same x: sample one pixel inside each cell of both rows.
    pad, top = 6, 16
    # Row 1 at 10 px high: cells 20, 20, 20, 20 px wide; row 2 at 20 px: 10, 80, 10, 10.
    widths = [20, 80, 20, 20]
    left = pad
    for colour, width in zip(colours, widths, strict=True):
        for y in (top + 2, top + 10 + pad + 2):
            assert tuple(sheet[y, left + 2]) == tuple(round(255 * v) for v in colour)
        left += width + pad
    assert sheet.shape[1] == left
    with pytest.raises(ValueError, match="3 images for 4 headers"):
        comparison_rows([wide[:3]])


def test_unreadable_or_unknown_images_are_named(tmp_path):
    from condgen.style.transfer import load_image

    notes = tmp_path / "notes.jpg"
    notes.write_text("not an image")
    with pytest.raises(StyleError, match="notes.jpg is not an image"):
        load_image(str(notes))
    with pytest.raises(StyleError, match="no such file"):
        load_image(str(tmp_path / "missing.png"))
    with pytest.raises(StyleError, match="no sample 'lena'"):
        load_image("skimage:lena")
    assert load_image("skimage:camera", 40).shape == (40, 40, 3)  # grey -> RGB


def test_cli_stylize_writes_the_result_and_refuses_bad_files(tmp_path, capsys):
    from PIL import Image

    from condgen.cli import main

    out = tmp_path / "out.png"
    main(["stylize", "skimage:chelsea", "skimage:coffee", "-o", str(out), "--size", "32"])
    main(["stylize", "skimage:chelsea", "skimage:coffee", "-o", str(out), "--size", "24",
          "--steps", "2", "--optimizer", "lbfgs"])  # fmt: skip
    with Image.open(out) as image:
        assert image.size == (24, 16)
    assert "wrote" in capsys.readouterr().out
    (tmp_path / "notes.png").write_text("not an image")
    with pytest.raises(SystemExit) as stop:
        main(["stylize", str(tmp_path / "notes.png"), "skimage:coffee", "-o", str(out)])
    assert stop.value.code == 2 and "notes.png" in capsys.readouterr().err


def test_a_refused_pair_leaves_no_folders_behind(tmp_path):
    from condgen.style.config import StyleConfig, StylePair
    from condgen.style.transfer import run

    config = StyleConfig(
        image_size=32,
        steps=1,
        pairs=[StylePair("gone", str(tmp_path / "gone.png"), "skimage:coffee")],
    )
    with pytest.raises(StyleError, match="gone.png"):
        run(config, 0, tmp_path / "out", log_to_mlflow=False)
    assert not (tmp_path / "out").exists()
