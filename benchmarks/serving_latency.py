"""Benchmark: latency of a served model, over real HTTP, beside the same model in-process.

Usage: python benchmarks/serving_latency.py --project . [--model cgan] [--alias champion]
    [--images 10]
    [--requests 100] [--warmup 10]

Starts `condgen serve --model <model>` (the real `mlflow models serve`) on a free port of
127.0.0.1, waits for it, sends ``--warmup`` requests, then times ``--requests`` requests of
``--images`` images each (cGAN: digits 0-9 by label; GAN/DCGAN: by seed), and prints p50, p95
and the mean in ms. Then it times the same request through the pyfunc model loaded in this
process (no HTTP, no JSON), so the share of the serving layer shows. Numbers, never asserted.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import requests

BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def rows(model: str, images: int) -> dict:
    from condgen import families

    body = {"seed": list(range(1, images + 1))}
    if families.MODELS[model].conditional:
        body["label"] = [i % 10 for i in range(images)]
    return body


def summary(name: str, seconds: list[float]) -> None:
    ms = sorted(s * 1000 for s in seconds)
    p95 = ms[min(len(ms) - 1, round(0.95 * (len(ms) - 1)))]
    print(
        f"{name}: p50 {statistics.median(ms):.1f} ms, p95 {p95:.1f} ms, "
        f"mean {statistics.fmean(ms):.1f} ms ({len(ms)} requests)",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--project", type=Path, default=Path.cwd())
    parser.add_argument("--model", default="cgan")
    parser.add_argument("--alias", default="champion")
    parser.add_argument("--images", type=int, default=10)
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--warmup", type=int, default=10)
    args = parser.parse_args()
    project = args.project.resolve()
    body = rows(args.model, args.images)
    payload = {
        "dataframe_split": {
            "columns": list(body),
            "data": [list(r) for r in zip(*body.values(), strict=True)],
        }
    }

    port = free_port()
    server = subprocess.Popen(
        [
            *(str(BIN / "condgen"), "serve", "--model", args.model, "--port", str(port)),
            *("--alias", args.alias),
        ],
        cwd=project,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        started = time.perf_counter()
        while True:
            if server.poll() is not None:
                sys.exit(f"condgen serve ended with {server.returncode}")
            try:
                if requests.get(f"{url}/ping", timeout=2).status_code == 200:
                    break
            except requests.ConnectionError:
                time.sleep(0.5)
        print(f"server up in {time.perf_counter() - started:.1f} s", flush=True)
        session = requests.Session()
        times = []
        for i in range(args.warmup + args.requests):
            t0 = time.perf_counter()
            answer = session.post(f"{url}/invocations", json=payload, timeout=60)
            elapsed = time.perf_counter() - t0
            answer.raise_for_status()
            if i >= args.warmup:
                times.append(elapsed)
        summary(f"served {args.model}, {args.images} images over HTTP", times)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=60)

    import mlflow
    import pandas as pd

    from condgen.core import tracking

    os.chdir(project)
    mlflow.set_tracking_uri(tracking.tracking_uri())
    uri = f"models:/{tracking.registered_name(args.model)}@{args.alias}"
    pyfunc = mlflow.pyfunc.load_model(uri)
    frame = pd.DataFrame(body)
    times = []
    for i in range(args.warmup + args.requests):
        t0 = time.perf_counter()
        pyfunc.predict(frame)
        if i >= args.warmup:
            times.append(time.perf_counter() - t0)
    summary(f"pyfunc {args.model}, {args.images} images in-process", times)


if __name__ == "__main__":
    main()
