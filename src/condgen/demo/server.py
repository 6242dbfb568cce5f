"""``condgen demo``: one local web page that tries the registered champions.

The page (``page.html``) asks a small JSON API: ``GET /api/models`` (each model's champion
version, or why it has none), ``POST /api/generate`` (digits), ``POST /api/translate`` (an
uploaded image through Pix2Pix or one CycleGAN direction), ``POST /api/stylize`` (a short style
transfer of an upload) and ``GET /api/labelmap`` (a random synthetic label map to start from).
Models are the same MLflow pyfunc models ``mlflow models serve`` serves, loaded from the
registry on first use, so the page's answers and their checks are those of the served models;
each answer names the model version that made it. A bad request or upload is answered with
status 400 and ``{"error": "..."}``, which the page shows.
"""

import base64
import threading
from pathlib import Path
from typing import Any

from condgen import families
from condgen.core import tracking

PAGE = Path(__file__).with_name("page.html")
# A demo answer is interactive: at most this many digits, style steps and pixels.
MAX_DIGITS = 40
STYLE_STEPS = 40
STYLE_SIZE = 96


class DemoError(ValueError):
    """A bad request: the message says what was wrong and what to do (shown on the page)."""


class Champions:
    """The champions of the registry at ``store``, each loaded once, on first use."""

    def __init__(self, store: str):
        import mlflow

        self.store = store
        self.client = mlflow.MlflowClient(store)
        self.loaded: dict[str, tuple[Any, int]] = {}
        self.lock = threading.Lock()

    def versions(self) -> dict[str, dict]:
        """Model -> {"version": n} or {"error": why there is none}."""
        import mlflow

        answer = {}
        for model in families.MODELS:
            name = tracking.registered_name(model)
            try:
                version = self.client.get_model_version_by_alias(name, "champion")
                answer[model] = {"version": int(version.version)}
            except mlflow.exceptions.MlflowException:
                answer[model] = {
                    "error": f"{name} has no champion yet: run the pipeline (make pipeline), "
                    f"or move the alias to a version (condgen models {model})"
                }
        return answer

    def get(self, model: str) -> tuple[Any, int]:
        """(pyfunc model, version) of ``model``'s champion."""
        import mlflow

        if model not in families.MODELS:
            raise DemoError(f"unknown model {model!r}: one of {', '.join(families.MODELS)}")
        with self.lock:
            if model not in self.loaded:
                known = self.versions()[model]
                if "error" in known:
                    raise DemoError(known["error"])
                mlflow.set_tracking_uri(self.store)
                uri = f"models:/{tracking.registered_name(model)}/{known['version']}"
                self.loaded[model] = (mlflow.pyfunc.load_model(uri), known["version"])
            return self.loaded[model]

    def predict(self, model: str, rows: dict) -> tuple[Any, int]:
        import mlflow
        import pandas as pd

        pyfunc, version = self.get(model)
        try:
            return pyfunc.predict(pd.DataFrame(rows)), version
        except mlflow.exceptions.MlflowException as err:
            raise DemoError(err.message) from err


def _whole(body: dict, key: str, lo: int, hi: int, default: int | None = None) -> int:
    value = body.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise DemoError(f"{key} must be a whole number from {lo} to {hi} (got {value!r})")
    return value


def _image_text(body: dict) -> str:
    """The upload as plain base64 (a data URL's header is dropped)."""
    text = body.get("image")
    if not isinstance(text, str) or not text:
        raise DemoError("choose an image file (PNG or JPEG) first")
    return text.split(",", 1)[1] if text.startswith("data:") else text


def generate(champions: Champions, body: dict) -> dict:
    model = body.get("model")
    if model not in [m.name for m in families.models_of("mnist")]:
        raise DemoError(f"model must be gan, cgan or dcgan (got {model!r})")
    n = _whole(body, "n", 1, MAX_DIGITS, 10)
    seed = _whole(body, "seed", 0, 2**31 - 1 - MAX_DIGITS, 0)
    rows: dict = {"seed": [seed + i for i in range(n)]}
    if families.MODELS[model].conditional:
        rows["label"] = [_whole(body, "label", 0, 9)] * n
    frame, version = champions.predict(model, rows)
    return {"model": model, "version": version, "images": frame["image"].tolist()}


def translate(champions: Champions, body: dict) -> dict:
    model = body.get("model")
    row = families.MODELS.get(model)
    if row is None or row.family == "mnist":
        raise DemoError(f"model must be pix2pix or cyclegan (got {model!r})")
    rows: dict = {"image": [_image_text(body)]}
    if row.directions:
        direction = body.get("direction")
        if direction not in row.directions:
            raise DemoError(f"direction must be one of {', '.join(row.directions)}")
        rows["direction"] = [direction]
    try:
        frame, version = champions.predict(model, rows)
    except DemoError as err:
        # The served model numbers request rows; the page sends one upload.
        raise DemoError(str(err).replace("row 0: image", "the upload", 1)) from err
    return {"model": model, "version": version, "image": frame["image"][0]}


def style_config():
    """The project's style params, shortened to an interactive answer."""
    from condgen.core.params import build, read_params, section
    from condgen.style.config import StyleConfig

    raw = dict(section(read_params(tracking.project_root() / "params.yaml"), "style"))
    raw.update(steps=STYLE_STEPS, image_size=STYLE_SIZE)
    return build(StyleConfig, raw, "style")


class Stylist:
    """Short style transfers with the pipeline's backbone (built once) and style images."""

    def __init__(self) -> None:
        self.config = style_config()
        self.styles = {pair.name: pair.style for pair in self.config.pairs}
        self.extractor = None
        self.lock = threading.Lock()

    def run(self, body: dict) -> dict:
        from condgen.core.images import unit_to_uint8
        from condgen.serving.requests import RequestError, image_from_bytes, png_base64
        from condgen.style.inputs import to_style_input
        from condgen.style.transfer import load_image, make_extractor, transfer

        style_name = body.get("style")
        if style_name not in self.styles:
            raise DemoError(f"style must be one of {', '.join(self.styles)} (got {style_name!r})")
        try:
            raw = base64.b64decode(_image_text(body), validate=True)
        except ValueError as err:
            raise DemoError(f"the upload is not valid base64 ({err})") from err
        try:
            pixels = image_from_bytes(raw, "the upload", "choose a PNG or JPEG file")
        except RequestError as err:
            raise DemoError(str(err)) from err
        content = to_style_input(pixels, self.config.image_size)
        style = load_image(self.styles[style_name], self.config.image_size)
        with self.lock:
            if self.extractor is None:
                self.extractor = make_extractor(self.config)
            image, history = transfer(self.config, self.extractor, content, style, seed=0)
        return {
            "model": f"style transfer ({self.config.backbone}, {len(history) - 1} steps)",
            "version": None,
            "image": png_base64(unit_to_uint8(image)),
        }


def label_map(seed: int) -> dict:
    from condgen.facades import scenes
    from condgen.serving.requests import png_base64

    scene = scenes.sample_scene(seed, 64)
    palette = {
        name: "#" + bytes(int(c) for c in rgb).hex()
        for name, rgb in zip(scenes.CLASSES, scenes.PALETTE, strict=True)
    }
    return {"image": png_base64(scenes.label_map(scene)), "seed": seed, "palette": palette}


def create_app(store: str):
    """The FastAPI app of the demo for the MLflow store ``store``."""
    from fastapi import FastAPI, Request
    from fastapi.responses import HTMLResponse, JSONResponse
    from starlette.concurrency import run_in_threadpool

    app = FastAPI(title="condgen demo", docs_url=None, redoc_url=None)
    champions = Champions(store)
    stylist: list[Stylist] = []

    def answer(function, *args):
        from condgen.core.params import ConfigError
        from condgen.serving.requests import RequestError
        from condgen.style.model import StyleError

        try:
            return JSONResponse(function(*args))
        except (DemoError, ConfigError, RequestError, StyleError) as err:
            return JSONResponse({"error": str(err)}, status_code=400)

    async def body_of(request: Request) -> dict:
        try:
            body = await request.json()
        except ValueError as err:
            raise DemoError("the request body must be JSON") from err
        if not isinstance(body, dict):
            raise DemoError("the request body must be a JSON object")
        return body

    @app.get("/", response_class=HTMLResponse)
    def page() -> str:
        return PAGE.read_text(encoding="utf8")

    @app.get("/api/models")
    def models():
        return answer(champions.versions)

    @app.get("/api/styles")
    def styles():
        # The style images of the pipeline's pairs, by pair name.
        return answer(lambda: {"styles": [pair.name for pair in style_config().pairs]})

    @app.get("/api/labelmap")
    def labelmap(seed: int = 0):
        return answer(label_map, seed)

    def post(path: str, function):
        async def endpoint(request: Request):
            try:
                body = await body_of(request)
            except DemoError as err:
                return JSONResponse({"error": str(err)}, status_code=400)
            # The models run in a worker thread: the page stays answered meanwhile.
            return await run_in_threadpool(answer, function, body)

        app.post(path)(endpoint)

    post("/api/generate", lambda body: generate(champions, body))
    post("/api/translate", lambda body: translate(champions, body))

    def stylize(body: dict) -> dict:
        if not stylist:
            stylist.append(Stylist())
        return stylist[0].run(body)

    post("/api/stylize", stylize)
    return app


def serve(store: str, host: str, port: int) -> None:
    import uvicorn

    print(f"condgen demo on http://{host}:{port}/ (store {store}); Ctrl-C stops it", flush=True)
    uvicorn.run(create_app(store), host=host, port=port, log_level="warning")
