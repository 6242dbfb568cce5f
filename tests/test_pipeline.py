"""The tiny end-to-end pipeline: `dvc repro` in a temporary copy, then the served cGAN over HTTP.

Everything here is real: DVC runs the stages, MLflow records into SQLite, and
`mlflow models serve` answers on 127.0.0.1.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import requests
import yaml

from condgen.serving.requests import decode_png_base64
from tests.conftest import ROOT

pytestmark = pytest.mark.slow
BIN = Path(sys.executable).parent
MNIST = ("gan", "cgan", "dcgan")
MODELS = (*MNIST, "pix2pix", "cyclegan")


def tiny_params() -> dict:
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    params["data"]["mnist"]["max_train_images"] = 200
    params["evaluator"]["epochs"] = 1
    # The default steps_per_execution (10) with 10 steps per epoch, as a real run executes.
    for model in MNIST:
        params["train"][model].update(epochs=2, batch_size=16, jit_compile=False)
    params["evaluate"]["num_samples"] = 100
    params["data"]["paired"].update(image_size=32, num_train=10, num_test=4)
    params["train"]["pix2pix"].update(epochs=2, batch_size=1)
    params["data"]["unpaired"].update(image_size=32, num_train=10, num_test=4)
    params["train"]["cyclegan"].update(epochs=2, base_filters=4, residual_blocks=1)
    params["segmenter"].update(epochs=2, batch_size=4, base_filters=4)
    params["style"].update(image_size=32, steps=3, pairs=params["style"]["pairs"][:1])
    return params


def project_env(project: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "CONDGEN_"))}
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    env["MLFLOW_DISABLE_TELEMETRY"] = "true"
    env["TF_CPP_MIN_LOG_LEVEL"] = "2"
    return env


def run(cmd: list[str], project: Path, timeout: int = 900) -> subprocess.CompletedProcess:
    result = subprocess.run(
        cmd,
        cwd=project,
        env=project_env(project),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert result.returncode == 0, (
        f"{cmd} failed:\n{result.stdout[-3000:]}\n{result.stderr[-5000:]}"
    )
    return result


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    """A copy of the project with tiny params, after one full `dvc repro`."""
    root = tmp_path_factory.mktemp("project")
    for name in ("dvc.yaml", ".dvcignore"):
        shutil.copy(ROOT / name, root / name)
    shutil.copytree(ROOT / "src", root / "src", ignore=shutil.ignore_patterns("__pycache__"))
    (root / "params.yaml").write_text(yaml.safe_dump(tiny_params(), sort_keys=False))
    run([str(BIN / "dvc"), "init", "--no-scm", "-q"], root)
    run([str(BIN / "dvc"), "repro"], root, timeout=1800)
    return root


def eligible(project: Path, model: str) -> bool:
    """Whether the model's evaluation beats the best trivial answer on its primary metric."""
    from condgen.core.baselines import beats_best_baseline
    from condgen.families import MODELS as TABLE

    row = TABLE[model]
    metrics = json.loads((project / f"reports/{model}/metrics.json").read_text())
    verdict, why = beats_best_baseline(metrics, row.primary_metric, row.greater_is_better)
    assert verdict is not None, why  # every evaluation records its trivial answers
    return verdict


def has_ratio(metrics: dict, key: str) -> bool:
    """The ratio is there, or a note says why not (a tiny test split's unbiased KID can be 0 or
    below)."""
    return key in metrics or "not defined" in metrics.get(f"{key}_note", "")


@pytest.fixture(scope="module")
def served_project(project) -> Path:
    """The project after a user moved ``champion`` by hand to each version 1 that a trivial
    answer beat (a few steps of training learn little), as the README says to do."""
    import mlflow

    client = mlflow.MlflowClient(f"sqlite:///{project / 'mlflow.db'}")
    for model in MODELS:
        if not eligible(project, model):
            client.set_registered_model_alias(f"condgen-{model}", "champion", "1")
    return project


def metrics_of(project: Path) -> dict:
    return {m: json.loads((project / f"reports/{m}/metrics.json").read_text()) for m in MODELS}


def test_repro_produces_every_output(project):
    for model in MODELS:
        registration = json.loads((project / f"reports/{model}/registration.json").read_text())
        assert registration["version"] == 1
        # Promoted exactly when the model beats the best trivial answer.
        assert registration["promoted"] is eligible(project, model), registration["reason"]
    for model in MNIST:
        metrics = json.loads((project / f"reports/{model}/metrics.json").read_text())
        for key in (
            "fid_mnist",
            "fid_mnist_floor",
            "best_baseline_fid_mnist",
            "fid_mnist_vs_best_baseline",
            "classifier_score",
            "classes_covered",
            "memorisation_copy_share",
        ):
            assert key in metrics
        assert (project / f"reports/{model}/grid.png").stat().st_size > 0
        assert (project / f"reports/{model}/losses.png").stat().st_size > 0
    cgan = json.loads((project / "reports/cgan/metrics.json").read_text())
    assert set(cgan["label_accuracy_per_label"]) == {str(d) for d in range(10)}
    assert (
        cgan["label_accuracy_ci95_low"]
        <= cgan["label_accuracy"]
        <= cgan["label_accuracy_ci95_high"]
    )
    assert json.loads((project / "models/evaluator/metrics.json").read_text())["test_accuracy"] > 0
    pix2pix = json.loads((project / "reports/pix2pix/metrics.json").read_text())
    for metric in ("l1", "psnr", "ssim", "kid", "mean_iou", "pixel_accuracy"):
        assert has_ratio(pix2pix, f"{metric}_vs_best_baseline")
        for name in ("mean_target", "colour_map", "unchanged_input"):
            assert f"baseline_{name}_{metric}" in pix2pix
    assert {"real_mean_iou", "real_kid", "segmenter"} <= set(pix2pix)
    assert pix2pix["num_test"] == 4 and pix2pix["image_size"] == 32
    assert (project / "reports/pix2pix/grid.png").stat().st_size > 0
    registration = json.loads((project / "reports/pix2pix/registration.json").read_text())
    assert registration["primary_metric"] == "l1"
    assert registration["evaluated_on"]["kid_features"] == pix2pix["kid_features"]
    for data in ("paired", "unpaired"):
        segmenter = json.loads((project / f"reports/segmenter_{data}/metrics.json").read_text())
        assert segmenter["num_classes"] == 12
    cyclegan = json.loads((project / "reports/cyclegan/metrics.json").read_text())
    for direction in ("a2b", "b2a"):
        for metric in ("l1", "ssim", "kid", "mean_iou"):
            assert has_ratio(cyclegan, f"{direction}_{metric}_vs_best_baseline")
        assert f"{direction}_real_mean_iou" in cyclegan
    assert cyclegan["num_test_a"] == 4 and cyclegan["paired_test"] is True
    assert "cycle_a_l1" in cyclegan and "cycle_b_l1" in cyclegan
    for name in ("grid_a2b.png", "grid_b2a.png", "losses.png"):
        assert (project / "reports/cyclegan" / name).stat().st_size > 0
    registration = json.loads((project / "reports/cyclegan/registration.json").read_text())
    assert registration["primary_metric"] == "a2b_kid"
    style = json.loads((project / "reports/style/metrics.json").read_text())
    assert set(style) == {"cat"} and style["cat"]["steps"] == 3
    assert style["cat"]["last_total"] < style["cat"]["first_total"]
    assert "total_vs_best_baseline" in style["cat"]
    for name in ("sheet.png", "losses.png", "images/cat.png", "losses/cat.csv"):
        assert (project / "reports/style" / name).stat().st_size > 0
    shown = run([str(BIN / "dvc"), "metrics", "show", "--json"], project).stdout
    for key in ("label_accuracy", "fid_mnist", "best_baseline_l1", "photo_mean_iou"):
        assert key in shown


def test_second_repro_does_no_work(project):
    out = run([str(BIN / "dvc"), "repro"], project).stdout
    ran = set(re.findall(r"Running stage '([^']+)'", out))
    # Only the check of the user's own files runs, and it changes nothing.
    assert ran == {"inputs"}, out
    status = json.loads(run([str(BIN / "dvc"), "status", "--json"], project).stdout)
    assert set(status) == ran and all(v == ["always changed"] for v in status.values()), status


def test_dvc_plots_draw_every_loss_column_once(project):
    """The loss curves are the top-level plots, each with all its columns; a history.csv does
    not also get a one-column chart of its own."""
    shown = json.loads(run([str(BIN / "dvc"), "plots", "show", "--json"], project).stdout)
    names = set(shown["data"])
    assert {"losses", "pix2pix_losses", "cyclegan_losses"} <= names
    assert not any(name.endswith("history.csv") for name in names), names
    columns = pd.read_csv(project / "models/cyclegan/history.csv").columns
    spec = yaml.safe_load((project / "dvc.yaml").read_text())["plots"]
    drawn = next(p["cyclegan_losses"] for p in spec if "cyclegan_losses" in p)
    assert set(drawn["y"]["models/cyclegan/history.csv"]) == set(columns) - {"epoch", "g_loss"}


def test_dvc_plots_page_draws_every_chart_without_a_network(project, tmp_path):
    """The page `dvc plots show` writes with the project's template (.dvc/config) carries Vega
    itself: headless Chromium draws every chart from the file, with no network to ask."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    from tests import browser

    config = (ROOT / ".dvc/config").read_text()
    assert "html_template = ../plots/template.html" in config
    template = ROOT / "plots/template.html"
    out = tmp_path / "plots"
    dvc = [str(BIN / "dvc"), "plots", "show", "--html-template", str(template), "-o", str(out)]
    run(dvc, project)
    html = (out / "index.html").read_text()
    assert "<script src=" not in html and "cdn.jsdelivr.net" not in html
    charts = html.count("vegaEmbed('#")
    assert charts >= 4  # MNIST, Pix2Pix and CycleGAN losses, the style losses
    with browser.chrome() as page:
        page.get((out / "index.html").as_uri())
        WebDriverWait(page, 60).until(
            lambda d: len(d.find_elements(By.CSS_SELECTOR, ".vega-embed canvas")) == charts
        )
        sizes = page.execute_script(
            "return [...document.querySelectorAll('.vega-embed canvas')].map(c => c.width)"
        )
        assert all(width > 100 for width in sizes), sizes


def test_mlflow_runs_show_training_evaluation_and_registration(project):
    import mlflow

    mlflow.set_tracking_uri(f"sqlite:///{project / 'mlflow.db'}")
    client = mlflow.MlflowClient()
    run_id = json.loads((project / "models/cgan/run.json").read_text())["run_id"]
    trained = client.get_run(run_id)
    data = trained.data
    assert data.params["batch_size"] == "16"
    assert {"g_loss", "d_loss"} <= set(data.metrics)
    assert len(client.get_metric_history(run_id, "g_loss")) == 2  # one value per epoch
    # A sample grid per epoch, to watch in the UI while it trains.
    samples = {a.path for a in client.list_artifacts(run_id, "images")}
    assert len([p for p in samples if p.endswith(".png")]) == 2, samples
    # The prepared data as the run's dataset, with the md5 dvc.lock records for it.
    (dataset,) = trained.inputs.dataset_inputs
    assert dataset.dataset.name == "mnist"
    assert dataset.dataset.digest == data.tags["data_md5"].removesuffix(".dir")
    # Evaluation and registration are runs of their own under the training run, so the
    # training run's duration is the training's.
    children = client.search_runs(
        [trained.info.experiment_id], f"tags.mlflow.parentRunId = '{run_id}'"
    )
    by_stage = {r.data.tags["stage"]: r for r in children}
    assert sorted(by_stage) == ["evaluate", "register"], sorted(by_stage)
    evaluated = by_stage["evaluate"]
    assert trained.info.end_time <= evaluated.info.start_time
    assert {"label_accuracy", "fid_mnist"} <= set(evaluated.data.metrics)
    assert "fid_mnist" not in data.metrics
    artifacts = {a.path for a in client.list_artifacts(evaluated.info.run_id, "evaluation")}
    assert {"evaluation/grid.png", "evaluation/losses.png", "evaluation/metrics.json"} <= artifacts
    for child in children:  # the same lineage as the training run
        for tag in ("git_commit", "git_dirty", "data_md5", "model"):
            assert child.data.tags[tag] == data.tags[tag], tag
    version = client.get_model_version("condgen-cgan", "1")
    assert version.run_id == by_stage["register"].info.run_id
    assert version.tags["champion_primary_metric"] == "fid_mnist"
    assert version.description.startswith("fid_mnist ")
    assert "Conditional GAN" in client.get_registered_model("condgen-cgan").description
    # The training's lineage (this copy has no git: "unknown", never a made-up commit).
    assert version.tags["git_commit"] == data.tags["git_commit"] == "unknown"
    assert version.tags["git_dirty"] == "unknown"
    assert version.tags["data_md5"] == data.tags["data_md5"] != "unknown"
    # Every experiment opens on the UI's model-training views and says what it holds.
    for model in [*MODELS, "style"]:
        experiment = client.get_experiment_by_name(f"condgen-{model}")
        assert experiment.tags["mlflow.experimentKind"] == "custom_model_development"
        assert len(experiment.tags["mlflow.note.content"]) > 50
    (style,) = client.search_runs([client.get_experiment_by_name("condgen-style").experiment_id])
    assert {"git_commit", "git_dirty", "data_md5"} <= set(style.data.tags)
    assert style.data.tags["data_md5"] != "unknown"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def serve(project: Path, model: str):
    """`mlflow models serve` of condgen-<model>@champion; yields its URL, then stops it."""
    port = free_port()
    env = project_env(project)
    env["MLFLOW_TRACKING_URI"] = f"sqlite:///{project / 'mlflow.db'}"
    log_path = project / f"serve-{model}.log"
    log = open(log_path, "w")  # noqa: SIM115 (lives as long as the server)
    server = subprocess.Popen(
        [
            str(BIN / "mlflow"),
            "models",
            "serve",
            "-m",
            f"models:/condgen-{model}@champion",
            "--env-manager",
            "local",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        cwd=project,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            assert server.poll() is None, log_path.read_text()[-3000:]
            try:
                if requests.get(f"{url}/ping", timeout=2).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            time.sleep(1)
        else:
            pytest.fail("server did not become ready: " + log_path.read_text())
        yield url
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
        log.close()


@pytest.fixture(scope="module")
def served_cgan(served_project):
    yield from serve(served_project, "cgan")


@pytest.fixture(scope="module")
def served_pix2pix(served_project):
    yield from serve(served_project, "pix2pix")


@pytest.fixture(scope="module")
def served_cyclegan(served_project):
    yield from serve(served_project, "cyclegan")


def invoke(url: str, payload) -> requests.Response:
    if isinstance(payload, str):
        return requests.post(
            f"{url}/invocations",
            data=payload,
            headers={"Content-Type": "application/json"},
            timeout=60,
        )
    return requests.post(f"{url}/invocations", json=payload, timeout=60)


def test_served_cgan_answers_good_and_bad_requests(served_cgan):
    good = {"dataframe_records": [{"label": 3, "seed": 7}, {"label": 8, "seed": 7}]}
    response = invoke(served_cgan, good)
    assert response.status_code == 200, response.text
    rows = response.json()["predictions"]
    assert [r["label"] for r in rows] == [3, 8] and [r["seed"] for r in rows] == [7, 7]
    images = [decode_png_base64(r["image"]) for r in rows]
    assert all(img.shape == (28, 28) for img in images)
    # Same seed and label, same image.
    again = invoke(served_cgan, {"dataframe_records": [{"label": 3, "seed": 7}]}).json()
    assert again["predictions"][0]["image"] == rows[0]["image"]

    bad = [
        ({"dataframe_records": [{"label": 12, "seed": 1}]}, "label 12 is out of range"),
        ({"dataframe_records": [{"label": 2.5}]}, "label 2.5 is not a whole number"),
        ({"dataframe_records": [{"label": "x"}]}, "label"),
        ({"dataframe_records": [{"seed": 4}]}, "label"),
        ("this is not json", ""),
    ]
    for payload, message in bad:
        response = invoke(served_cgan, payload)
        assert 400 <= response.status_code < 500, (payload, response.status_code, response.text)
        assert message in response.text, (payload, response.text)
    # The server keeps serving after bad requests.
    assert invoke(served_cgan, good).status_code == 200


def test_python_callers_load_the_champion_and_pass_integer_labels(served_project):
    """``mlflow.pyfunc.load_model(...).predict`` with the integer column a user writes first;
    fractional, NaN, infinite and out-of-range labels are refused naming the row."""
    import math

    import mlflow
    import pandas as pd
    from mlflow.exceptions import MlflowException

    mlflow.set_tracking_uri(f"sqlite:///{served_project / 'mlflow.db'}")
    model = mlflow.pyfunc.load_model("models:/condgen-cgan@champion")
    answer = model.predict(pd.DataFrame({"label": [3, 7], "seed": [1, 1]}))
    assert answer["label"].tolist() == [3, 7] and answer["seed"].tolist() == [1, 1]
    floats = model.predict(pd.DataFrame({"label": [3.0], "seed": [1.0]}))
    assert floats["image"][0] == answer["image"][0]
    for label, message in [
        (2.5, "row 1: label 2.5 is not a whole number"),
        (math.nan, "row 1: label nan is not a whole number"),
        (math.inf, "row 1: label inf is not a whole number"),
        (10, "row 1: label 10 is out of range"),
        (-1, "row 1: label -1 is out of range"),
    ]:
        with pytest.raises(MlflowException, match=message):
            model.predict(pd.DataFrame({"label": [4, label]}))


def condgen(args: str, project: Path) -> subprocess.CompletedProcess:
    return run([str(BIN / "condgen"), *args.split()], project)


def test_cli_models_lists_champions_versions_and_history(project):
    registrations = {
        m: json.loads((project / f"reports/{m}/registration.json").read_text()) for m in MODELS
    }
    listed = {r["model"]: r for r in json.loads(condgen("models --json", project).stdout)}
    table = condgen("models", project).stdout.splitlines()
    assert table[0].split() == [
        "model",
        "champion",
        "versions",
        "metric",
        "value",
        "data",
        "commit",
    ]
    import mlflow

    client = mlflow.MlflowClient(f"sqlite:///{project / 'mlflow.db'}")
    for model, registration in registrations.items():
        row = listed[f"condgen-{model}"]
        assert row["versions"] == registration["version"]
        # (Other tests of this project move the alias by hand: the store is the truth.)
        champion = client.get_registered_model(f"condgen-{model}").aliases.get("champion")
        assert row["champion"] == (int(champion) if champion else None)
        assert row["primary_metric"] == registration["primary_metric"]
        if row["champion"] == registration["version"]:
            assert row["value"] == pytest.approx(registration["value"])  # a number, not text
        line = next(t for t in table if t.startswith(f"condgen-{model} "))
        champion = "-" if row["champion"] is None else f"v{row['champion']}"
        assert line.split()[1:3] == [champion, str(row["versions"])], line
    history = json.loads(condgen("models gan --json", project).stdout)["history"]
    assert [h["version"] for h in history] == list(range(1, registrations["gan"]["version"] + 1))
    assert history[-1]["reason"] == registrations["gan"]["reason"]
    text = condgen("models gan", project).stdout
    assert registrations["gan"]["reason"] in text


def test_cli_generate_from_the_registry(served_project, tmp_path):
    project = served_project
    out = tmp_path / "digits.png"
    result = condgen(f"generate --model cgan --label 3 -n 6 --seed 0 -o {out}", project)
    # Nothing but the answer: no TensorFlow start-up lines, no warnings a user cannot act on.
    assert result.stderr == "", result.stderr
    from PIL import Image

    with Image.open(out) as image:
        assert image.size[0] > 3 * 28 and image.size[1] > 2 * 28
    failed = subprocess.run(
        [str(BIN / "condgen"), "generate", "--model", "cgan", "-n", "2", "-o", str(out)],
        cwd=project,
        env=project_env(project),
        capture_output=True,
        text=True,
    )
    assert failed.returncode == 2 and "--label is required" in failed.stderr


def model_digests(project: Path) -> dict[str, str]:
    """A hash of every trained model's weights (the .keras files carry their save date)."""
    from tests.conftest import _weights_digest

    return {
        str(path.relative_to(project)): _weights_digest(path)
        for path in sorted((project / "models").rglob("*.keras"))
    }


def test_forced_rerun_gives_identical_weights_and_metrics_and_keeps_the_champion(project):
    first, weights = metrics_of(project), model_digests(project)
    assert len(weights) >= 9  # evaluator, segmenters, 3 MNIST generators, Pix2Pix, CycleGAN x 2
    for model in MNIST:
        assert json.loads((project / f"models/{model}/run.json").read_text())["steps"] == 20
    run([str(BIN / "dvc"), "repro", "--force"], project, timeout=1800)  # all 30 stages again
    assert metrics_of(project) == first
    assert model_digests(project) == weights
    for model in MODELS:
        registration = json.loads((project / f"reports/{model}/registration.json").read_text())
        # Re-prepared data, retrained evaluator and segmenters: the same bytes and weights.
        assert registration["version"] == 2 and registration["promoted"] is False
        assert registration["evaluated_on"]["data_md5"] != "unknown"
        if eligible(project, model):
            # So the versions are compared; an equal score does not beat the champion.
            assert registration["champion_version"] == 1
            assert "does not beat champion v1" in registration["reason"], registration["reason"]
        else:
            assert "not eligible" in registration["reason"], registration["reason"]


def test_cli_generate_through_the_server(served_cgan, project, tmp_path):
    out = tmp_path / "served.png"
    condgen(f"generate --model cgan --label 5 -n 4 --seed 1 --url {served_cgan} -o {out}", project)
    assert out.stat().st_size > 0


def test_served_pix2pix_translates_any_size_and_refuses_non_images(served_pix2pix, project):
    import base64

    from condgen.facades import scenes as synthetic
    from condgen.serving.requests import png_base64

    label_map = synthetic.label_map(synthetic.sample_scene(3, 48))  # not the model's 32 px
    good = {"dataframe_records": [{"image": png_base64(label_map)}]}
    response = invoke(served_pix2pix, good)
    assert response.status_code == 200, response.text
    row = response.json()["predictions"][0]
    assert (row["width"], row["height"]) == (48, 48)
    assert decode_png_base64(row["image"]).shape == (48, 48, 3)
    assert invoke(served_pix2pix, good).json()["predictions"][0]["image"] == row["image"]

    not_png = base64.b64encode(b"GIF89a but not really an image").decode()
    bad = [
        ({"dataframe_records": [{"image": not_png}]}, "not an image file"),
        ({"dataframe_records": [{"image": "%%%"}]}, "not valid base64"),
        ({"dataframe_records": [{"seed": 1}]}, "image"),
        ({"dataframe_records": [{"image": png_base64(label_map[:1, :1])}]}, "is 1x1 px"),
        (
            {"dataframe_records": [{"image": png_base64(np.zeros((5000, 5000), np.uint8))}]},
            "is 5000x5000 px; shrink it",
        ),
        ({"dataframe_records": [{"image": png_base64(label_map), "seed": 2.5}]}, "seed 2.5"),
    ]
    for payload, message in bad:
        response = invoke(served_pix2pix, payload)
        assert 400 <= response.status_code < 500, (payload, response.status_code, response.text)
        assert message in response.text, (payload, response.text)
    assert invoke(served_pix2pix, good).status_code == 200


def test_cli_translate_from_the_registry(served_project, tmp_path):
    project = served_project
    from PIL import Image

    from condgen.facades import scenes as synthetic

    source = tmp_path / "labels.png"
    Image.fromarray(synthetic.label_map(synthetic.sample_scene(5, 40))).save(source)
    out = tmp_path / "facade.png"
    condgen(f"translate --model pix2pix {source} -o {out}", project)
    with Image.open(out) as image:
        assert image.size == (40, 40) and image.mode == "RGB"
    (tmp_path / "notes.png").write_text("not an image")
    failed = subprocess.run(
        [str(BIN / "condgen"), "translate", "--model", "pix2pix", str(tmp_path / "notes.png")],
        cwd=project,
        env=project_env(project),
        capture_output=True,
        text=True,
    )
    assert failed.returncode == 2 and "notes.png" in failed.stderr


def test_served_cyclegan_translates_both_ways_and_refuses_bad_requests(served_cyclegan, project):
    from condgen.facades import scenes as synthetic
    from condgen.serving.requests import png_base64

    day, night = synthetic.generate_day_night(1, 40, 7)  # not the model's 32 px
    rows = [
        {"image": png_base64(day[0]), "direction": "a2b"},
        {"image": png_base64(night[0]), "direction": "b2a"},
        {"image": png_base64(day[0]), "direction": "b2a"},
    ]
    response = invoke(served_cyclegan, {"dataframe_records": rows})
    assert response.status_code == 200, response.text
    answers = response.json()["predictions"]
    images = [decode_png_base64(a["image"]) for a in answers]
    assert all(image.shape == (40, 40, 3) for image in images)
    assert not np.array_equal(images[0], images[2])  # the direction picks the generator
    again = invoke(served_cyclegan, {"dataframe_records": rows[:1]}).json()["predictions"]
    assert again[0]["image"] == answers[0]["image"]  # no randomness, no batch effect

    bad = [
        ({"dataframe_records": [{"image": png_base64(day[0])}]}, "direction"),
        (
            {"dataframe_records": [{"image": png_base64(day[0]), "direction": "sideways"}]},
            "'sideways' is not one of a2b, b2a",
        ),
        ({"dataframe_records": [{"image": "%%%", "direction": "a2b"}]}, "not valid base64"),
    ]
    for payload, message in bad:
        response = invoke(served_cyclegan, payload)
        assert 400 <= response.status_code < 500, (payload, response.status_code, response.text)
        assert message in response.text, (payload, response.text)
    assert invoke(served_cyclegan, {"dataframe_records": rows[:1]}).status_code == 200


def test_cli_translate_cyclegan_needs_a_direction(served_project, tmp_path):
    project = served_project
    from PIL import Image

    from condgen.facades import scenes as synthetic

    day, _ = synthetic.generate_day_night(1, 36, 9)
    source = tmp_path / "day.png"
    Image.fromarray(day[0]).save(source)
    out = tmp_path / "night.png"
    condgen(f"translate --model cyclegan --direction a2b {source} -o {out}", project)
    with Image.open(out) as image:
        assert image.size == (36, 36) and image.mode == "RGB"
    failed = subprocess.run(
        [str(BIN / "condgen"), "translate", "--model", "cyclegan", str(source)],
        cwd=project,
        env=project_env(project),
        capture_output=True,
        text=True,
    )
    assert failed.returncode == 2 and "--direction a2b or b2a" in failed.stderr


def test_demo_page_in_a_real_browser(served_project, tmp_path):
    """`condgen demo` in headless Chromium: the page lists the champions, shows ten digits,
    round-trips an uploaded label map and photo, stylises it, and answers a bad upload with a
    message on the page (which keeps working)."""
    from PIL import Image
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select, WebDriverWait

    from condgen.facades import scenes as synthetic
    from tests import browser

    assert browser.missing() is None, browser.missing()
    labels = tmp_path / "labels.png"
    Image.fromarray(synthetic.label_map(synthetic.sample_scene(7, 48))).save(labels)
    photo = tmp_path / "photo.jpg"
    Image.fromarray(np.load(served_project / "data/unpaired/test.npz")["a"][0]).save(photo)
    notes = tmp_path / "notes.png"
    notes.write_text("a shopping list, not an image")

    port = free_port()
    command = [str(BIN / "condgen"), "demo", "--port", str(port)]
    url = f"http://127.0.0.1:{port}/"
    with (
        browser.server(command, url, served_project, project_env(served_project)),
        browser.chrome() as page,
    ):
        wait = WebDriverWait(page, 240)
        page.get(url)
        wait.until(lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-ready"))
        models = page.find_element(By.ID, "models").text
        assert "condgen-cgan champion v1" in models, models

        Select(page.find_element(By.ID, "digit-label")).select_by_value("3")
        page.find_element(By.ID, "generate").click()
        wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#digits img")) == 10)
        assert page.find_element(By.ID, "digits-by").text == "made by condgen-cgan v1"
        sizes = page.execute_script(
            "return [...document.querySelectorAll('#digits img')].map(i => i.naturalWidth)"
        )
        assert sizes == [28] * 10

        def shown(element_id: str, by: str):
            def ready(d):
                src = d.find_element(By.ID, element_id).get_attribute("src") or ""
                text = d.find_element(By.ID, by).text
                error = d.find_element(By.ID, element_id.split("-")[0] + "-error").text
                assert not error, error
                return src.startswith("data:image/png") and text.startswith("made by")

            return ready

        page.find_element(By.ID, "labels-file").send_keys(str(labels))
        page.find_element(By.ID, "translate-labels").click()
        wait.until(shown("facade", "facade-by"))
        assert page.find_element(By.ID, "facade-by").text == "made by condgen-pix2pix v1"
        width = page.execute_script("return document.getElementById('facade').naturalWidth")
        assert width == 48  # the upload's size, as the served model answers

        page.find_element(By.ID, "labels-file").send_keys(str(notes))
        page.find_element(By.ID, "translate-labels").click()
        wait.until(lambda d: d.find_element(By.ID, "facade-error").text)
        error = page.find_element(By.ID, "facade-error").text
        assert "the upload is not an image file" in error and "PNG or JPEG" in error, error
        page.find_element(By.ID, "random-scene").click()  # the page still works
        page.find_element(By.ID, "translate-labels").click()
        wait.until(lambda d: not d.find_element(By.ID, "facade-error").text)

        page.find_element(By.ID, "photo-file").send_keys(str(photo))
        page.find_element(By.ID, "translate-photo").click()
        wait.until(shown("photo-b2a", "photo-by"))
        assert page.find_element(By.ID, "photo-by").text == "made by condgen-cyclegan v1"
        assert page.find_element(By.ID, "photo-a2b").get_attribute("src").startswith("data:")
        page.find_element(By.ID, "stylize-photo").click()
        wait.until(lambda d: d.find_element(By.ID, "photo-style").get_attribute("src") or "")
        assert page.find_element(By.ID, "photo-by").text == "made by condgen-cyclegan v1"
        style_by = page.find_element(By.ID, "style-by").text
        assert style_by == "made by style transfer (vgg16-hed, 40 steps)", style_by
        assert not page.find_element(By.ID, "photo-error").text


S3_KEYS = {"access_key_id": "condgen-test", "secret_access_key": "condgen-test"}


@pytest.fixture()
def s3_endpoint():
    """A local S3-compatible server (moto) on 127.0.0.1 with an empty bucket, condgen-shelf."""
    import boto3
    from moto.server import ThreadedMotoServer

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    try:
        s3 = boto3.client(
            "s3",
            endpoint_url=endpoint,
            region_name="us-east-1",
            aws_access_key_id=S3_KEYS["access_key_id"],
            aws_secret_access_key=S3_KEYS["secret_access_key"],
        )
        s3.create_bucket(Bucket="condgen-shelf")
        yield endpoint, s3
    finally:
        server.stop()


def _add_remote(kind: str, folder: Path, tmp_path: Path, endpoint: str | None) -> None:
    """The README's `dvc remote add` for a folder or an S3 bucket (credentials kept in the
    untracked .dvc/config.local, as `--local` does)."""
    dvc = str(BIN / "dvc")
    if kind == "folder":
        run([dvc, "remote", "add", "--local", "-d", "shelf", str(tmp_path / "remote")], folder)
        return
    run([dvc, "remote", "add", "--local", "-d", "shelf", "s3://condgen-shelf/project"], folder)
    for key, value in {"endpointurl": endpoint, **S3_KEYS}.items():
        run([dvc, "remote", "modify", "--local", "shelf", key, value], folder)


@pytest.mark.parametrize("kind", ["folder", "s3"])
def test_a_dvc_remote_brings_data_and_models_to_a_clone_with_nothing_left_to_do(
    project, tmp_path, kind, request
):
    """The README's remote recipe with a local-folder remote and with an S3 bucket on a local
    S3-compatible server: `dvc push`, then in a copy that has only what git would hold,
    `dvc pull` restores every cached output and `dvc repro` re-runs no stage (only the inputs
    fingerprints, which run every time)."""
    from dvc.repo import Repo

    dvc = str(BIN / "dvc")
    endpoint, s3 = request.getfixturevalue("s3_endpoint") if kind == "s3" else (None, None)
    _add_remote(kind, project, tmp_path, endpoint)
    try:
        run([dvc, "push"], project, timeout=600)
    finally:
        run([dvc, "remote", "remove", "--local", "shelf"], project)
    clone = tmp_path / "clone"
    shutil.copytree(
        project,
        clone,
        ignore=shutil.ignore_patterns(
            "cache", "tmp", "mlflow.db", "mlartifacts", "checkpoints", "config.local"
        ),
    )
    cached = [out for out in Repo(str(clone)).index.outs if out.use_cache]
    assert len(cached) >= 10
    if s3 is not None:  # the files went through the S3 protocol into the bucket
        stored = s3.list_objects_v2(Bucket="condgen-shelf", Prefix="project/")
        assert stored["KeyCount"] >= len(cached)
    for out in cached:  # what git does not hold: the cached outputs
        path = Path(out.fs_path)
        shutil.rmtree(path) if path.is_dir() else path.unlink()
    _add_remote(kind, clone, tmp_path, endpoint)
    run([dvc, "pull"], clone, timeout=600)
    for out in cached:
        assert Path(out.fs_path).exists(), out
    repro = run([dvc, "repro"], clone, timeout=600).stdout
    ran = re.findall(r"Running stage '([^']+)'", repro)
    assert set(ran) <= {"inputs"}, ran
    assert model_digests(clone) == model_digests(project)
