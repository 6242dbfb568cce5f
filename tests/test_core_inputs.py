"""The user's own files outside the project: fingerprinted so that DVC re-runs what reads them."""

import json
import os
import subprocess
import sys

import yaml

from condgen.core.inputs import files_under, fingerprint


def test_a_folder_fingerprint_changes_with_any_file_and_only_then(tmp_path):
    folder = tmp_path / "mine"
    (folder / "train").mkdir(parents=True)
    (folder / "train" / "a.png").write_bytes(b"one")
    (folder / ".hidden").write_bytes(b"ignored")
    cache = tmp_path / "cache.json"
    first = fingerprint(files_under(folder), cache)
    assert first["files"] == 1 and first["bytes"] == 3
    assert fingerprint(files_under(folder), cache) == first
    (folder / "train" / "a.png").write_bytes(b"two")  # same size, new bytes
    os.utime(folder / "train" / "a.png", ns=(1, 1))
    edited = fingerprint(files_under(folder), cache)
    assert edited["md5"] != first["md5"]
    (folder / "test.png").write_bytes(b"x")
    assert fingerprint(files_under(folder), cache)["files"] == 2
    assert files_under(tmp_path / "absent") == []


def test_the_inputs_stage_rewrites_its_file_only_when_a_style_image_changes(tmp_path):
    style = tmp_path / "my_style.png"
    style.write_bytes(b"pretend png")
    params = {
        "style": {"pairs": [{"name": "me", "content": "skimage:chelsea", "style": str(style)}]}
    }
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))

    def stage() -> dict:
        done = subprocess.run(
            [sys.executable, "-m", "condgen.stages.inputs", "style"],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        return json.loads((tmp_path / "data/inputs/style.json").read_text())

    first = stage()
    assert first["section"] == "style" and first["files"] == 1
    written = (tmp_path / "data/inputs/style.json").stat().st_mtime_ns
    assert stage() == first
    assert (tmp_path / "data/inputs/style.json").stat().st_mtime_ns == written  # untouched
    style.write_bytes(b"another pretend png")
    assert stage()["md5"] != first["md5"]
