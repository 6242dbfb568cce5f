"""Process-wide TensorFlow settings: seeds, determinism, precision and device strategy."""

from __future__ import annotations

import contextlib
import importlib.abc
import importlib.util
import os
import random
import re
import sys
import tempfile
from pathlib import Path

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


def use_device(device: str, section: str) -> None:
    """Apply ``<section>.device`` before TensorFlow places anything: ``cpu`` hides the GPUs,
    ``gpu`` stops with what to do when TensorFlow sees none, ``auto`` leaves the choice to it."""
    import tensorflow as tf

    from condgen.core.params import ConfigError

    gpus = tf.config.list_physical_devices("GPU")
    if device == "gpu" and not gpus:
        raise ConfigError(
            f"{section}.device is gpu, but TensorFlow sees no GPU: it needs an NVIDIA driver "
            "(nvidia-smi shows it) and its CUDA libraries, which `make install GPU=1` installs "
            f"(tensorflow[and-cuda]); or set {section}.device to auto or cpu"
        )
    if device == "cpu" and gpus:
        tf.config.set_visible_devices([], "GPU")


def training_devices(strategy) -> list[str]:
    """The devices a training under ``strategy`` runs its steps on, e.g. ["GPU:0"]."""
    import tensorflow as tf

    try:
        names = list(strategy.extended.worker_devices)
    except RuntimeError:  # the default strategy: TensorFlow's first device, a GPU if any
        gpus = tf.config.list_logical_devices("GPU")
        names = [(gpus or tf.config.list_logical_devices("CPU"))[0].name]
    return [name.split("device:")[-1] for name in names]


def worker_role(strategy) -> tuple[bool, int, int]:
    """(is chief, worker index, workers) of this process under ``strategy``.

    Only a ``multi_worker`` cluster has more than one worker: its chief is the ``chief`` task
    when TF_CONFIG names one, else worker 0 (TensorFlow's own rule)."""
    resolver = getattr(strategy, "cluster_resolver", None)
    spec = resolver.cluster_spec().as_dict() if resolver is not None else {}
    workers = sum(len(spec.get(job, [])) for job in ("chief", "worker"))
    if workers < 2:
        return True, 0, 1
    index = int(resolver.task_id) + (
        len(spec.get("chief", [])) if resolver.task_type == "worker" else 0
    )
    return bool(strategy.extended.should_checkpoint), index, workers


def values_on_replicas(strategy, value: int) -> list[int]:
    """``value`` as each replica of ``strategy`` holds it (a collective: every worker calls it)."""
    import tensorflow as tf

    @tf.function
    def gather():
        return strategy.gather(strategy.run(lambda: tf.constant([value], tf.int64)), axis=0)

    return [int(v) for v in gather().numpy()]


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


# TensorFlow's start-up lines on a machine without a GPU: written by its C++ libraries straight
# to file descriptor 2 before its log settings apply (TF_CPP_MIN_LOG_LEVEL does not hide them).
_STARTUP_NOISE = re.compile(
    r"WARNING: All log messages before absl::InitializeLog\(\) is called"
    r"|^[IW]\d{4} \S+ +\d+ \S+\.cc:\d+\] "
    r"|^To enable the following instructions: .* rebuild TensorFlow"
)
# cuInit's failure says nothing on a machine without an NVIDIA driver; with one it is kept.
_NO_GPU_NOISE = re.compile(r"^E\d{4} .*failed call to cuInit")


def _startup_noise(line: str) -> bool:
    if _STARTUP_NOISE.search(line):
        return True
    return bool(_NO_GPU_NOISE.search(line)) and not Path("/proc/driver/nvidia/version").exists()


@contextlib.contextmanager
def _filtered_stderr():
    """Send file descriptor 2 to a file for the block, then replay all but the start-up noise."""
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile(mode="w+b") as capture:
        os.dup2(capture.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            capture.seek(0)
            kept = [
                line
                for line in capture.read().decode(errors="replace").splitlines(keepends=True)
                if not _startup_noise(line)
            ]
            sys.stderr.write("".join(kept))
            sys.stderr.flush()


class _QuietTensorFlowFinder(importlib.abc.MetaPathFinder):
    """Imports ``tensorflow`` (whoever asks first) with its start-up lines filtered out."""

    def find_spec(self, name, path=None, target=None):
        if name != "tensorflow":
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(name)
        if spec is None or spec.loader is None:
            return spec
        real_exec = spec.loader.exec_module

        def exec_module(module) -> None:
            with _filtered_stderr():
                real_exec(module)
                # The devices are initialised here (cuInit), not at import.
                module.config.list_physical_devices()

        spec.loader.exec_module = exec_module
        return spec


def quiet_tensorflow() -> None:
    """Keep TensorFlow's start-up chatter on a CPU machine (absl's pre-init warning, oneDNN and
    CPU-feature notices, "Could not find cuda drivers", cuInit's failure) out of the CLI's
    output and the stage logs, without importing TensorFlow before something needs it."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if "tensorflow" in sys.modules:
        return
    if not any(isinstance(f, _QuietTensorFlowFinder) for f in sys.meta_path):
        sys.meta_path.insert(0, _QuietTensorFlowFinder())
