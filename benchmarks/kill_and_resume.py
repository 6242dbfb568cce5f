"""Kill pipeline stages with SIGKILL at seeded random moments, re-run them, compare the outputs.

The promise checked: a stage killed at any moment and run again by ``dvc repro`` ends with the
outputs an uninterrupted run has (weights bit for bit, metrics and grids byte for byte).

    python benchmarks/kill_and_resume.py --project /tmp/clone --seed 0
    python benchmarks/kill_and_resume.py --project /tmp/clone \\
        --stages train@cgan train_pix2pix train_cyclegan

Run it in a project where ``dvc repro`` has finished (a fresh clone after ``make pipeline``, or
a copy with tiny params): each stage is first re-run uninterrupted (``dvc repro --force -s``),
which gives its reference outputs and its duration; then run again and killed (the whole
process group) at a uniformly random moment of that duration (training stages: between their
first backup and the end, as the uninterrupted run timed them, so that the kill falls into a
later epoch), then ``dvc repro -s`` finishes it and its outputs are compared with the
reference. A kill that falls while ``dvc`` rewrites dvc.lock
leaves that file empty (DVC writes it in place); the script then removes it, as
docs/REPRODUCIBILITY.md tells a user to, and says so. Registration outputs name a new MLflow
version on every run, so they are reported but not compared; a run.json is compared without
its MLflow run id and training time. Prints one line per stage and a summary.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import yaml


def stage_names(project: Path) -> list[str]:
    """Every stage of dvc.yaml in file order, ``foreach`` expanded."""
    spec = yaml.safe_load((project / "dvc.yaml").read_text())["stages"]
    names = []
    for name, stage in spec.items():
        if "foreach" in stage:
            names.extend(f"{name}@{item}" for item in stage["foreach"])
        else:
            names.append(name)
    return names


def stage_outputs(project: Path, stage: str) -> list[Path]:
    """The files a stage writes (its outs, metrics and plots, folders expanded)."""
    name, _, item = stage.partition("@")
    body = yaml.safe_load((project / "dvc.yaml").read_text())["stages"][name]
    if item:
        body = yaml.safe_load(yaml.safe_dump(body["do"]).replace("${item}", item))
    paths = []
    for key in ("outs", "metrics", "plots"):
        for entry in body.get(key, []):
            path = project / (entry if isinstance(entry, str) else next(iter(entry)))
            paths.extend(
                sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
            )
    return paths


# Facts of one session, not results: the MLflow run a training logged into, and its time.
SESSION_KEYS = ("run_id", "train_seconds_last_session")


def digest(path: Path) -> str:
    """Weights for a Keras file (it carries its save date), a run.json without its session
    facts, bytes for anything else."""
    if not path.is_file():
        return "missing"
    if path.name == "run.json":
        facts = {k: v for k, v in json.loads(path.read_text()).items() if k not in SESSION_KEYS}
        return hashlib.sha256(json.dumps(facts, sort_keys=True).encode()).hexdigest()
    if path.suffix == ".keras":
        import keras

        import condgen.core.layers  # noqa: F401  (registers the custom layers for loading)

        h = hashlib.sha256()
        for w in keras.models.load_model(path, compile=False).get_weights():
            h.update(w.tobytes())
        return "weights:" + h.hexdigest()
    return hashlib.sha256(path.read_bytes()).hexdigest()


def outputs_of(project: Path, stage: str) -> dict[str, str]:
    return {str(p.relative_to(project)): digest(p) for p in stage_outputs(project, stage)}


def dvc(project: Path, *args: str) -> subprocess.Popen:
    # The stages run `python -m condgen...`: this interpreter's environment first on PATH.
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    return subprocess.Popen(
        [sys.executable, "-m", "dvc", *args],
        cwd=project,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group: the kill reaches the stage too
    )


def finish(proc: subprocess.Popen, what: str) -> None:
    _, err = proc.communicate()
    if proc.returncode != 0:
        raise SystemExit(f"{what} failed:\n{err[-3000:]}")


def lock_is_broken(project: Path) -> bool:
    """Whether dvc.lock was cut short: DVC rewrites it in place after each stage, so a kill of
    ``dvc`` itself at that moment leaves it empty or half-written."""
    lock = project / "dvc.lock"
    if not lock.is_file():
        return False
    try:
        data = yaml.safe_load(lock.read_text())
    except yaml.YAMLError:
        return True
    return not (isinstance(data, dict) and "schema" in data and "stages" in data)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--project", required=True, type=Path)
    parser.add_argument("--stages", nargs="*", help="default: every stage but inputs")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    project = args.project.resolve()
    rng = random.Random(args.seed)
    stages = args.stages or [s for s in stage_names(project) if s != "inputs"]
    results = []
    for stage in stages:
        model = stage.partition("@")[2] or stage.removeprefix("train_")
        backup = project / "checkpoints" / model / "backup.npz"
        training = stage.startswith("train@") or stage in ("train_pix2pix", "train_cyclegan")
        start = time.perf_counter()
        proc = dvc(project, "repro", "--force", "-s", stage)
        first_backup = None  # when the first backup appeared: the rest is later epochs
        while proc.poll() is None:
            if training and first_backup is None and backup.is_file():
                first_backup = time.perf_counter() - start
            time.sleep(0.05)
        finish(proc, f"{stage} (uninterrupted)")
        duration = time.perf_counter() - start
        reference = outputs_of(project, stage)

        proc = dvc(project, "repro", "--force", "-s", stage)
        began = time.perf_counter()
        if training and first_backup is not None:
            # Into a later epoch: after the first backup, before the training's end.
            while proc.poll() is None and not backup.is_file():
                time.sleep(0.05)
            wait = rng.uniform(0.0, 0.9) * (duration - first_backup)
        else:
            wait = rng.uniform(0.05, 0.9) * duration
        deadline = time.perf_counter() + wait
        while proc.poll() is None and time.perf_counter() < deadline:
            time.sleep(0.05)
        killed = proc.poll() is None
        if killed:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        at = time.perf_counter() - began
        resumed_from = backup.is_file()
        lock_lost = killed and lock_is_broken(project)
        if lock_lost:  # docs/REPRODUCIBILITY.md: remove it, dvc repro re-runs or restores
            (project / "dvc.lock").unlink()
        finish(dvc(project, "repro", "-s", stage), f"{stage} (after the kill)")
        after = outputs_of(project, stage)
        compared = {k: v for k, v in reference.items() if not k.endswith("registration.json")}
        same = all(after.get(k) == v for k, v in compared.items())
        results.append(same or not killed)
        print(
            f"{stage:28s} {duration:7.1f} s uninterrupted; "
            + (f"killed at {at:6.1f} s" if killed else "finished before the kill")
            + (" (a backup was there)" if resumed_from else "")
            + (" (dvc was writing dvc.lock: removed)" if lock_lost else "")
            + (
                f"; {len(compared)} outputs {'identical' if same else 'DIFFER'}"
                if compared
                else "; nothing to compare (each registration is a new MLflow version)"
            ),
            flush=True,
        )
        if not same:
            for key, value in compared.items():
                if after.get(key) != value:
                    print(f"    {key}: {value[:20]} -> {after.get(key, 'missing')[:20]}")
    print(f"{sum(results)} of {len(results)} stages ended as uninterrupted")
    raise SystemExit(0 if all(results) else 1)


if __name__ == "__main__":
    main()
