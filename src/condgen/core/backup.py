"""Backups that make an interrupted training end exactly as an uninterrupted one.

After every epoch the whole training state goes into one file, ``backup.npz``: every variable
of the model (networks, weight averages, image pools, random-stream states) and of both
optimizers (step count, moments, loss scale), and the epoch's history. It is written under a
temporary name, flushed to disk and renamed, so a kill at any moment leaves either the old
backup or the new one, never a torn one. With the training streams being functions of the
step (:mod:`condgen.core.stream`), the resumed run reads the same batches, draws the same
noise and applies the same updates as a run that was never stopped.

A backup is valid only for what made it: the identity (:func:`identity`) covers the params
section and seed, the training data's own hash and the family's code. ``state.json`` holds
it, with the MLflow run that the training logs into.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import signal
from pathlib import Path
from typing import Any

import keras
import numpy as np

import condgen
from condgen.core.files import file_digest, write_atomic

BACKUP = "backup.npz"
STATE = "state.json"
# Fault injection for the kill tests: "step:N" kills the process after the execution that
# reaches step N; "backup:E" kills it halfway through writing epoch E's backup.
FAULT_ENV = "CONDGEN_KILL_AT"


def code_version(*packages: str) -> str:
    """A hash of the Python sources of the named ``condgen`` subpackages (e.g. "core")."""
    root = Path(condgen.__file__).parent
    digest = hashlib.md5()
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            digest.update(str(path.relative_to(root)).encode() + b"\0")
            digest.update(path.read_bytes())
    return digest.hexdigest()


def identity(params: dict[str, Any], data_files: list[Path], code: str) -> dict[str, Any]:
    """What a backup is valid for: params (section, seed, data facts), data hashes, code."""
    return {
        "params": params,
        "data": {Path(f).name: file_digest(f) for f in data_files},
        "code": code,
    }


def describe_change(old: dict[str, Any], new: dict[str, Any]) -> str:
    """One line naming what differs between two identities."""
    if set(old) != set(new):
        return "it was written by another version of condgen"
    parts = []
    changed = sorted(
        k
        for k in set(old["params"]) | set(new["params"])
        if old["params"].get(k) != new["params"].get(k)
    )
    if changed:
        parts.append(f"params changed ({', '.join(changed)})")
    data = sorted(k for k in new["data"] if old["data"].get(k) != new["data"][k])
    if data:
        parts.append(f"the data changed ({', '.join(data)})")
    if old["code"] != new["code"]:
        parts.append("the code changed")
    return " and ".join(parts)


def open_state(checkpoint_dir: str | Path, ident: dict[str, Any], label: str) -> dict:
    """The resume state in ``checkpoint_dir`` if its backup was made for exactly ``ident``.

    Anything else starts afresh: the stale backup is removed and one line says why, so that a
    changed learning rate, new data or new code never continues an old run.
    """
    ckpt = Path(checkpoint_dir)
    state_file = ckpt / STATE
    state: dict = {}
    if state_file.is_file():
        try:
            state = json.loads(state_file.read_text())
        except json.JSONDecodeError:
            state = {"identity": None}
    if state and state.get("identity") != ident:
        old = state.get("identity")
        why = describe_change(old, ident) if isinstance(old, dict) else "its state is unreadable"
        print(f"{label}: not resuming the backup in {ckpt}: {why}; starting afresh", flush=True)
        state = {}
    if not state:
        shutil.rmtree(ckpt, ignore_errors=True)
        state = {"identity": ident}
    ckpt.mkdir(parents=True, exist_ok=True)
    return state


def save_state(checkpoint_dir: str | Path, state: dict) -> None:
    write_atomic(Path(checkpoint_dir) / STATE, json.dumps(state).encode())


def training_variables(model: keras.Model) -> list:
    """Every variable a resumed run needs: the model's and both optimizers', in build order."""
    seen: set[int] = set()
    out = []
    optimizers = [model.g_optimizer, model.d_optimizer]
    for opt in list(optimizers):
        inner = getattr(opt, "inner_optimizer", None)
        if inner is not None:
            optimizers.append(inner)
    for variable in [v for source in [model, *optimizers] for v in source.variables]:
        if id(variable) not in seen:
            seen.add(id(variable))
            out.append(variable)
    return out


def _shapes(variables: list) -> list[str]:
    # Shapes and dtypes, not names: Keras numbers layer names per process.
    return [f"{v.dtype}{list(v.shape)}" for v in variables]


def _fault() -> tuple[str, int] | None:
    spec = os.environ.get(FAULT_ENV, "")
    if not spec:
        return None
    kind, _, at = spec.partition(":")
    if kind not in ("step", "backup") or not at.isdigit():
        raise ValueError(f"{FAULT_ENV}={spec!r}: use step:N or backup:E")
    return kind, int(at)


class TrainingBackup(keras.callbacks.Callback):
    """Write the whole training state after every epoch; restore it before a resumed fit."""

    def __init__(self, checkpoint_dir: str | Path):
        super().__init__()
        self.path = Path(checkpoint_dir) / BACKUP
        self.history: list[dict[str, float]] = []
        self.fault = _fault()

    def restore(self, model: keras.Model) -> int:
        """Load the backup into ``model`` (compiled, optimizers built); the epochs it holds."""
        if not self.path.is_file():
            return 0
        with np.load(self.path, allow_pickle=False) as stored:
            meta = json.loads(str(stored["meta"]))
            variables = training_variables(model)
            if meta["shapes"] != _shapes(variables):
                raise RuntimeError(
                    f"{self.path} holds other variables than this model has; delete it to "
                    "start afresh"
                )
            for i, variable in enumerate(variables):
                variable.assign(stored[f"v{i}"])
        self.history = meta["history"]
        return int(meta["epoch"])

    def on_train_batch_end(self, batch, logs=None):
        # Only with fault injection: reading the step count waits for the running execution.
        if not self.fault or self.fault[0] != "step":
            return
        if int(self.model.g_optimizer.iterations.numpy()) >= self.fault[1]:
            os.kill(os.getpid(), signal.SIGKILL)

    def on_epoch_end(self, epoch, logs=None):
        self.history.append({"epoch": epoch + 1, **{k: float(v) for k, v in (logs or {}).items()}})
        variables = training_variables(self.model)
        meta = {"epoch": epoch + 1, "history": self.history, "shapes": _shapes(variables)}
        buffer = io.BytesIO()
        np.savez(
            buffer,
            meta=np.array(json.dumps(meta)),
            **{f"v{i}": np.asarray(v.numpy()) for i, v in enumerate(variables)},
        )
        fault = self.fault == ("backup", epoch + 1)
        write_atomic(self.path, buffer.getvalue(), fault_at_half=fault)
