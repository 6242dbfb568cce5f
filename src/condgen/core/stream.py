"""Seeded, endless, resumable streams of training items.

Every training stream is a pure function of the draw number: draw ``c`` of a set of ``n``
items belongs to pass ``c // n``, which visits every item once in the order of a stateless
permutation seeded by (seed, pass), and its random augmentation is keyed by (seed, c) too.
Nothing lives in an iterator's state, so a run resumed at step ``s`` builds the stream from
draw ``s * batch`` and reads exactly what an uninterrupted run reads from there on.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import tensorflow as tf


def stream_seed(seed: int, *purpose: int) -> int:
    """An op seed for one random purpose of ``seed``, independent of every other purpose's."""
    return int(np.random.SeedSequence([int(seed), *purpose]).generate_state(1)[0] >> 1)


def _shuffle(n: tf.Tensor, order: tf.Tensor):
    """draw numbers -> item indices: pass ``c // n`` is a stateless permutation of the items."""
    import tensorflow as tf

    def indices(c: tf.Tensor) -> tf.Tensor:
        # A batch spans at most two passes (batch <= items): draw each with its pass's order.
        passes = c // n
        first = tf.reduce_min(passes)
        in_first = tf.random.experimental.index_shuffle(
            c % n, seed=tf.stack([order, first]), max_index=n - 1
        )
        in_next = tf.random.experimental.index_shuffle(
            c % n, seed=tf.stack([order, first + 1]), max_index=n - 1
        )
        return tf.where(passes == first, in_first, in_next)

    return indices


def batch_draws(num_items: int, seed: int, batch_size: int, start_step: int = 0):
    """Endless ``(draw numbers, item indices)`` int64 vectors of ``batch_size``, one per step
    from ``start_step`` on: draw ``c`` is ``c // num_items``'s pass, item order seeded."""
    import tensorflow as tf

    if num_items < 1:
        raise ValueError("a training stream needs at least one item")
    if not 1 <= batch_size <= num_items:
        raise ValueError(f"batch_size ({batch_size}) is larger than the {num_items} items")
    n = tf.constant(num_items, tf.int64)
    indices = _shuffle(n, tf.constant(stream_seed(seed, 0), tf.int64))
    size = tf.constant(batch_size, tf.int64)

    def step(s: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        c = s * size + tf.range(size, dtype=tf.int64)
        return c, indices(c)

    return tf.data.Dataset.counter(start_step, dtype=tf.int64).map(step)


def item_draws(num_items: int, seed: int, start: int = 0) -> tf.data.Dataset:
    """Endless ``(draw number, item index)`` int64 scalars from draw ``start`` on."""
    import tensorflow as tf

    if num_items < 1:
        raise ValueError("a training stream needs at least one item")
    n = tf.constant(num_items, tf.int64)
    indices = _shuffle(n, tf.constant(stream_seed(seed, 0), tf.int64))
    return tf.data.Dataset.counter(start, dtype=tf.int64).map(lambda c: (c, indices(c[None])[0]))


def draw_key(seed: int, purpose: int, draw: tf.Tensor) -> tf.Tensor:
    """The stateless op seed (shape [2]) of one draw's random ``purpose`` (crop, mirror, ...)."""
    import tensorflow as tf

    return tf.stack([tf.constant(stream_seed(seed, 1, purpose), tf.int64), draw])


def batched_items(
    arrays: tuple[np.ndarray, ...],
    seed: int,
    batch_size: int,
    start_step: int = 0,
    transform=None,
    *,
    per_item: bool = False,
) -> tf.data.Dataset:
    """Endless batches of the rows of ``arrays`` (aligned, e.g. images and labels), drawn by
    :func:`batch_draws` from step ``start_step`` on.

    ``transform(draws, *rows)`` maps a batch's rows (uint8 as stored) to what the model sees;
    with ``per_item`` it is called per row instead (for per-image random ops, keyed by
    :func:`draw_key`). Batches are full-sized and prefetched; the order is deterministic.
    """
    import tensorflow as tf

    lengths = {len(a) for a in arrays}
    if len(lengths) != 1:
        raise ValueError(f"the arrays of one stream differ in length: {sorted(lengths)}")
    stored = tuple(tf.constant(a) for a in arrays)

    def rows(c: tf.Tensor, index: tf.Tensor):
        picked = tuple(tf.gather(a, index) for a in stored)
        out = transform(c, *picked) if transform is not None else picked
        return out[0] if isinstance(out, tuple) and len(out) == 1 else out

    ds = batch_draws(lengths.pop(), seed, batch_size, start_step)
    if per_item:
        ds = ds.unbatch().map(rows, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
        ds = ds.batch(batch_size, drop_remainder=True)
    else:
        ds = ds.map(rows)
    return ds.prefetch(tf.data.AUTOTUNE)
