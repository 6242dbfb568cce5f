"""Training streams as functions of the step: every item once per pass, exact resume."""

import numpy as np
import pytest

from condgen.core import stream


def draws(num_items, seed, start, count):
    out = list(stream.item_draws(num_items, seed, start).take(count).as_numpy_iterator())
    return [int(c) for c, _ in out], [int(i) for _, i in out]


def test_every_item_once_per_pass_and_every_pass_reshuffled():
    counters, order = draws(7, 3, 0, 7 * 4)
    assert counters == list(range(28))
    passes = [order[k : k + 7] for k in range(0, 28, 7)]
    assert all(sorted(p) == list(range(7)) for p in passes)
    assert len({tuple(p) for p in passes}) == 4
    assert draws(7, 4, 0, 7)[1] != passes[0]  # another seed, another order


def test_a_stream_started_later_is_the_tail_of_the_whole_stream():
    _, whole = draws(5, 0, 0, 40)
    _, tail = draws(5, 0, 13, 27)
    assert tail == whole[13:]


def test_batched_draws_are_the_item_draws_grouped_across_passes():
    _, whole = draws(5, 2, 0, 30)
    batched = list(stream.batch_draws(5, 2, 3, start_step=2).take(8).as_numpy_iterator())
    counters = np.concatenate([c for c, _ in batched])
    assert counters.tolist() == list(range(6, 30))  # batches straddle passes: 6..8, 9..11
    assert np.concatenate([i for _, i in batched]).tolist() == whole[6:30]


def test_batches_resume_exactly_for_every_family():
    from condgen.cyclegan import data as unpaired
    from condgen.mnist import data as mnist
    from condgen.pix2pix import data as paired

    rng = np.random.default_rng(0)
    digits = rng.integers(0, 256, (23, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, 23).astype(np.uint8)
    a = rng.integers(0, 256, (9, 32, 32, 3), dtype=np.uint8)
    b = rng.integers(0, 256, (6, 32, 32, 3), dtype=np.uint8)
    makers = {
        "mnist": lambda s: mnist.make_dataset(digits, labels, 4, 1, conditional=True, start_step=s),
        "pix2pix": lambda s: paired.make_train_dataset(a, a, 2, 1, start_step=s),
        "cyclegan": lambda s: unpaired.make_train_dataset(a, b, 2, 1, start_step=s),
    }
    for name, make in makers.items():
        whole = list(make(0).take(12).as_numpy_iterator())
        resumed = list(make(7).take(5).as_numpy_iterator())
        for (x, y), (x2, y2) in zip(whole[7:], resumed, strict=True):
            np.testing.assert_array_equal(x, x2, err_msg=name)
            np.testing.assert_array_equal(y, y2, err_msg=name)
    # The labels travel with their digits.
    x, y = next(iter(mnist.make_dataset(digits, labels, 23, 0, conditional=True)))
    found = [
        int(np.argmax(np.all(np.abs(digits / 127.5 - 1 - xi[..., 0]) < 1e-6, axis=(1, 2))))
        for xi in x.numpy()
    ]
    np.testing.assert_array_equal(np.argmax(y.numpy(), axis=1), labels[found])


def test_streams_refuse_what_they_cannot_draw():
    with pytest.raises(ValueError, match="at least one item"):
        stream.item_draws(0, 0)
    with pytest.raises(ValueError, match=r"batch_size \(4\) is larger than the 3 items"):
        stream.batch_draws(3, 0, 4)
    with pytest.raises(ValueError, match="differ in length"):
        stream.batched_items((np.zeros((3, 2)), np.zeros((4,))), 0, 1)
