"""Side effects of training, kept out of train_step: MLflow logging and history."""

from __future__ import annotations

import keras


class MlflowEpochLogger(keras.callbacks.Callback):
    """Log every epoch's mean losses to the active MLflow run (step = epoch number)."""

    def on_epoch_end(self, epoch, logs=None):
        import mlflow

        if logs:
            mlflow.log_metrics({k: float(v) for k, v in logs.items()}, step=epoch + 1)
