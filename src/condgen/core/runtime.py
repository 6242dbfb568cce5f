"""Process-wide TensorFlow settings: seeds, determinism, precision and device strategy."""

from __future__ import annotations

import os
import random

import numpy as np


def set_seed(seed: int, deterministic: bool = True) -> None:
    """Seed Python, NumPy, TensorFlow and Keras, and make TensorFlow ops deterministic.

    Op determinism makes the same params and data give the same weights and metrics on a
    re-run; every tf.data shuffle and Keras random op must then carry a seed (they do here).
    """
    import keras
    import tensorflow as tf

    os.environ.setdefault("PYTHONHASHSEED", str(seed))
    random.seed(seed)
    np.random.seed(seed)
    keras.utils.set_random_seed(seed)
    if deterministic:
        tf.config.experimental.enable_op_determinism()


def set_mixed_precision(enabled: bool) -> None:
    """float16 compute with float32 variables (worth it on GPUs with tensor cores)."""
    import keras

    keras.mixed_precision.set_global_policy("mixed_float16" if enabled else "float32")


def make_strategy(name: str):
    """The tf.distribute strategy named in params (``none``, ``mirrored``, ``multi_worker``)."""
    import tensorflow as tf

    if name == "none":
        return tf.distribute.get_strategy()
    if name == "mirrored":
        gpus = tf.config.list_logical_devices("GPU")
        devices = [d.name for d in gpus] or [d.name for d in tf.config.list_logical_devices("CPU")]
        return tf.distribute.MirroredStrategy(devices=devices)
    if name == "multi_worker":
        return tf.distribute.MultiWorkerMirroredStrategy()
    raise ValueError(f"unknown distribute strategy {name!r}")


def quiet_tensorflow() -> None:
    """Keep TensorFlow's C++ start-up chatter out of the stage logs."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
