"""Log a trained generator as an MLflow pyfunc model, register it, apply the champion policy.

Each family says how its models are logged and judged in a :class:`Registration`; the policy
(the ``champion`` alias moves only to a version that beats it) is the same for all.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import pandas as pd

from condgen.core import baselines, tracking
from condgen.core.files import write_text_atomic

CHAMPION = "champion"
PACKAGE_DIR = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Registration:
    """How one model family is logged, served and judged for the champion alias."""

    primary_metric: str
    greater_is_better: bool
    pyfunc_file: Path
    signature: Callable[[], object]
    input_example: Callable[[], pd.DataFrame]
    # model_dir -> what the served wrapper needs to know besides the weights.
    serving_meta: Callable[[Path], dict]
    # model_dir -> the files logged with the model, by artifact name.
    artifacts: Callable[[Path], dict[str, Path]] = lambda d: {"generator": d / "generator.keras"}

    @classmethod
    def of(cls, model, **recipe) -> Registration:
        """The recipe for the table row ``model``: its champion policy and ``recipe``."""
        return cls(model.primary_metric, model.greater_is_better, **recipe)

    def metric_of(self, metrics: dict) -> str:
        """The metric this evaluation is judged on; an error if the evaluation lacks it."""
        if metrics.get(self.primary_metric) is None:
            raise ValueError(
                f"the evaluation's metrics.json has no {self.primary_metric}: run the evaluate "
                "stage of this version first"
            )
        return self.primary_metric


def pip_requirements() -> list[str]:
    """Exact versions of what the served model imports (MLflow's inference guesses wrong)."""
    names = ["mlflow", "tensorflow", "keras", "numpy", "pandas", "pillow"]
    return [f"{name}=={metadata.version(name)}" for name in names]


def training_run(model_dir: Path) -> str | None:
    """The MLflow run of the training in ``model_dir/run.json``, if the store still has it."""
    import mlflow

    run_id = json.loads((model_dir / "run.json").read_text()).get("run_id")
    if not run_id:
        return None
    try:
        mlflow.get_run(run_id)
    except mlflow.exceptions.MlflowException:
        return None
    return run_id


def start_model_run(model: str, model_dir: Path, stage: str):
    """Start the ``stage`` run ("evaluate", "register") of the model trained in ``model_dir``:
    its own run, so that the training run's duration is the training's, nested under the
    training run in the UI (``mlflow.parentRunId``) and carrying the same lineage tags.
    If the store lost the training run, the run says so instead of naming a parent."""
    import mlflow

    from condgen import families

    family = families.family_of(model)
    tracking.setup(model)
    tags = {
        **tracking.run_tags(family.data_stage, family.data_dir),
        "model": model,
        "stage": stage,
    }
    parent = training_run(model_dir)
    if parent:
        tags[tracking.PARENT] = parent
    else:
        tags["note"] = "training run not found in this MLflow store"
    run = mlflow.start_run(run_name=f"{model}-{stage}", tags=tags)
    tracking.log_data_input(family.data_stage, family.data_dir, "evaluation")
    return run


def log_evaluation(model: str, model_dir: str | Path, report_dir: str | Path, flat: dict) -> str:
    """Log the evaluation's metrics and pictures as the model's evaluation run."""
    import mlflow

    report_dir = Path(report_dir)
    with start_model_run(model, Path(model_dir), "evaluate") as run:
        mlflow.log_metrics(flat)
        for path in [report_dir / "metrics.json", *sorted(report_dir.glob("*.png"))]:
            mlflow.log_artifact(str(path), artifact_path="evaluation")
        mlflow.log_artifact(str(Path(model_dir) / "history.csv"), artifact_path="evaluation")
        return run.info.run_id


# Evaluation keys that say on what a score was computed: the test split's sizes, the image size,
# and the network that scored it (MNIST: the evaluator's weights md5).
FACT_METRICS = (
    "image_size",
    "num_samples",
    "num_test",
    "num_test_a",
    "num_test_b",
    "evaluator",
    "kid_features",
)
FACT_TAG = "evaluated_"
# How the evaluation computes its scores; raised when a score's meaning changes (2: MNIST FID
# against held-out digits, translations' KID between disjoint halves; 3: paired KID averaged
# over 10 random half-splits), so that versions scored the old way are not ranked against new
# ones (a version without it was scored the old way).
PROTOCOL = "3"


def evaluation_facts(model: str, metrics: dict) -> dict[str, str]:
    """What a version's score was computed on: the prepared data's md5 (from dvc.lock) and the
    evaluation's own record of its test split, image size and scoring network."""
    from condgen import families

    family = families.family_of(model)
    facts = {
        "data_md5": tracking.data_hash(family.data_stage, family.data_dir),
        "protocol": PROTOCOL,
    }
    facts.update({k: str(metrics[k]) for k in FACT_METRICS if k in metrics})
    return facts


def recorded_facts(client, version) -> dict[str, str]:
    """The facts tagged on a registered version; for versions registered before the facts were
    recorded, what their run says (its data md5 tag and its evaluation metrics)."""
    facts = {k.removeprefix(FACT_TAG): v for k, v in version.tags.items() if k.startswith(FACT_TAG)}
    if facts:
        return facts
    run = client.get_run(version.run_id).data
    if "data_md5" in run.tags:
        facts["data_md5"] = run.tags["data_md5"]
    # Numeric facts were logged as MLflow metrics (floats): 2000.0 was 2000.
    facts.update({k: str(int(run.metrics[k])) for k in FACT_METRICS if k in run.metrics})
    return facts


def incomparable(new: dict[str, str], champion: dict[str, str]) -> str | None:
    """Why two versions' scores cannot be compared, or None when they can.

    Both must know their data and have been scored by the same evaluation protocol; every
    other fact both recorded must agree (a version registered before a fact was recorded is
    compared on the facts it has)."""
    required = ("data_md5", "protocol")
    for name in (*required, *sorted(set(new) & set(champion) - set(required))):
        mine, theirs = new.get(name, tracking.UNKNOWN), champion.get(name, tracking.UNKNOWN)
        if tracking.UNKNOWN in (mine, theirs):
            return f"{name} is not known for both (this: {mine}, champion: {theirs})"
        if mine != theirs:
            return f"they were evaluated on other {name} ({mine} vs the champion's {theirs})"
    return None


def describe(client, model: str, version: str, metric: str, score: float, facts: dict) -> None:
    """Descriptions the MLflow UI shows: the registered model's (what it is, how it is judged)
    and the version's (its score and what it was evaluated on)."""
    from condgen import families

    name = tracking.registered_name(model)
    text = families.description(model)
    if text and client.get_registered_model(name).description != text:
        client.update_registered_model(name, description=text)
    on = ", ".join(f"{k} {v}" for k, v in sorted(facts.items()))
    client.update_model_version(
        name, version, description=f"{metric} {score:g} on the held-out test split ({on})."
    )


def _beats(challenger: float, champion: float, greater_is_better: bool) -> bool:
    return challenger > champion if greater_is_better else challenger < champion


def register(
    spec: Registration,
    model: str,
    model_dir: str | Path,
    report_dir: str | Path,
    out_path: str | Path,
) -> dict:
    """Log ``model_dir/generator.keras`` as a pyfunc model, register it as ``condgen-<model>``.

    The ``champion`` alias moves to the new version only if its primary metric beats the best
    trivial answer recorded beside it in the evaluation (:mod:`condgen.core.baselines`) and the
    current champion's, and only when both were evaluated on the same data, test split and
    evaluator (:func:`evaluation_facts`, tagged ``evaluated_*`` on every version); a champion
    without the metric is never replaced. The decision and both values are recorded as version
    tags and returned (and written to ``out_path``).
    """
    import mlflow
    from mlflow import MlflowClient

    model_dir, report_dir = Path(model_dir), Path(report_dir)
    metrics = json.loads((report_dir / "metrics.json").read_text())
    metric = spec.metric_of(metrics)
    score = float(metrics[metric])
    # log_model copies the file into the artifact store; the folder goes when it has.
    meta_dir = tempfile.TemporaryDirectory(prefix="condgen-meta-")
    meta_path = Path(meta_dir.name) / "serving_meta.json"
    meta_path.write_text(json.dumps(spec.serving_meta(model_dir)))
    with meta_dir, start_model_run(model, model_dir, "register") as run:
        # The champion policy reads the metric from the version's run (this one); the best
        # trivial answer's score beside it, as the evaluation records it.
        mlflow.log_metrics(
            {
                k: float(metrics[k])
                for k in (metric, f"best_baseline_{metric}", f"{metric}_vs_best_baseline")
                if isinstance(metrics.get(k), (int, float))
            }
        )
        info = mlflow.pyfunc.log_model(
            name="generator",
            python_model=str(spec.pyfunc_file),
            artifacts={
                **{k: str(v) for k, v in spec.artifacts(model_dir).items()},
                "meta": str(meta_path),
            },
            code_paths=[str(PACKAGE_DIR)],
            signature=spec.signature(),
            input_example=spec.input_example(),
            pip_requirements=pip_requirements(),
        )
        run_id = run.info.run_id
    name = tracking.registered_name(model)
    facts = evaluation_facts(model, metrics)
    # The training's lineage travels with the version: what to check out to rebuild it.
    trained_in = training_run(model_dir) or run_id
    lineage = {
        k: v
        for k, v in mlflow.get_run(trained_in).data.tags.items()
        if k in ("git_commit", "git_dirty", "data_md5")
    }
    version = mlflow.register_model(
        info.model_uri, name, tags={**lineage, **{FACT_TAG + k: v for k, v in facts.items()}}
    )
    client = MlflowClient()
    describe(client, model, version.version, metric, score, facts)
    champion_version, champion_score, why_not = None, None, None
    try:
        current = client.get_model_version_by_alias(name, CHAMPION)
    except mlflow.exceptions.MlflowException as err:
        # The store's answer when no version holds the alias yet; anything else is an error.
        if "not found" not in str(err):
            raise
        current = None
    if current is not None:
        champion_version = current.version
        champion_score = client.get_run(current.run_id).data.metrics.get(metric)
        why_not = incomparable(facts, recorded_facts(client, current))
    eligible, against_trivial = baselines.beats_best_baseline(
        metrics, metric, spec.greater_is_better
    )
    if not eligible:
        promote = False
        reason = (
            f"not eligible for {CHAMPION}: {against_trivial}; a version must beat the best "
            "trivial answer on its primary metric (the alias stays)"
        )
    elif champion_version is None:
        promote, reason = True, f"first version: no champion yet; {against_trivial}"
    elif why_not:
        promote = False
        reason = (
            f"not compared with champion v{champion_version}: {why_not}; the alias stays "
            "(move it by hand if this version should serve)"
        )
    elif champion_score is None:
        promote = False
        reason = (
            f"champion v{champion_version} has no {metric} to compare with; the alias stays "
            "(move it by hand if this version should serve)"
        )
    elif _beats(score, champion_score, spec.greater_is_better):
        promote = True
        reason = f"{metric} {score:g} beats champion v{champion_version}'s {champion_score:g}"
    else:
        promote = False
        reason = (
            f"{metric} {score:g} does not beat champion v{champion_version}'s {champion_score:g}"
        )
    if promote:
        client.set_registered_model_alias(name, CHAMPION, version.version)
    decision = {
        "registered_model": name,
        "version": int(version.version),
        "run_id": run_id,
        "primary_metric": metric,
        "greater_is_better": spec.greater_is_better,
        "value": score,
        "previous_champion_version": int(champion_version) if champion_version else None,
        "previous_champion_value": champion_score,
        "promoted": promote,
        "champion_version": int(version.version)
        if promote
        else (int(champion_version) if champion_version else None),
        "reason": reason,
        "evaluated_on": facts,
    }
    for key in ("primary_metric", "value", "promoted", "reason"):
        client.set_model_version_tag(name, version.version, f"champion_{key}", str(decision[key]))
    Path(out_path).parent.mkdir(parents=True, exist_ok=True)
    write_text_atomic(out_path, json.dumps(decision, indent=2) + "\n")
    return decision
