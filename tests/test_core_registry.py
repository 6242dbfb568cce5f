"""Champion policy against a real SQLite-backed MLflow store."""

import json

import pandas as pd
import pytest
import yaml

from condgen.families import MODELS
from condgen.mnist.networks import NETWORKS


@pytest.fixture()
def store(tmp_path, monkeypatch):
    monkeypatch.setenv("CONDGEN_ROOT", str(tmp_path))
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    lock_data(tmp_path, "a" * 32)
    return tmp_path


def lock_data(root, md5: str) -> None:
    """A dvc.lock that records ``md5`` for the prepared MNIST data."""
    stage = {"outs": [{"path": "data/mnist", "md5": md5}]}
    (root / "dvc.lock").write_text(yaml.safe_dump({"stages": {"prepare_mnist": stage}}))


def fake_training(root, fid, **evaluation):
    """A model folder (untrained generator) and a report with the given FID."""
    model_dir = root / "models" / "gan"
    report_dir = root / "reports" / "gan"
    model_dir.mkdir(parents=True, exist_ok=True)
    report_dir.mkdir(parents=True, exist_ok=True)
    NETWORKS[MODELS["gan"].networks][0](100).save(model_dir / "generator.keras")
    (model_dir / "run.json").write_text(json.dumps({"run_id": None}))
    pd.DataFrame({"epoch": [1], "g_loss": [1.0], "d_loss": [1.0]}).to_csv(
        model_dir / "history.csv", index=False
    )
    metrics = {
        "fid_mnist": fid,
        "num_samples": 100,
        "evaluator": "e" * 32,
        # The best trivial answer's FID (class means), as the evaluation records it.
        "best_baseline_fid_mnist": 150.0,
        "best_baseline_name_fid_mnist": "class_means",
        **evaluation,
    }
    (report_dir / "metrics.json").write_text(json.dumps(metrics))
    return model_dir, report_dir


def register_gan(root, fid, recipe=None, **evaluation) -> dict:
    from condgen.core.registry import log_evaluation, register
    from condgen.mnist.registration import registration

    model_dir, report_dir = fake_training(root, fid, **evaluation)
    for name in ("grid.png", "losses.png"):
        (report_dir / name).write_bytes(b"")
    metrics = json.loads((report_dir / "metrics.json").read_text())
    numbers = {k: v for k, v in metrics.items() if isinstance(v, (int, float))}
    log_evaluation("gan", model_dir, report_dir, numbers)
    recipe = recipe or registration(MODELS["gan"])
    return register(recipe, "gan", model_dir, report_dir, report_dir / "reg.json")


def test_champion_moves_only_when_beaten(store):
    import mlflow

    decisions = [register_gan(store, fid) for fid in (50.0, 40.0, 45.0, 40.0)]
    assert [d["promoted"] for d in decisions] == [True, True, False, False]
    assert [d["champion_version"] for d in decisions] == [1, 2, 2, 2]
    assert "does not beat champion v2's 40" in decisions[3]["reason"]
    client = mlflow.MlflowClient()
    champion = client.get_model_version_by_alias("condgen-gan", "champion")
    assert str(champion.version) == "2"
    rejected = client.get_model_version("condgen-gan", "3")
    assert rejected.tags["champion_promoted"] == "False"
    # The runs were recovered into the store even though run.json had no run.
    assert client.get_run(champion.run_id).data.tags["note"].startswith("training run not found")
    # The logged model serves requests through pyfunc.
    model = mlflow.pyfunc.load_model("models:/condgen-gan@champion")
    answer = model.predict(pd.DataFrame({"seed": [1.0, 2.0]}))
    assert list(answer.columns) == ["image", "seed"] and len(answer) == 2


def test_versions_are_tagged_with_what_they_were_evaluated_on(store):
    import mlflow

    decision = register_gan(store, 50.0)
    assert decision["evaluated_on"] == {
        "data_md5": "a" * 32,
        "protocol": "3",
        "num_samples": "100",
        "evaluator": "e" * 32,
    }
    tags = mlflow.MlflowClient().get_model_version("condgen-gan", "1").tags
    assert tags["evaluated_data_md5"] == "a" * 32 and tags["evaluated_evaluator"] == "e" * 32


@pytest.mark.parametrize(
    "change, named",
    [
        ("data", "data_md5"),
        ("evaluator", "evaluator"),
        ("num_samples", "num_samples"),
    ],
)
def test_a_better_score_on_other_data_or_evaluation_does_not_move_the_champion(
    store, change, named
):
    import mlflow

    assert register_gan(store, 50.0)["promoted"]
    evaluation = {}
    if change == "data":
        lock_data(store, "b" * 32)
    elif change == "evaluator":
        evaluation["evaluator"] = "f" * 32
    else:
        evaluation["num_samples"] = 2000
    other = register_gan(store, 10.0, **evaluation)
    assert other["promoted"] is False and other["champion_version"] == 1
    assert f"other {named}" in other["reason"] and "the alias stays" in other["reason"]
    champion = mlflow.MlflowClient().get_model_version_by_alias("condgen-gan", "champion")
    assert str(champion.version) == "1"
    # Back on the champion's data and evaluation, a better score moves the alias again.
    lock_data(store, "a" * 32)
    assert register_gan(store, 40.0)["promoted"] is True


def test_unknown_data_is_not_compared(store):
    assert register_gan(store, 50.0)["promoted"]
    (store / "dvc.lock").unlink()  # run outside DVC: nothing says which data it saw
    decision = register_gan(store, 10.0)
    assert decision["promoted"] is False and "data_md5 is not known" in decision["reason"]


def test_a_champion_without_the_metric_is_not_replaced(store):
    import dataclasses

    from condgen.mnist.registration import registration

    assert register_gan(store, 50.0)["promoted"]
    # The policy now judges another metric, which the champion's run never logged.
    judged = dataclasses.replace(
        registration(MODELS["gan"]), primary_metric="classifier_score", greater_is_better=True
    )
    decision = register_gan(
        store, 60.0, recipe=judged, classifier_score=9.0, best_baseline_classifier_score=5.0
    )
    assert decision["promoted"] is False
    assert "has no classifier_score" in decision["reason"] and decision["champion_version"] == 1


def test_a_version_that_does_not_beat_the_best_trivial_answer_is_never_champion(store):
    import mlflow

    first = register_gan(store, 160.0)  # worse than the class means' 150
    assert first["promoted"] is False and first["champion_version"] is None
    assert "not eligible" in first["reason"] and "class_means's 150" in first["reason"]
    client = mlflow.MlflowClient()
    assert client.get_model_version("condgen-gan", "1").tags["champion_promoted"] == "False"
    assert register_gan(store, 60.0)["promoted"] is True
    # Even a champion that is worse than a trivial answer is not replaced by one.
    assert register_gan(store, 151.0)["promoted"] is False
    # An evaluation that records no trivial answer is not eligible either.
    silent = register_gan(store, 10.0, best_baseline_fid_mnist=None)
    assert silent["promoted"] is False and "records no trivial answer" in silent["reason"]


def test_a_champion_scored_by_an_older_evaluation_is_not_compared(store):
    import mlflow

    assert register_gan(store, 50.0)["promoted"]
    # Version 1 as registered before the protocol fact: its FID had another reference set.
    mlflow.MlflowClient().delete_model_version_tag("condgen-gan", "1", "evaluated_protocol")
    decision = register_gan(store, 10.0)
    assert decision["promoted"] is False and "protocol is not known" in decision["reason"]
