import numpy as np

from condgen.core.images import to_uint8
from condgen.mnist import data as mnist
from condgen.mnist.config import MnistDataConfig


def test_bundled_split_is_stratified_and_deterministic(tmp_path):
    a = mnist.prepare(MnistDataConfig(), 7, tmp_path / "a", tmp_path / "raw")
    b = mnist.prepare(MnistDataConfig(), 7, tmp_path / "b", tmp_path / "raw")
    assert a == b
    assert a["train"] + a["test"] == 5000
    assert a["test_per_class"] == [100] * 10
    xa, ya = mnist.load_split(tmp_path / "a" / "test.npz")
    xb, yb = mnist.load_split(tmp_path / "b" / "test.npz")
    np.testing.assert_array_equal(xa, xb)
    # A different seed gives a different split.
    mnist.prepare(MnistDataConfig(), 8, tmp_path / "c", tmp_path / "raw")
    xc, _ = mnist.load_split(tmp_path / "c" / "test.npz")
    assert not np.array_equal(xa, xc)


def test_train_and_test_are_disjoint(tiny_mnist):
    x_train, _ = mnist.load_split(tiny_mnist / "train.npz")
    x_test, _ = mnist.load_split(tiny_mnist / "test.npz")
    train_rows = {row.tobytes() for row in x_train}
    assert not any(row.tobytes() in train_rows for row in x_test)
    assert len(x_train) == 300


def test_model_range_round_trip():
    images = np.array([[[0, 255], [128, 1]]], np.uint8)
    scaled = mnist.to_model_range(images)
    assert scaled.shape == (1, 2, 2, 1) and scaled.min() == -1.0 and scaled.max() == 1.0
    np.testing.assert_array_equal(to_uint8(scaled), images)


def same_bytes(first, second) -> bool:
    names = sorted(p.name for p in first.iterdir())
    return names == sorted(p.name for p in second.iterdir()) and all(
        (first / n).read_bytes() == (second / n).read_bytes() for n in names
    )


def test_preparing_twice_writes_the_same_bytes(tmp_path):
    """DVC hashes the prepared folder: a re-run prepare stage (its family's code changed) must
    not give the same data a new hash, or every stage after it would run again."""
    import time

    config = MnistDataConfig(max_train_images=100)
    mnist.prepare(config, 0, tmp_path / "first", tmp_path / "raw")
    time.sleep(2.1)  # zip members carry a date with 2-second resolution
    mnist.prepare(config, 0, tmp_path / "second", tmp_path / "raw")
    assert same_bytes(tmp_path / "first", tmp_path / "second")
