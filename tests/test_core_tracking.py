"""Lineage tags: the commit, and whether the code differs from it."""

import subprocess

from condgen.core import tracking


def git(root, *args):
    subprocess.run(["git", *args], cwd=root, check=True, capture_output=True)


def test_git_dirty_looks_at_the_code_only(tmp_path, monkeypatch):
    monkeypatch.setenv("CONDGEN_ROOT", str(tmp_path))
    assert tracking.git_dirty() == tracking.UNKNOWN  # not a git repository
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "model.py").write_text("x = 1\n")
    (tmp_path / "params.yaml").write_text("seed: 0\n")
    git(tmp_path, "init", "-q")
    git(tmp_path, "add", ".")
    git(tmp_path, "-c", "user.email=a@b", "-c", "user.name=n", "commit", "-qm", "first")
    assert tracking.git_dirty() == "false"
    assert len(tracking.git_commit()) == 40
    (tmp_path / "params.yaml").write_text("seed: 1\n")  # params are logged with each run
    (tmp_path / "dvc.lock").write_text("stages: {}\n")  # written while the pipeline runs
    assert tracking.git_dirty() == "false"
    (tmp_path / "src" / "model.py").write_text("x = 2\n")
    assert tracking.git_dirty() == "true"
    git(tmp_path, "checkout", "-q", "--", "src")
    (tmp_path / "src" / "new.py").write_text("y = 1\n")  # an untracked source file counts
    assert tracking.git_dirty() == "true"


def test_a_dvc_temporary_workspace_records_into_its_projects_store(tmp_path, monkeypatch):
    """`dvc exp run --queue` / `--temp` run in <project>/.dvc/tmp/exps/<run>/: the runs and
    versions go to the project's mlflow.db, not to a copy DVC deletes afterwards."""
    project = tmp_path / "project"
    workspace = project / ".dvc" / "tmp" / "exps" / "tmpab12" / "tmpcd34"
    for folder in (project, workspace):
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "dvc.yaml").write_text("stages: {}\n")
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.delenv("CONDGEN_ROOT", raising=False)
    monkeypatch.chdir(workspace)
    assert tracking.project_root() == workspace  # its own dvc.lock, params and outputs
    assert tracking.store_root() == project
    assert tracking.tracking_uri() == f"sqlite:///{project / 'mlflow.db'}"
    assert tracking.artifact_root() == project / "mlartifacts"
    monkeypatch.chdir(project)
    assert tracking.store_root() == project
