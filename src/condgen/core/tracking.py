"""MLflow conventions: where runs live, one experiment per model family, run tags."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import yaml

# MLflow would otherwise try DNS lookups for telemetry on every run and server start.
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
os.environ.setdefault("DO_NOT_TRACK", "true")

# What a lineage tag says when the fact cannot be had (no git, no dvc.lock entry).
UNKNOWN = "unknown"


def project_root() -> Path:
    """The project root: CONDGEN_ROOT, else the nearest folder upwards holding dvc.yaml."""
    if os.environ.get("CONDGEN_ROOT"):
        return Path(os.environ["CONDGEN_ROOT"]).resolve()
    here = Path.cwd().resolve()
    for folder in (here, *here.parents):
        if (folder / "dvc.yaml").is_file():
            return folder
    return here


# Where `dvc exp run --queue` and `--temp` run an experiment: a copy of the project inside it.
DVC_TEMP_WORKSPACES = (".dvc", "tmp", "exps")


def store_root() -> Path:
    """The folder of the project's own MLflow store (mlflow.db, mlartifacts/).

    The project root, except in a DVC temporary workspace (``<project>/.dvc/tmp/exps/...``):
    its runs and registered versions belong to the project it was copied from, not to a
    folder DVC deletes when the experiment ends."""
    root = project_root()
    parts = root.parts
    for i in range(len(parts) - len(DVC_TEMP_WORKSPACES) + 1):
        if parts[i : i + len(DVC_TEMP_WORKSPACES)] == DVC_TEMP_WORKSPACES:
            return Path(*parts[:i])
    return root


def tracking_uri() -> str:
    """MLFLOW_TRACKING_URI, else a SQLite database beside the project (:func:`store_root`)."""
    return os.environ.get("MLFLOW_TRACKING_URI") or f"sqlite:///{store_root() / 'mlflow.db'}"


def artifact_root() -> Path:
    return store_root() / "mlartifacts"


def experiment_name(model: str) -> str:
    return f"condgen-{model}"


def registered_name(model: str) -> str:
    return f"condgen-{model}"


# Experiment tags: the MLflow UI opens these experiments on its model-training views (runs
# table, charts, models) instead of its GenAI traces; the note is the experiment description.
EXPERIMENT_KIND = ("mlflow.experimentKind", "custom_model_development")
DESCRIPTION = "mlflow.note.content"
# A run's parent (the UI nests evaluation and registration runs under their training run).
PARENT = "mlflow.parentRunId"


def setup(model: str) -> str:
    """Point MLflow at the project's store and return the model family's experiment id.

    The experiment's artifact location is pinned beside the database: otherwise MLflow writes
    artifacts under whatever folder the process happens to run in. Its kind and description
    are (re)set on every call, so that stores from older versions get them too.
    """
    import mlflow

    from condgen import families

    uri = tracking_uri()
    mlflow.set_tracking_uri(uri)
    name = experiment_name(model)
    experiment = mlflow.get_experiment_by_name(name)
    if experiment is None:
        # A tracking server decides where artifacts go (its proxied store), so that every
        # client can read them; a local database keeps them beside itself.
        local = not uri.startswith(("http://", "https://"))
        location = (artifact_root() / name).as_uri() if local else None
        experiment_id = mlflow.create_experiment(name, artifact_location=location)
        tags = {}
    else:
        experiment_id, tags = experiment.experiment_id, experiment.tags
    wanted = dict([EXPERIMENT_KIND])
    if families.description(model):
        wanted[DESCRIPTION] = families.description(model)
    client = mlflow.MlflowClient()
    for key, value in wanted.items():
        if tags.get(key) != value:
            client.set_experiment_tag(experiment_id, key, value)
    mlflow.set_experiment(experiment_id=experiment_id)
    return experiment_id


def git_commit() -> str:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
            cwd=project_root(),
        )
        return out.stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return UNKNOWN


# What the code of a run is: a commit only promises it if none of these differ from it.
CODE_PATHS = ("src", "dvc.yaml", "pyproject.toml", "requirements.lock")


def git_dirty() -> str:
    """ "true" if the code (``CODE_PATHS``) differs from the commit, "false", or UNKNOWN.

    ``params.yaml`` and DVC's outputs are left out: a run's params are logged with it, and
    ``dvc.lock`` and the metrics change while the pipeline runs.
    """
    try:
        out = subprocess.run(
            ["git", "status", "--porcelain", "--", *CODE_PATHS],
            capture_output=True,
            text=True,
            check=True,
            cwd=project_root(),
        )
    except (OSError, subprocess.CalledProcessError):
        return UNKNOWN
    return "true" if out.stdout.strip() else "false"


def data_hash(stage: str, out_path: str) -> str:
    """The md5 that dvc.lock records for ``out_path`` of ``stage`` (UNKNOWN if not locked)."""
    lock = project_root() / "dvc.lock"
    if not lock.is_file():
        return UNKNOWN
    data = yaml.safe_load(lock.read_text()) or {}
    for out in data.get("stages", {}).get(stage, {}).get("outs", []):
        if out.get("path", "").rstrip("/") == out_path.rstrip("/"):
            return str(out.get("md5", UNKNOWN))
    return UNKNOWN


def run_tags(data_stage: str, data_path: str) -> dict[str, str]:
    """The lineage every run carries: code commit, uncommitted code, DVC experiment, data md5."""
    return {
        "git_commit": git_commit(),
        "git_dirty": git_dirty(),
        "dvc_exp_name": os.environ.get("DVC_EXP_NAME", ""),
        "data_md5": data_hash(data_stage, data_path),
    }


def log_data_input(data_stage: str, data_path: str, context: str) -> None:
    """Log the prepared data as an MLflow dataset input of the active run: its folder's name,
    the md5 that dvc.lock records for it (the UI's digest) and its path as the source."""
    import mlflow
    from mlflow.data.meta_dataset import MetaDataset
    from mlflow.data.sources import LocalArtifactDatasetSource

    md5 = data_hash(data_stage, data_path)
    source = LocalArtifactDatasetSource(str(project_root() / data_path))
    digest = None if md5 == UNKNOWN else md5.removesuffix(".dir")
    dataset = MetaDataset(source, name=Path(data_path).name, digest=digest)
    mlflow.log_input(dataset, context=context)
