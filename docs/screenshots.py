"""Take the README's screenshots of the MLflow UI and the demo page from a real project.

    python docs/screenshots.py --project . --out docs/img

The project must have run its pipeline (``make pipeline``). The script starts ``mlflow ui`` and
``condgen demo`` on free ports of 127.0.0.1, drives headless Chromium through them (Debian's
chromium and chromedriver: ``make services``) and writes:

- ``mlflow_runs.png``: the cGAN experiment's runs with their scores as columns;
- ``mlflow_run.png``: the cGAN evaluation run's sample grid;
- ``mlflow_curves.png``: the cGAN training run's loss curves;
- ``mlflow_model.png``: the registered cGAN model, its description and champion;
- ``demo.png``: the demo page after asking for digits, a facade and a night photo.
"""

from __future__ import annotations

import argparse
import socket
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests import browser  # noqa: E402

BIN = Path(sys.executable).parent
# The scores shown as columns of the runs table.
COLUMNS = ("fid_mnist", "fid_mnist_vs_best_baseline", "label_accuracy", "g_loss")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def settle(page, seconds: float = 4.0) -> None:
    """Let the page's scripts fetch and draw (the UI has no single 'done' signal)."""
    time.sleep(seconds)


def element(page, xpath: str, timeout: float = 90.0):
    """The element at ``xpath`` once it is there and clickable (the UI loads slowly on a busy
    machine)."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(page, timeout).until(ec.element_to_be_clickable((By.XPATH, xpath)))


def click_text(page, text: str) -> None:
    """Click the innermost element whose whole text is ``text``."""
    element(page, f"(//*[normalize-space(.)='{text}'])[last()]").click()


def close_assistant(page) -> None:
    from selenium.webdriver.common.by import By

    for button in page.find_elements(
        By.CSS_SELECTOR, "[data-component-id='mlflow.assistant.chat_panel.close']"
    ):
        button.click()


def mlflow_shots(page, ui: str, project: Path, out: Path) -> None:
    import mlflow
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    client = mlflow.MlflowClient(f"sqlite:///{project / 'mlflow.db'}")
    experiment = client.get_experiment_by_name("condgen-cgan").experiment_id
    runs = client.search_runs([experiment], order_by=["attributes.start_time DESC"])
    stage = {r.data.tags.get("stage"): r.info.run_id for r in reversed(runs)}
    base = f"{ui}#/experiments/{experiment}"

    page.get(f"{base}/runs?workflowType=machine_learning")
    element(page, "//button[normalize-space()='Columns']")
    settle(page, 2)
    close_assistant(page)
    element(page, "//button[normalize-space()='Columns']").click()
    for column in COLUMNS:
        search = page.find_element(By.CSS_SELECTOR, "input[placeholder='Search columns']")
        search.send_keys(Keys.CONTROL, "a")
        search.send_keys(column)
        # The search marks the match in <strong>: the row is the innermost element holding it.
        element(page, f"(//*[normalize-space(.)='{column}'][.//strong])[last()]").click()
    search.send_keys(Keys.ESCAPE)
    # Expand the training run: its evaluation and registration runs are nested under it.
    row = "//*[normalize-space(.)='cgan-train']/ancestor::*[@role='row'][1]"
    element(page, f"{row}//button[contains(@class, 'btn-link')]").click()
    settle(page)
    page.save_screenshot(str(out / "mlflow_runs.png"))

    page.get(f"{base}/runs/{stage['evaluate']}/artifacts?workflowType=machine_learning")
    settle(page, 6)
    close_assistant(page)
    click_text(page, "evaluation")
    settle(page, 2)
    click_text(page, "grid.png")
    settle(page, 4)
    page.save_screenshot(str(out / "mlflow_run.png"))

    page.get(f"{base}/runs/{stage['train']}/model-metrics?workflowType=machine_learning")
    settle(page, 8)
    close_assistant(page)
    page.save_screenshot(str(out / "mlflow_curves.png"))

    page.get(f"{ui}#/models/condgen-cgan?workflowType=machine_learning")
    settle(page, 6)
    close_assistant(page)
    page.save_screenshot(str(out / "mlflow_model.png"))


def demo_shot(page, url: str, project: Path, out: Path) -> None:
    import numpy as np
    from PIL import Image
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select, WebDriverWait

    wait = WebDriverWait(page, 300)
    photo = out / ".demo-photo.png"
    Image.fromarray(np.load(project / "data/unpaired/test.npz")["a"][0]).save(photo)
    try:
        page.get(url)
        wait.until(lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-ready"))
        Select(page.find_element(By.ID, "digit-label")).select_by_value("7")
        page.find_element(By.ID, "generate").click()
        wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#digits img")) == 10)
        page.find_element(By.ID, "translate-labels").click()
        wait.until(lambda d: d.find_element(By.ID, "facade-by").text)
        page.find_element(By.ID, "photo-file").send_keys(str(photo))
        page.find_element(By.ID, "translate-photo").click()
        wait.until(lambda d: d.find_element(By.ID, "photo-by").text)
        page.find_element(By.ID, "stylize-photo").click()
        wait.until(lambda d: d.find_element(By.ID, "photo-style").get_attribute("src"))
        settle(page, 1)
        height = page.execute_script("return document.documentElement.scrollHeight")
        page.set_window_size(1100, height + 160)  # the window's own frame takes some of it
        page.execute_script("window.scrollTo(0, 0)")
        settle(page, 1)
        page.save_screenshot(str(out / "demo.png"))
    finally:
        photo.unlink(missing_ok=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--project", type=Path, default=ROOT)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "img")
    args = parser.parse_args()
    project, out = args.project.resolve(), args.out.resolve()
    if not (project / "mlflow.db").is_file():
        sys.exit(f"{project} has no mlflow.db: run `make pipeline` there first")
    if browser.missing():
        sys.exit(browser.missing())
    out.mkdir(parents=True, exist_ok=True)
    ui_port, demo_port = free_port(), free_port()
    store = f"sqlite:///{project / 'mlflow.db'}"
    mlflow_ui = [str(BIN / "mlflow"), "ui", "--backend-store-uri", store, "--port", str(ui_port)]
    demo = [str(BIN / "condgen"), "demo", "--port", str(demo_port)]
    with (
        browser.server(mlflow_ui, f"http://127.0.0.1:{ui_port}/", project) as ui,
        browser.server(demo, f"http://127.0.0.1:{demo_port}/", project) as demo_url,
        browser.chrome(1700, 800) as page,
    ):
        mlflow_shots(page, ui, project, out)
        demo_shot(page, demo_url, project, out)
    print(f"wrote the screenshots to {out}")


if __name__ == "__main__":
    main()
