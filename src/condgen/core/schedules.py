"""Learning-rate schedules shared by the model families."""

from __future__ import annotations

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="condgen")
class LinearDecay(keras.optimizers.schedules.LearningRateSchedule):
    """Constant ``initial`` until ``decay_start`` steps, then linearly down to 0 at ``total``.

    CycleGAN's schedule (constant for the first half, then linear decay); annealing the rates
    at the end also sharpens MNIST samples. The step is the optimizer's own counter, so the
    schedule resumes with the optimizer from a backup.
    """

    def __init__(self, initial: float, total_steps: int, decay_start: int):
        self.initial = float(initial)
        self.total_steps = int(total_steps)
        self.decay_start = int(min(decay_start, total_steps))

    def __call__(self, step):
        step = ops.cast(step, "float32")
        span = float(max(self.total_steps - self.decay_start, 1))
        done = ops.clip((step - float(self.decay_start)) / span, 0.0, 1.0)
        return self.initial * (1.0 - done)

    def get_config(self):
        return {
            "initial": self.initial,
            "total_steps": self.total_steps,
            "decay_start": self.decay_start,
        }
