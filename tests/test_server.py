"""A shared tracking server for real: `scripts/server.sh` starts PostgreSQL (Debian's, as the
postgres user) and `mlflow server` with a proxied artifact store; the tiny MNIST pipeline
records into it over HTTP, then two experiments run at once through DVC's queue, and the
runs, versions and champion decisions are all there, once each. `condgen models` and `condgen
serve` work against the server."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
import requests
import yaml

from tests.conftest import ROOT
from tests.test_pipeline import BIN, free_port, project_env, tiny_params

pytestmark = pytest.mark.slow
SERVER = ROOT / "scripts" / "server.sh"
HINT = "the test services are installed by `make services` (scripts/services.sh)"
# The two queued experiments: the GAN at two generator learning rates.
RATES = ("0.0001", "0.0004")


@pytest.fixture(scope="module")
def server() -> str:
    """`scripts/server.sh start` in a folder the postgres user can reach; its tracking URI."""
    assert shutil.which("pg_createcluster"), f"PostgreSQL is missing: {HINT}"
    folder = Path(tempfile.mkdtemp(prefix="condgen-server-"))
    folder.chmod(0o755)
    port = free_port()
    started = subprocess.run(
        [str(SERVER), "start", str(folder), str(port)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert started.returncode == 0, f"{started.stdout}\n{started.stderr}\n({HINT})"
    uri = started.stdout.strip().splitlines()[-1].split("=", 1)[1]
    try:
        yield uri
    finally:
        subprocess.run([str(SERVER), "drop", str(folder)], capture_output=True, timeout=300)
        shutil.rmtree(folder, ignore_errors=True)


def server_env(project: Path, uri: str) -> dict:
    env = project_env(project)
    env["MLFLOW_TRACKING_URI"] = uri
    for key in ("GIT_AUTHOR_NAME", "GIT_COMMITTER_NAME"):
        env[key] = "condgen tests"
    for key in ("GIT_AUTHOR_EMAIL", "GIT_COMMITTER_EMAIL"):
        env[key] = "tests@condgen.invalid"
    return env


def sh(cmd: list[str], project: Path, uri: str, timeout: int = 900) -> str:
    result = subprocess.run(
        cmd,
        cwd=project,
        env=server_env(project, uri),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert result.returncode == 0, f"{cmd}:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result.stdout


@pytest.fixture(scope="module")
def project(server, tmp_path_factory) -> Path:
    """A git repository of the project with tiny params, its MNIST part run against the server."""
    root = tmp_path_factory.mktemp("server-project")
    for name in ("dvc.yaml", ".dvcignore"):
        shutil.copy(ROOT / name, root / name)
    shutil.copytree(ROOT / "src", root / "src", ignore=shutil.ignore_patterns("__pycache__"))
    (root / "params.yaml").write_text(yaml.safe_dump(tiny_params(), sort_keys=False))
    (root / ".gitignore").write_text("mlflow.db\nmlartifacts/\ncheckpoints/\n")
    sh(["git", "init", "-q"], root, server)
    sh([str(BIN / "dvc"), "init", "-q"], root, server)
    sh(["git", "add", "-A"], root, server)
    sh(["git", "commit", "-qm", "tiny project"], root, server)
    sh([str(BIN / "dvc"), "repro", "register@gan", "register@cgan"], root, server, timeout=1800)
    sh(["git", "add", "-A"], root, server)
    sh(["git", "commit", "-qm", "pipeline results"], root, server)
    return root


def test_pipeline_and_two_queued_experiments_record_into_the_server(project, server):
    import mlflow

    dvc = str(BIN / "dvc")
    for rate in RATES:
        sh(
            [
                dvc,
                "exp",
                "run",
                "--queue",
                "-S",
                f"train.gan.g_learning_rate={rate}",
                "register@gan",
            ],
            project,
            server,
        )
    sh([dvc, "queue", "start", "-j", "2"], project, server)
    deadline = time.monotonic() + 900
    while time.monotonic() < deadline:
        status = sh([dvc, "queue", "status"], project, server)
        if "Queued" not in status and "Running" not in status:
            break
        time.sleep(5)
    assert status.count("Success") == 2, status
    sh([dvc, "queue", "stop"], project, server)

    client = mlflow.MlflowClient(server)
    experiment = client.get_experiment_by_name("condgen-gan")
    runs = client.search_runs([experiment.experiment_id])
    stages = sorted(r.data.tags["stage"] for r in runs)
    # One training of the pipeline and one per experiment, each with its evaluation and
    # registration: nothing lost, nothing twice.
    assert stages == ["evaluate"] * 3 + ["register"] * 3 + ["train"] * 3, stages
    trained = [r for r in runs if r.data.tags["stage"] == "train"]
    assert sorted(r.data.params["g_learning_rate"] for r in trained) == sorted(
        [str(tiny_params()["train"]["gan"]["g_learning_rate"]), *RATES]
    ), [r.data.params["g_learning_rate"] for r in trained]
    assert {r.data.tags["dvc_exp_name"] != "" for r in trained} == {True, False}
    # Artifacts went to the server's proxied store, readable by any client.
    evaluated = next(r for r in runs if r.data.tags["stage"] == "evaluate")
    assert evaluated.info.artifact_uri.startswith("mlflow-artifacts:/")
    local = Path(client.download_artifacts(evaluated.info.run_id, "evaluation/metrics.json"))
    assert "fid_mnist" in json.loads(local.read_text())

    versions = client.search_model_versions("name = 'condgen-gan'")
    assert sorted(int(v.version) for v in versions) == [1, 2, 3]
    for version in versions:
        assert version.tags["champion_reason"], version.tags
        assert version.run_id in {r.info.run_id for r in runs}
    promoted = [v for v in versions if v.tags["champion_promoted"] == "True"]
    champion = client.get_registered_model("condgen-gan").aliases.get("champion")
    if promoted:  # the alias is on the last version that was promoted
        assert champion == max(promoted, key=lambda v: int(v.version)).version
    else:
        assert champion is None

    listed = json.loads(sh([str(BIN / "condgen"), "models", "gan", "--json"], project, server))
    assert [h["version"] for h in listed["history"]] == [1, 2, 3]


def test_condgen_serve_answers_from_the_servers_registry(project, server):
    """The cGAN champion (moved by hand if a trivial answer beat it) served from the server."""
    import mlflow

    client = mlflow.MlflowClient(server)
    client.set_registered_model_alias("condgen-cgan", "champion", "1")
    port = free_port()
    process = subprocess.Popen(
        [str(BIN / "condgen"), "serve", "--model", "cgan", "--port", str(port)],
        cwd=project,
        env=server_env(project, server),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            try:
                if requests.get(f"{url}/ping", timeout=2).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            assert process.poll() is None, "condgen serve ended"
            time.sleep(1)
        answer = requests.post(
            f"{url}/invocations",
            json={"dataframe_records": [{"label": 4, "seed": 1}]},
            timeout=60,
        )
        assert answer.status_code == 200, answer.text
        assert answer.json()["predictions"][0]["label"] == 4
    finally:
        os.killpg(process.pid, 15)
        process.wait(timeout=60)
