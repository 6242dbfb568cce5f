"""The MNIST evaluation against held-out digits: floor, trivial answers, memorisation, intervals."""

import json

import numpy as np
import pandas as pd
import pytest

from condgen.core import metrics as m
from condgen.families import MODELS
from condgen.mnist import data as mnist
from condgen.mnist.config import EvaluateConfig, EvaluatorConfig
from condgen.mnist.evaluate import evaluate, held_out_scores
from condgen.mnist.evaluator import Evaluator, train_classifier
from condgen.mnist.networks import NETWORKS
from condgen.mnist.trivial import shifted, trivial_answers

NUM = 300  # samples per scored set: the tiny training split's size


@pytest.fixture(scope="module")
def evaluator(tiny_mnist, tmp_path_factory):
    """(evaluator trained briefly on the 300 tiny training digits, its test accuracy, its file)."""
    out = tmp_path_factory.mktemp("evaluator")
    metrics = train_classifier(EvaluatorConfig(epochs=5, batch_size=32), 0, tiny_mnist, out, 0)
    path = out / "evaluator.keras"
    return Evaluator(path), metrics["test_accuracy"], path


@pytest.fixture(scope="module")
def splits(tiny_mnist):
    """(train, test, unseen): unseen = real bundled digits in neither split, as (images, labels)."""
    train = mnist.load_split(tiny_mnist / "train.npz")
    test = mnist.load_split(tiny_mnist / "test.npz")
    images, labels = mnist.load_bundled()
    used = {row.tobytes() for row in np.concatenate([train[0], test[0]])}
    keep = np.array([row.tobytes() not in used for row in images])
    pick = np.random.default_rng(0).choice(np.flatnonzero(keep), NUM, replace=False)
    return train, test, (images[pick], labels[pick])


def scores_of(evaluator, splits, images, labels, conditional=True):
    train, test, _ = splits
    requested = labels if conditional else None
    return held_out_scores(evaluator[0], mnist.to_model_range(images), requested, train, test, 0)


def test_unseen_real_digits_score_about_the_floor_and_the_evaluator_accuracy(evaluator, splits):
    result = scores_of(evaluator, splits, *splits[2])
    assert result["num_samples"] == NUM and result["num_test"] == 1000
    assert result["fid_mnist_floor_num_real"] == NUM  # every training digit, once
    # Real digits the generator never saw, against the held-out digits: the floor's score.
    assert 0.6 * result["fid_mnist_floor"] < result["fid_mnist"] < 1.6 * result["fid_mnist_floor"]
    assert result["fid_mnist"] < 0.3 * result["best_baseline_fid_mnist"]
    assert result["label_accuracy"] == pytest.approx(evaluator[1], abs=0.08)
    low, high = result["label_accuracy_ci95_low"], result["label_accuracy_ci95_high"]
    assert low < result["label_accuracy"] < high and high - low < 0.15


def test_copied_training_digits_are_flagged_and_unseen_digits_are_not(evaluator, splits):
    train, _, unseen = splits
    copied = scores_of(evaluator, splits, *train)
    assert copied["memorisation_copy_share"] == 1.0
    assert copied["memorisation_nn_median_ratio"] < 0.01
    honest = scores_of(evaluator, splits, *unseen)
    assert honest["memorisation_copy_share"] < 0.05
    assert 0.8 < honest["memorisation_nn_median_ratio"] < 1.25
    # A copier scores about the floor: FID alone cannot tell it from a good generator.
    assert copied["fid_mnist"] == pytest.approx(copied["fid_mnist_floor"], rel=1e-6)


@pytest.mark.parametrize("conditional", [True, False])
def test_trivial_answers_are_recorded_beside_each_metric(evaluator, splits, conditional):
    images, labels = splits[2]
    result = scores_of(evaluator, splits, images, labels, conditional)
    metrics = ["fid_mnist", "classifier_score"] + (["label_accuracy"] if conditional else [])
    names = ("class_means", "class_means_shifted", "global_mean")
    for metric in metrics:
        values = {n: result[f"baseline_{n}_{metric}"] for n in names}
        pick = min if metric == "fid_mnist" else max
        assert result[f"best_baseline_{metric}"] == pick(values.values())
        assert result[f"best_baseline_name_{metric}"] == pick(values, key=values.get)
        assert result[f"{metric}_vs_best_baseline"] == pytest.approx(
            result[metric] / result[f"best_baseline_{metric}"]
        )
    assert ("baseline_class_means_label_accuracy" in result) == conditional
    # One image for every sample: one class, so neither varied nor right more than 1 time in 10.
    assert result["baseline_global_mean_classifier_score"] == pytest.approx(1.0)
    if conditional:
        shares = [np.mean(labels == c) for c in range(10)]
        assert result["baseline_global_mean_label_accuracy"] in shares


def test_class_means_follow_requested_labels_or_training_frequencies(splits):
    (x_train, y_train), _, _ = splits
    rng = np.random.default_rng(0)
    requested = np.arange(20) % 10
    answers = trivial_answers(x_train, y_train, 20, requested, rng)
    means = mnist.to_model_range(
        np.stack([x_train[y_train == c].astype(np.float64).mean(axis=0) for c in range(10)])
    )
    np.testing.assert_allclose(answers["class_means"], means[requested], atol=1e-6)
    assert answers["global_mean"].shape == (20, 28, 28, 1)
    assert np.ptp(answers["global_mean"], axis=0).max() == 0.0
    # Unconditional: classes drawn at the training frequencies (the tiny split: 30 each).
    drawn = trivial_answers(x_train, y_train, 5000, None, rng)["class_means"]
    classes = np.abs(drawn[:, None] - means[None]).sum(axis=(2, 3, 4)).argmin(axis=1)
    assert np.abs(np.bincount(classes, minlength=10) / 5000 - 0.1).max() < 0.02


def test_shifted_moves_whole_pixels_and_fills_with_zero():
    image = np.arange(16).reshape(1, 4, 4)
    moved = shifted(np.repeat(image, 3, axis=0), np.array([[1, -2], [0, 0], [-1, 1]]))
    np.testing.assert_array_equal(moved[0, 1:, :2], image[0, :3, 2:])
    assert moved[0, 0].sum() == 0 and moved[0, :, 2:].sum() == 0
    np.testing.assert_array_equal(moved[1], image[0])
    np.testing.assert_array_equal(moved[2, :3, 1:], image[0, 1:, :3])


def save_untrained_generator(model_name: str, folder) -> None:
    build_generator, _ = NETWORKS[MODELS[model_name].networks]
    folder.mkdir(parents=True)
    build_generator(16).save(folder / "generator.keras")
    pd.DataFrame({"epoch": [1, 2], "g_loss": [1.0, 0.9], "d_loss": [0.7, 0.6]}).to_csv(
        folder / "history.csv", index=False
    )


@pytest.mark.parametrize("model_name", ["gan", "cgan"])
def test_evaluate_writes_readable_flat_metrics(model_name, evaluator, tiny_mnist, tmp_path):
    save_untrained_generator(model_name, tmp_path / "model")
    result = evaluate(
        MODELS[model_name],
        EvaluateConfig(num_samples=100),
        tmp_path / "model",
        tiny_mnist,
        evaluator[2],
        tmp_path / "report",
    )
    written = json.loads((tmp_path / "report" / "metrics.json").read_text())
    assert written == result
    flat = m.flat_metrics(written)
    for key in (
        "fid_mnist",
        "fid_mnist_floor",
        "best_baseline_fid_mnist",
        "best_baseline_classifier_score",
        "memorisation_copy_share",
        "memorisation_nn_median_ratio",
    ):
        assert np.isfinite(flat[key])
    assert written["fid_mnist_floor_num_real"] == 100 and written["num_test"] == 1000
    conditional = MODELS[model_name].conditional
    assert ("label_accuracy_ci95_low" in flat) == conditional
    assert ("best_baseline_label_accuracy" in flat) == conditional


def test_a_constant_digit_generator_is_not_eligible_and_real_digits_are(
    evaluator, splits, tiny_mnist, tmp_path
):
    """The champion rule's input: a generator that ignores its noise and always draws the mean
    training digit does not beat the best trivial answer on FID; unseen real digits do."""
    import keras

    from condgen.core.baselines import beats_best_baseline

    train, _, unseen = splits
    mean_digit = mnist.to_model_range(train[0]).mean(axis=0)
    noise = keras.Input((16,))
    dense = keras.layers.Dense(28 * 28)
    image = keras.layers.Reshape((28, 28, 1))(dense(noise))
    dense.set_weights([np.zeros((16, 28 * 28), np.float32), mean_digit.reshape(-1)])
    (tmp_path / "model").mkdir()
    keras.Model(noise, image).save(tmp_path / "model" / "generator.keras")
    pd.DataFrame({"epoch": [1], "g_loss": [1.0], "d_loss": [0.7]}).to_csv(
        tmp_path / "model" / "history.csv", index=False
    )
    result = evaluate(
        MODELS["gan"],
        EvaluateConfig(num_samples=100),
        tmp_path / "model",
        tiny_mnist,
        evaluator[2],
        tmp_path / "report",
    )
    eligible, why = beats_best_baseline(result, "fid_mnist", False)
    assert eligible is False and "does not beat the trivial answer" in why
    real = scores_of(evaluator, splits, *unseen, conditional=False)
    assert beats_best_baseline(real, "fid_mnist", False)[0] is True
