"""Benchmark: the wall time of every stage of a `dvc repro`, from a fresh clone or in place.

DVC runs the stages one after another and announces each ("Running stage 'train@gan':"), so
a stage's wall time is the time from its announcement to the next one (or to the end); it
includes the stage process's start-up (Python, TensorFlow, MLflow imports) and DVC's own
bookkeeping after it. The output is streamed through unchanged, then a table follows.

Usage:
    python benchmarks/stage_times.py --clone .   # git clone into a temporary folder, then
                                                 # `make install` and `dvc repro` there
    python benchmarks/stage_times.py             # `dvc repro` in the current project
    python benchmarks/stage_times.py --clone . --keep /tmp/where -- train@gan
Numbers describe this machine and its load at the time; never asserted in tests.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

STAGE = re.compile(r"^Running stage '([^']+)'")


def timed_repro(project: Path, targets: list[str]) -> tuple[list[tuple[str, float]], float]:
    """Run `dvc repro targets` in ``project``, echoing its output; per-stage seconds, total."""
    env = {**os.environ, "PATH": f"{project / '.venv' / 'bin'}{os.pathsep}{os.environ['PATH']}"}
    start = time.perf_counter()
    proc = subprocess.Popen(
        ["dvc", "repro", *targets],
        cwd=project,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        bufsize=1,
    )
    stages: list[tuple[str, float]] = []
    current, since = "(dvc start-up)", start
    assert proc.stdout is not None
    for line in proc.stdout:
        sys.stdout.write(line)
        match = STAGE.match(line)
        if match:
            now = time.perf_counter()
            stages.append((current, now - since))
            current, since = match.group(1), now
    proc.wait()
    end = time.perf_counter()
    stages.append((current, end - since))
    if proc.returncode != 0:
        raise SystemExit(f"dvc repro failed with exit code {proc.returncode}")
    return stages, end - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clone", help="git clone this repository into a fresh folder first")
    parser.add_argument("--keep", type=Path, help="clone into this folder (default: temporary)")
    parser.add_argument("targets", nargs="*", help="dvc repro targets (default: all)")
    args = parser.parse_args()

    project = Path.cwd()
    install = None
    if args.clone:
        project = args.keep or Path(tempfile.mkdtemp(prefix="condgen-stage-times-"))
        subprocess.run(["git", "clone", "--quiet", args.clone, str(project)], check=True)
        start = time.perf_counter()
        subprocess.run(["make", "install"], cwd=project, check=True)
        install = time.perf_counter() - start
    stages, total = timed_repro(project, args.targets)

    print(f"\nstage wall times in {project}:")
    for name, seconds in stages:
        print(f"  {name:32} {seconds:8.1f} s")
    if install is not None:
        print(f"  {'(make install)':32} {install:8.1f} s   (not part of dvc repro)")
    print(f"  {'dvc repro in all':32} {total:8.1f} s = {total / 60:.1f} min")


if __name__ == "__main__":
    main()
