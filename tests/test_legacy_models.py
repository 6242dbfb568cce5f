"""Model versions registered by the code before the one-folder-per-family layout still load,
generate, translate and serve: their pyfunc files import ``condgen.registry.*`` and
``condgen.models.conv_blocks``, which stay importable.

The old code is taken from git (the last commit before the move) and registers real models
into a real SQLite MLflow store; the current CLI then uses them in a fresh process, as a user
would, and ``mlflow models serve`` answers for one over HTTP.
"""

from __future__ import annotations

import base64
import io
import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import numpy as np
import pytest
import requests
from PIL import Image

from tests.conftest import ROOT
from tests.test_pipeline import BIN, project_env, serve

pytestmark = pytest.mark.slow
# The last commit with the layer-by-layer layout (data/, models/, registry/, ...).
BEFORE_THE_MOVE = "d643ae52357f4a404455923be66b8c5cff54e579"

REGISTER_WITH_THE_OLD_CODE = """
import json, sys
from pathlib import Path

import condgen
assert "old-src" in condgen.__file__, condgen.__file__
from condgen.models.cgan import build_cgan_generator
from condgen.models.cyclegan import build_cyclegan_generator
from condgen.registry.register import register

def folders(model, metrics):
    model_dir, report_dir = Path("models", model), Path("reports", model)
    model_dir.mkdir(parents=True)
    report_dir.mkdir(parents=True)
    (report_dir / "metrics.json").write_text(json.dumps(metrics))
    return model_dir, report_dir

model_dir, report_dir = folders("cgan", {"label_accuracy": 0.5})
build_cgan_generator(100).save(model_dir / "generator.keras")
(model_dir / "run.json").write_text(json.dumps({"run_id": None}))
register("cgan", model_dir, report_dir, report_dir / "registration.json")

model_dir, report_dir = folders("cyclegan", {"a2b_l1": 0.3, "cycle_a_l1": 0.2})
for direction in ("a2b", "b2a"):
    build_cyclegan_generator(32, "resnet", 1, 4).save(model_dir / f"generator_{direction}.keras")
(model_dir / "run.json").write_text(json.dumps({"run_id": None, "image_size": 32}))
register("cyclegan", model_dir, report_dir, report_dir / "registration.json")
"""


def old_source(into: Path) -> Path:
    """src/ of the commit before the move, extracted from git."""
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", BEFORE_THE_MOVE, "src/condgen"],
        capture_output=True,
    )
    if archive.returncode != 0:
        pytest.fail(
            f"git has no commit {BEFORE_THE_MOVE[:7]} ({archive.stderr.decode()[:200]}): "
            "this test needs the project's history (a full clone, not a shallow one)"
        )
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(into, filter="data")
    return into / "src"


@pytest.fixture(scope="module")
def legacy_project(tmp_path_factory) -> Path:
    """A project whose store holds condgen-cgan and condgen-cyclegan registered by old code."""
    root = tmp_path_factory.mktemp("legacy")
    source = old_source(root / "old-src")
    (root / "dvc.yaml").write_text("stages: {}\n")  # marks the project root for both codes
    in_project(root, [sys.executable, "-c", REGISTER_WITH_THE_OLD_CODE], PYTHONPATH=str(source))
    for model in ("cgan", "cyclegan"):
        decision = json.loads((root / f"reports/{model}/registration.json").read_text())
        assert decision["version"] == 1 and decision["promoted"] is True
    return root


def in_project(project: Path, command: list[str], **env: str) -> subprocess.CompletedProcess:
    """``command`` run in ``project`` against its MLflow store; it must succeed."""
    full_env = {**project_env(project), **env}
    full_env["MLFLOW_TRACKING_URI"] = f"sqlite:///{project / 'mlflow.db'}"
    result = subprocess.run(
        command, cwd=project, env=full_env, capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, result.stderr[-4000:]
    return result


def condgen(project: Path, *args: str) -> subprocess.CompletedProcess:
    return in_project(project, [str(BIN / "condgen"), *args])


def test_old_versions_bundle_the_old_layout(legacy_project):
    bundled = list((legacy_project / "mlartifacts").rglob("code/condgen/registry/register.py"))
    assert bundled, "the old versions should carry the old package as their code"
    assert not list((legacy_project / "mlartifacts").rglob("code/condgen/families.py"))


def test_an_old_mnist_version_generates_with_the_current_cli(legacy_project, tmp_path):
    out = tmp_path / "digits.png"
    args = ["generate", "--model", "cgan", "--label", "3", "-n", "4", "-o", str(out)]
    condgen(legacy_project, *args)
    grid = np.asarray(Image.open(out))
    assert grid.ndim == 2 and grid.shape[0] > 28 and 0 < grid.mean() < 255


def test_an_old_image_version_translates_with_the_current_cli(legacy_project, tmp_path):
    source = tmp_path / "day.png"
    pixels = np.random.default_rng(0).integers(0, 255, (40, 48, 3), dtype=np.uint8)
    Image.fromarray(pixels).save(source)
    out = tmp_path / "night.png"
    condgen(
        legacy_project, "translate", "--model", "cyclegan", "--direction", "b2a", str(source),
        "-o", str(out),
    )  # fmt: skip
    assert np.asarray(Image.open(out)).shape == (40, 48, 3)


def test_an_old_version_is_served_over_http(legacy_project):
    # The server loads the version with nothing of condgen imported beforehand.
    served = serve(legacy_project, "cgan")
    url = next(served)
    try:
        payload = {"dataframe_split": {"columns": ["label", "seed"], "data": [[7, 1], [2, 2]]}}
        answer = requests.post(f"{url}/invocations", json=payload, timeout=60)
        assert answer.status_code == 200, answer.text
        rows = answer.json()["predictions"]
        assert [r["label"] for r in rows] == [7, 2]
        image = np.asarray(Image.open(io.BytesIO(base64.b64decode(rows[0]["image"]))))
        assert image.shape == (28, 28)
        refused = requests.post(
            f"{url}/invocations",
            json={"dataframe_split": {"columns": ["label"], "data": [[12]]}},
            timeout=60,
        )
        assert refused.status_code == 400 and "0-9" in refused.text
    finally:
        served.close()
    assert os.path.exists(legacy_project / "serve-cgan.log")


def test_a_new_version_is_not_compared_with_an_old_champion_of_unknown_data(
    legacy_project, tmp_path, monkeypatch
):
    """The old champion's run recorded no data md5 (and this project has no dvc.lock), so the
    new version's better score proves nothing: it is registered and the alias stays."""
    from condgen.core.registry import register
    from condgen.families import MODELS
    from condgen.mnist.networks import NETWORKS
    from condgen.mnist.registration import registration

    monkeypatch.setenv("CONDGEN_ROOT", str(legacy_project))
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{legacy_project / 'mlflow.db'}")
    model_dir, report_dir = tmp_path / "model", tmp_path / "report"
    model_dir.mkdir()
    report_dir.mkdir()
    NETWORKS[MODELS["cgan"].networks][0](100).save(model_dir / "generator.keras")
    (model_dir / "run.json").write_text(json.dumps({"run_id": None}))
    metrics = {
        "fid_mnist": 10.0,
        "best_baseline_fid_mnist": 150.0,
        "best_baseline_name_fid_mnist": "class_means",
    }
    (report_dir / "metrics.json").write_text(json.dumps(metrics))
    decision = register(
        registration(MODELS["cgan"]), "cgan", model_dir, report_dir, report_dir / "reg.json"
    )
    assert decision["version"] == 2 and decision["promoted"] is False
    assert "data_md5 is not known" in decision["reason"] and decision["champion_version"] == 1
