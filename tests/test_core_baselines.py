"""The trivial answers, KID and the segmentation score on tiny cases with known answers."""

import numpy as np
import pytest

from condgen.core import baselines
from condgen.core.metrics import kid
from condgen.core.segmentation import confusion, segmentation_scores


def test_mean_image_is_the_rounded_per_pixel_mean():
    images = np.array([[[[0, 10, 255]]], [[[1, 20, 255]]], [[[2, 31, 0]]]], np.uint8)
    np.testing.assert_array_equal(baselines.mean_image(images), [[[1, 20, 170]]])


def _scenes(count: int, rng: np.random.Generator):
    """Inputs of two label colours; a shop front (a third colour) in some of them turns the
    wall brick-red instead of cream: the target is a function of (colour, has shop)."""
    wall, window, shop = (0, 0, 255), (0, 85, 255), (170, 0, 0)
    inputs = np.zeros((count, 8, 8, 3), np.uint8)
    targets = np.zeros_like(inputs)
    for i in range(count):
        has_shop = i % 2 == 0
        inputs[i] = wall
        inputs[i, 2:4, rng.integers(0, 6)] = window
        if has_shop:
            inputs[i, 6:, :3] = shop
        is_wall = (inputs[i] == wall).all(axis=-1)
        targets[i][is_wall] = (150, 60, 40) if has_shop else (220, 200, 160)
        targets[i][(inputs[i] == window).all(axis=-1)] = (40, 50, 60)
        targets[i][(inputs[i] == shop).all(axis=-1)] = (90, 90, 90)
    return inputs, targets


def test_colour_lookup_finds_the_global_cue_and_reproduces_an_exact_map():
    inputs, targets = _scenes(10, np.random.default_rng(0))
    lookup = baselines.fit_colour_lookup(inputs, targets)
    shop_bin = int(baselines._quantise(np.array([170, 0, 0], np.uint8), lookup.levels))
    assert lookup.cue_bin == shop_bin
    test_inputs, test_targets = _scenes(6, np.random.default_rng(1))
    np.testing.assert_array_equal(lookup.predict(test_inputs), test_targets)
    # Without the cue the wall is one average colour: clearly worse.
    plain = baselines.ColourLookup(
        lookup.levels, -1, lookup.by_bin.repeat(2, axis=0), lookup.by_bin, lookup.overall
    )
    assert np.abs(plain.predict(test_inputs).astype(int) - test_targets).mean() > 10


def test_colour_lookup_falls_back_to_the_mean_colour_for_unseen_inputs():
    inputs, targets = _scenes(4, np.random.default_rng(0))
    lookup = baselines.fit_colour_lookup(inputs, targets)
    unseen = np.full((1, 2, 2, 3), 250, np.uint8)
    expected = np.rint(targets.reshape(-1, 3).mean(axis=0))
    np.testing.assert_array_equal(lookup.predict(unseen)[0, 0, 0], expected)


def test_channel_map_matches_each_channels_histogram():
    rng = np.random.default_rng(0)
    day = rng.integers(0, 256, (20, 16, 16, 3)).astype(np.uint8)
    night = (day.astype(np.float64) * [0.3, 0.35, 0.5] + [0, 2, 10]).astype(np.uint8)
    mapping = baselines.fit_channel_map(day, night)
    other_day = rng.integers(0, 256, (5, 16, 16, 3)).astype(np.uint8)
    expected = (other_day.astype(np.float64) * [0.3, 0.35, 0.5] + [0, 2, 10]).astype(np.uint8)
    assert np.abs(mapping.predict(other_day).astype(int) - expected).max() <= 2


def test_channel_map_sends_a_tied_value_to_the_middle_of_its_target_range():
    # Half the source pixels are 0, half 200; the target is spread evenly over 0..99.
    source = np.zeros((2, 1, 100, 3), np.uint8)
    source[1] = 200
    target = np.broadcast_to(np.arange(100, dtype=np.uint8)[None, None, :, None], (2, 1, 100, 3))
    mapping = baselines.fit_channel_map(source, target)
    answer = mapping.predict(np.array([[[[0, 0, 0], [200, 200, 200]]]], np.uint8))
    assert abs(int(answer[0, 0, 0, 0]) - 25) <= 2 and abs(int(answer[0, 0, 1, 0]) - 74) <= 2


def test_compare_records_every_baseline_the_best_and_the_ratio():
    result = baselines.compare({}, "l1", 0.1, {"mean_target": 0.2, "colour_map": 0.125}, False)
    assert result["baseline_mean_target_l1"] == 0.2
    assert result["best_baseline_l1"] == 0.125
    assert result["best_baseline_name_l1"] == "colour_map"
    assert result["l1_vs_best_baseline"] == pytest.approx(0.8)
    higher = baselines.compare({}, "iou", 0.5, {"a": 0.25, "b": 0.4}, True, "a2b_")
    assert higher["a2b_best_baseline_name_iou"] == "b"
    assert higher["a2b_iou_vs_best_baseline"] == pytest.approx(1.25)
    zero = baselines.compare({}, "l1", 0.1, {"unchanged_input": 0.0}, False)
    assert "l1_vs_best_baseline" not in zero and "scores 0" in zero["l1_vs_best_baseline_note"]
    with pytest.raises(ValueError, match="no baselines"):
        baselines.compare({}, "l1", 0.1, {}, False)


def test_beats_best_baseline_is_the_champion_rule():
    lower = baselines.compare({}, "kid", 0.3, {"mean_target": 0.2}, False)
    assert baselines.beats_best_baseline(lower, "kid", False)[0] is False
    assert baselines.beats_best_baseline(lower, "kid", True)[0] is True
    verdict, why = baselines.beats_best_baseline({"kid": 0.1}, "kid", False)
    assert verdict is None and "no trivial answer" in why
    # A direction's metrics carry their prefix: a2b_kid is judged against a2b_best_baseline_kid.
    both = baselines.compare({}, "kid", 0.2, {"colour_map": 0.5}, False, "a2b_")
    baselines.compare(both, "kid", 0.9, {"colour_map": 0.5}, False, "b2a_")
    verdict, why = baselines.beats_best_baseline(both, "a2b_kid", False)
    assert verdict is True and "colour_map's 0.5" in why
    assert baselines.beats_best_baseline(both, "b2a_kid", False)[0] is False
    # A ratio to a best baseline at or below 0 (an unbiased KID can be) is not given.
    negative = baselines.compare({}, "kid", 0.1, {"mean_target": -0.01}, False)
    assert "kid_vs_best_baseline" not in negative


def test_kid_matches_hand_computed_values():
    # d = 1, the reference [-1, 1] has a root mean square of 1: k(x, y) = (xy + 1)^3.
    reference = np.array([[-1.0], [1.0]])
    assert kid(reference, reference) == pytest.approx(-8.0)  # 0 + 0 - 2 * mean(8, 0, 0, 8)
    assert kid(np.array([[1.0], [1.0]]), reference) == pytest.approx(0.0)  # 8 + 0 - 2 * 4
    # Scaling the features changes nothing: both sets take the reference's scale.
    assert kid(np.array([[10.0], [10.0]]), 10 * reference) == pytest.approx(0.0)


def test_kid_is_near_zero_for_one_distribution_and_grows_with_a_shift():
    rng = np.random.default_rng(0)
    real = rng.normal(size=(300, 8))
    same = rng.normal(size=(300, 8))
    shifted = rng.normal(size=(300, 8)) + 0.5
    assert abs(kid(same, real)) < 0.05
    assert kid(shifted, real) > 10 * abs(kid(same, real))
    with pytest.raises(ValueError, match="all zero"):
        kid(same, np.zeros((5, 8)))


def test_segmentation_scores_on_a_known_confusion():
    truth = np.array([[[0, 0, 1, 1]]])
    predicted = np.array([[[0, 1, 1, 1]]])
    np.testing.assert_array_equal(confusion(predicted, truth, 3), [[1, 1, 0], [0, 2, 0], [0, 0, 0]])
    scores = segmentation_scores(predicted, truth, 3)
    # IoU class 0: 1 / 2, class 1: 2 / 3; class 2 is absent from the truth and not averaged.
    assert scores["mean_iou"] == pytest.approx((1 / 2 + 2 / 3) / 2)
    assert scores["pixel_accuracy"] == pytest.approx(3 / 4)


def test_kid_splits_keep_answers_and_reference_on_different_scenes():
    from condgen.core.evaluation import half_splits, unpaired_kid_sets

    splits = half_splits(11, 10, seed=0)
    assert len(splits) == 10
    for rows, reference in splits:
        assert len(rows) == len(reference) == 5
        assert not set(rows) & set(reference)  # never the same scenes
    assert len({tuple(rows) for rows, _ in splits}) > 1  # different halves
    assert [r.tolist() for r, _ in half_splits(11, 10, seed=0)] == [r.tolist() for r, _ in splits]
    with pytest.raises(ValueError, match="at least 4"):
        half_splits(3, 10, seed=0)
    truth = np.arange(4)[:, None] * np.ones((1, 3))
    train = np.arange(50)[:, None] * np.ones((1, 3))
    reference, real = unpaired_kid_sets(truth, train, 0)
    assert reference is truth and len(real) == 4 and set(real[:, 0]) <= set(train[:, 0])


def test_paired_kid_scores_real_photos_near_zero_and_a_constant_far():
    from condgen.core.evaluation import score_translation

    rng = np.random.default_rng(0)
    truth = rng.integers(0, 256, (40, 16, 16, 3)).astype(np.uint8)

    def features(images):
        return np.asarray(images, np.float64).reshape(len(images), -1)[:, :16] / 255.0

    constant = np.full_like(truth, 30)
    result = score_translation(
        {},
        truth,
        {"constant": constant},
        truth=truth,
        test_target=truth,
        train_target=truth,
        seed=0,
        features=features,
        segment=None,
    )
    assert result["kid_splits"] == 10 and result["kid_spread"] > 0
    # The true photos as answers score what the real ceiling scores (the same halves).
    assert result["kid"] == pytest.approx(result["real_kid"])
    assert abs(result["real_kid"]) < 0.2 * result["baseline_constant_kid"]
    assert result["kid_vs_best_baseline"] < 0.2
