"""Champion policy against a real SQLite-backed MLflow store."""

import json

import pandas as pd
import pytest

from condgen.families import MODELS
from condgen.mnist.networks import NETWORKS


@pytest.fixture()
def store(tmp_path, monkeypatch):
    monkeypatch.setenv("CONDGEN_ROOT", str(tmp_path))
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    return tmp_path


def fake_training(root, fid):
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
    (report_dir / "metrics.json").write_text(json.dumps({"fid_mnist": fid}))
    return model_dir, report_dir


def test_champion_moves_only_when_beaten(store):
    import mlflow

    from condgen.core.registry import log_evaluation, register
    from condgen.mnist.registration import registration

    recipe = registration(MODELS["gan"])

    decisions = []
    for fid in (50.0, 40.0, 45.0, 40.0):
        model_dir, report_dir = fake_training(store, fid)
        for name in ("grid.png", "losses.png"):
            (report_dir / name).write_bytes(b"")
        log_evaluation("gan", model_dir, report_dir, {"fid_mnist": fid})
        decisions.append(register(recipe, "gan", model_dir, report_dir, report_dir / "reg.json"))
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
