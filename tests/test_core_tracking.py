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
