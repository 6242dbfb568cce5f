"""Headless Chromium (Debian's chromium and chromedriver) driven by Selenium, and a helper that
starts a project's web server (``condgen demo``, ``mlflow ui``) and waits for it.

Shared by the browser tests and ``docs/screenshots.py``. No browser is downloaded: ``make
test`` installs Debian's packages when they are missing (``make services``)."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
# This machine has no network: without these, Chromium keeps trying to reach Google's hosts.
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--hide-scrollbars",
)


def missing() -> str | None:
    """Why no browser can be started here, or None."""
    for path in (CHROMIUM, CHROMEDRIVER):
        if not Path(path).exists():
            return (
                f"{path} is missing: run `make services` (scripts/services.sh installs "
                "Debian's chromium and chromium-driver)"
            )
    return None


@contextmanager
def chrome(width: int = 1280, height: int = 900) -> Iterator:
    """A headless Chromium with an empty profile, closed on exit."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="condgen-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (*FLAGS, f"--user-data-dir={profile}", f"--window-size={width},{height}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def wait_for_http(url: str, process: subprocess.Popen, log: Path, timeout: float = 180.0) -> None:
    """Wait until ``url`` answers; fail with the server's output if it ends or never answers."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            out = log.read_text(errors="replace")[-3000:]
            raise RuntimeError(f"the server ended with {process.returncode}:\n{out}")
        try:
            with urllib.request.urlopen(url, timeout=5):
                return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.5)
    raise RuntimeError(f"{url} did not answer within {timeout:.0f} s")


@contextmanager
def server(command: list[str], url: str, cwd: Path, env: dict | None = None) -> Iterator[str]:
    """Run ``command`` (a web server) in ``cwd`` until the block ends; yields ``url``. Its
    output goes to a file (a pipe nobody reads would stop it when full)."""
    with tempfile.NamedTemporaryFile("w+", prefix="condgen-server-", suffix=".log") as log:
        process = subprocess.Popen(
            command,
            cwd=cwd,
            env={**os.environ, **(env or {})},
            stdout=log,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        try:
            wait_for_http(url, process, Path(log.name))
            yield url
        finally:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
