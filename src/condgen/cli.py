"""condgen: draw digits, translate images and stylise photos with the registered models,
serve them over HTTP, and list the champions."""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from pathlib import Path

from condgen import families
from condgen.core.runtime import quiet_tensorflow

# Digits come from the MNIST family; images are translated by the families that take images.
DIGIT_MODELS = tuple(m.name for m in families.models_of("mnist"))
IMAGE_MODELS = tuple(m.name for m in families.MODELS.values() if m.family != "mnist")
SERVED_MODELS = tuple(families.MODELS)
CONDITIONAL_MODELS = ", ".join(m.name for m in families.MODELS.values() if m.conditional)


# The grid's pixel scale: 16 already makes a 256-digit grid 7,200 px wide.
MAX_SCALE = 16


class CliError(RuntimeError):
    """A user-facing failure with the fix in its message."""


def _check_output(path: str) -> Path:
    """``-o``'s file, checked before any model is loaded: not a folder, under folders, and of an
    image type Pillow writes."""
    from PIL import Image

    out = Path(path)
    if out.is_dir():
        raise CliError(f"-o {path}: is a folder; give a file name such as {out / 'out.png'}")
    for parent in out.parents:
        if parent.exists():
            if not parent.is_dir():
                raise CliError(f"-o {path}: {parent} is a file, not a folder")
            break
    Image.init()
    if Image.registered_extensions().get(out.suffix.lower()) not in Image.SAVE:
        raise CliError(
            f"-o {path}: {out.suffix or 'no suffix'} is not an image type; end it in .png"
        )
    return out


def _check_seed(seed: int, count: int = 1) -> None:
    """A request's seeds run from ``seed`` to ``seed + count - 1``; each must be one the model
    takes."""
    from condgen.serving.requests import MAX_SEED

    if not 0 <= seed <= MAX_SEED - count + 1:
        taken = f" (the {count} images take the seeds from it on)" if count > 1 else ""
        raise CliError(f"--seed {seed}: give 0 to {MAX_SEED - count + 1}{taken}")


def _store_uri() -> str:
    """The registry's tracking URI; outside a project, or before its first pipeline run, an
    error that says where the store is looked for (MLflow would create an empty one)."""
    from condgen.core import tracking

    if not os.environ.get("MLFLOW_TRACKING_URI"):  # the user's own store needs no project
        root = tracking.project_root()
        if not (root / "dvc.yaml").is_file():
            raise CliError(
                f"no condgen project at or above {root} (no dvc.yaml): run this inside the "
                "project folder, or set CONDGEN_ROOT=<project folder> or "
                "MLFLOW_TRACKING_URI=<store>"
            )
        root = tracking.store_root()
        if not (root / "mlflow.db").is_file():
            raise CliError(
                f"{root} has no mlflow.db yet: run `make pipeline` (or `dvc repro`) there "
                "first, or set MLFLOW_TRACKING_URI to the store that has the models"
            )
    return tracking.tracking_uri()


def _check_port_free(host: str, port: int) -> None:
    """Refuse a port another program listens on, before MLflow starts (it would fail after
    loading the model, with the reason deep in a traceback)."""
    import socket

    if not 1 <= port <= 65535:
        raise CliError(f"--port {port}: choose a port between 1 and 65535")
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as err:
        raise CliError(f"--host {host}: not an address of this machine ({err.strerror})") from err
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as err:
            raise CliError(
                f"--port {port}: cannot listen on {host}:{port} ({err.strerror}); another "
                "program (an `mlflow ui`, an earlier `condgen serve`?) may hold it: choose "
                "another with --port"
            ) from err


def _model_uri(model: str, alias: str) -> str:
    from condgen.core import tracking

    return f"models:/{tracking.registered_name(model)}@{alias}"


def _request_rows(model: str, label: int | None, n: int, seed: int | None) -> dict:
    import secrets

    first = seed if seed is not None else secrets.randbits(31)
    rows: dict = {"seed": [first + i for i in range(n)]}
    if families.MODELS[model].conditional:
        if label is None:
            raise CliError(f"--label is required for the {model} model (a digit 0-9)")
        rows["label"] = [label] * n
    elif label is not None:
        raise CliError(f"--label only applies to {CONDITIONAL_MODELS}; {model} is unconditional")
    return rows


def _predict_local(model: str, alias: str, rows: dict):
    import mlflow
    import pandas as pd

    store = _store_uri()
    mlflow.set_tracking_uri(store)
    uri = _model_uri(model, alias)
    try:
        pyfunc = mlflow.pyfunc.load_model(uri)
    except mlflow.exceptions.MlflowException as err:
        raise CliError(
            f"cannot load {uri} from {store}: {err.message.splitlines()[0]}. "
            "Run `dvc repro` first, or set MLFLOW_TRACKING_URI to the store that has it."
        ) from err
    frame = pd.DataFrame(rows)
    # Versions registered before the numbers were untyped declare double columns, and MLflow
    # will not turn an integer column into one: give each column the type the version asks for.
    from mlflow.types import DataType

    schema = pyfunc.metadata.get_input_schema()
    for spec in schema.inputs if schema is not None else []:
        if spec.name in frame.columns and spec.type == DataType.double:
            frame[spec.name] = frame[spec.name].astype("float64")
    try:
        return pyfunc.predict(frame)
    except mlflow.exceptions.MlflowException as err:
        raise CliError(err.message) from err


def _predict_http(url: str, rows: dict):
    import pandas as pd
    import requests

    payload = {
        "dataframe_split": {
            "columns": list(rows),
            "data": [list(r) for r in zip(*rows.values(), strict=True)],
        }
    }
    try:
        response = requests.post(url.rstrip("/") + "/invocations", json=payload, timeout=120)
    except requests.RequestException as err:
        raise CliError(f"no answer from {url}: {err}. Is `condgen serve` running?") from err
    if response.status_code != 200:
        raise CliError(f"{url} answered {response.status_code}: {response.text[:500]}")
    return pd.DataFrame(response.json()["predictions"])


def cmd_generate(args: argparse.Namespace) -> None:
    import numpy as np

    from condgen.core.plots import image_grid
    from condgen.serving.requests import decode_png_base64

    if not 1 <= args.n <= 256:
        raise CliError(f"-n {args.n}: ask for 1 to 256 images")
    if args.label is not None and not 0 <= args.label <= 9:
        raise CliError(f"--label {args.label}: labels are the digits 0-9")
    if args.seed is not None:
        _check_seed(args.seed, args.n)
    if args.cols is not None and args.cols < 1:
        raise CliError(f"--cols {args.cols}: give 1 or more images per row")
    if not 1 <= args.scale <= MAX_SCALE:
        raise CliError(f"--scale {args.scale}: give 1 to {MAX_SCALE}")
    out = _check_output(args.output)
    rows = _request_rows(args.model, args.label, args.n, args.seed)
    answer = (
        _predict_http(args.url, rows) if args.url else _predict_local(args.model, args.alias, rows)
    )
    images = np.stack([decode_png_base64(text) for text in answer["image"]])
    cols = min(args.n, args.cols or math.ceil(math.sqrt(args.n)))
    rows_needed = math.ceil(args.n / cols)
    padded = np.concatenate(
        [images, np.full((rows_needed * cols - args.n, *images.shape[1:]), 255, np.uint8)]
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    image_grid(padded, rows_needed, cols, scale=args.scale).save(out)
    print(
        f"wrote {args.n} {args.model} images to {out} (seeds {rows['seed'][0]}..{rows['seed'][-1]})"
    )


def cmd_translate(args: argparse.Namespace) -> None:
    import base64

    from condgen.serving.requests import (
        MAX_IMAGE_BYTES,
        RequestError,
        decode_png_base64,
        image_from_bytes,
    )

    source = Path(args.input)
    if not source.is_file():
        raise CliError(f"{source}: no such file")
    if source.stat().st_size > MAX_IMAGE_BYTES:
        raise CliError(f"{source} is larger than {MAX_IMAGE_BYTES // 2**20} MB; shrink it first")
    raw = source.read_bytes()
    try:
        image_from_bytes(raw, str(source), "give a PNG or JPEG file")
    except RequestError as err:
        raise CliError(str(err)) from err
    out = _check_output(args.output or str(source.with_name(f"{source.stem}-{args.model}.png")))
    text = base64.b64encode(raw).decode("ascii")
    directions = families.MODELS[args.model].directions
    if directions:
        if args.direction is None:
            raise CliError(
                f"{args.model} translates both ways: add --direction {' or '.join(directions)}"
            )
        rows = {"image": [text], "direction": [args.direction]}
    else:
        if args.direction is not None:
            raise CliError(f"{args.model} translates one way only: leave out --direction")
        _check_seed(args.seed)
        rows = {"image": [text], "seed": [args.seed]}
    answer = (
        _predict_http(args.url, rows) if args.url else _predict_local(args.model, args.alias, rows)
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    from PIL import Image

    Image.fromarray(decode_png_base64(answer["image"][0])).save(out)
    how = f"{args.model} {args.direction}" if args.direction else args.model
    print(f"wrote {out} ({how} translation of {source})")


def cmd_stylize(args: argparse.Namespace) -> None:
    from condgen.core.params import ConfigError, build
    from condgen.style.config import StyleConfig
    from condgen.style.inputs import StyleError, load_image

    overrides = {
        "backbone": args.backbone,
        "weights": args.weights,
        "image_size": args.size,
        "steps": args.steps,
        "optimizer": args.optimizer,
        "content_weight": args.content_weight,
        "style_weight": args.style_weight,
        "tv_weight": args.tv_weight,
        "init": args.init,
    }
    out = _check_output(args.output)
    try:
        config = build(StyleConfig, {k: v for k, v in overrides.items() if v is not None}, "")
        content = load_image(args.content, config.image_size)
        style = load_image(args.style, config.image_size)
    except (ConfigError, StyleError) as err:
        raise CliError(str(err)) from err
    # Only now TensorFlow: a bad file or param was refused in a second, not after the import.
    from tqdm import tqdm

    from condgen.core.images import unit_to_uint8
    from condgen.style.transfer import make_extractor, transfer

    try:
        extractor = make_extractor(config)
    except StyleError as err:
        raise CliError(str(err)) from err
    bar = tqdm(total=config.steps + 1, desc="stylize", unit="step")

    def on_step(step: int, losses: dict) -> None:
        bar.update(1)
        bar.set_postfix(total=f"{losses['total']:.3g}")

    image, history = transfer(config, extractor, content, style, args.seed, on_step)
    bar.close()
    out.parent.mkdir(parents=True, exist_ok=True)
    from PIL import Image

    Image.fromarray(unit_to_uint8(image)).save(out)
    first, last = history[0]["total"], history[-1]["total"]
    print(
        f"wrote {out} ({image.shape[1]}x{image.shape[0]}, {config.backbone}, "
        f"{len(history) - 1} {config.optimizer} steps; total loss {first:.4g} -> {last:.4g})"
    )


def cmd_serve(args: argparse.Namespace) -> None:
    _check_port_free(args.host, args.port)
    env = dict(os.environ)
    env["MLFLOW_TRACKING_URI"] = _store_uri()
    env.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    # `--env-manager local` starts uvicorn by name, so this interpreter's bin must be on PATH.
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    command = [
        str(Path(sys.executable).parent / "mlflow"),
        "models",
        "serve",
        "-m",
        _model_uri(args.model, args.alias),
        "--env-manager",
        "local",
        "--host",
        args.host,
        "--port",
        str(args.port),
    ]
    print(" ".join(command), file=sys.stderr)
    os.execve(command[0], command, env)


def _short(value: str | None, width: int = 8) -> str:
    return "-" if value in (None, "", "unknown") else str(value)[:width]


def _number(value: str | None) -> float | str | None:
    """A version tag's metric value as a number (tags are strings), or the tag as it is."""
    try:
        return float(value) if value is not None else None
    except ValueError:
        return value


def _value(value: float | str | None) -> str:
    return "-" if value is None else f"{value:.4g}" if isinstance(value, float) else str(value)


def _version_row(version) -> dict:
    tags = version.tags
    return {
        "version": version.version,
        "created": version.created_ms,
        "primary_metric": tags.get("champion_primary_metric"),
        "value": _number(tags.get("champion_value")),
        "promoted": tags.get("champion_promoted") == "True",
        "reason": tags.get("champion_reason"),
        "data_md5": tags.get("evaluated_data_md5") or tags.get("data_md5"),
        "git_commit": tags.get("git_commit"),
        "run_id": version.run_id,
    }


def _print_table(header: list[str], rows: list[list[str]]) -> None:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        print("  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())


def cmd_demo(args: argparse.Namespace) -> None:
    _check_port_free(args.host, args.port)
    store = _store_uri()
    from condgen.demo.server import serve

    serve(store, args.host, args.port)


def cmd_models(args: argparse.Namespace) -> None:
    import datetime

    from condgen.core import model_list, tracking

    names = [tracking.registered_name(m) for m in ([args.model] if args.model else SERVED_MODELS)]
    listing = model_list.read(_store_uri(), tracking.registered_name(""))
    versions: dict[str, list] = {name: [] for name in names}
    for version in listing.versions:
        if version.name in versions:
            versions[version.name].append(version)
    table = []
    for name in names:
        aliases = listing.aliases.get(name)
        champion = aliases.get("champion") if aliases else None
        rows = sorted((_version_row(v) for v in versions[name]), key=lambda r: r["version"])
        # The champion's scores; without one, the latest version's (the table says so).
        best = next((r for r in rows if str(r["version"]) == str(champion)), None)
        best = best or (rows[-1] if rows else None)
        table.append(
            {
                "model": name,
                "registered": aliases is not None,
                "champion": int(champion) if champion else None,
                "versions": len(rows),
                "primary_metric": best["primary_metric"] if best else None,
                "value": best["value"] if best else None,
                "data_md5": best["data_md5"] if best else None,
                "git_commit": best["git_commit"] if best else None,
                **({"history": rows} if args.model else {}),
            }
        )
    if args.json:
        print(json.dumps(table if not args.model else table[0], indent=2))
        return
    if args.model:
        rows = table[0]["history"]
        if not rows:
            print(f"{names[0]}: no versions registered (run the pipeline: dvc repro)")
            return
        champion = table[0]["champion"]

        def when(ms: int) -> str:
            return datetime.datetime.fromtimestamp(ms / 1000).strftime("%Y-%m-%d %H:%M")

        _print_table(
            ["version", "created", "metric", "value", "data", "commit", "decision"],
            [
                [
                    f"{r['version']}{' *' if r['version'] == champion else ''}",
                    when(r["created"]),
                    r["primary_metric"] or "-",
                    _value(r["value"]),
                    _short(r["data_md5"]),
                    _short(r["git_commit"]),
                    r["reason"] or "-",
                ]
                for r in rows
            ],
        )
        print("* champion")
        return
    _print_table(
        ["model", "champion", "versions", "metric", "value", "data", "commit"],
        [
            [
                r["model"],
                "-" if r["champion"] is None else f"v{r['champion']}",
                str(r["versions"]),
                r["primary_metric"] or "-",
                _value(r["value"]),
                _short(r["data_md5"]),
                _short(r["git_commit"]),
            ]
            for r in table
        ],
    )
    if any(r["versions"] and r["champion"] is None for r in table):
        print(
            "- : no champion yet (no version beat its best trivial answer); the row shows the "
            "latest version; condgen models <model> lists each version's decision"
        )


def _listen_arguments(parser: argparse.ArgumentParser, port: int) -> None:
    """--host and --port of a command that starts a web server."""
    parser.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)"
    )
    parser.add_argument(
        "--port", type=int, default=port, help=f"port to listen on (default: {port})"
    )


def build_parser() -> argparse.ArgumentParser:
    from importlib.metadata import version

    parser = argparse.ArgumentParser(prog="condgen", description=__doc__)
    parser.add_argument("--version", action="version", version=f"condgen {version('condgen')}")
    sub = parser.add_subparsers(dest="command", required=True)

    gen = sub.add_parser("generate", help="draw digits from a registered MNIST generator")
    gen.add_argument("--model", choices=DIGIT_MODELS, required=True, help="which generator")
    gen.add_argument("--label", type=int, help=f"digit to draw ({CONDITIONAL_MODELS} only)")
    gen.add_argument("-n", type=int, default=16, help="how many images, 1-256 (default: 16)")
    gen.add_argument("-o", "--output", required=True, help="PNG file for the grid")
    gen.add_argument("--seed", type=int, help="first noise seed (default: random)")
    gen.add_argument("--alias", default="champion", help="registry alias (default: champion)")
    gen.add_argument("--url", help="ask a running server (condgen serve) instead of loading")
    gen.add_argument("--cols", type=int, help="images per grid row (default: about square)")
    gen.add_argument(
        "--scale", type=int, default=3, help=f"pixel scale of the grid, 1-{MAX_SCALE} (default: 3)"
    )
    gen.set_defaults(func=cmd_generate)

    tr = sub.add_parser("translate", help="translate an image with a registered image model")
    tr.add_argument("input", help="image file (PNG, JPEG, ...; any size)")
    tr.add_argument("--model", choices=IMAGE_MODELS, required=True, help="which translation")
    tr.add_argument("-o", "--output", help="PNG file (default: <input>-<model>.png)")
    directions = sorted({d for m in families.MODELS.values() for d in m.directions})
    two_way = ", ".join(m.name for m in families.MODELS.values() if m.directions)
    tr.add_argument(
        "--direction",
        choices=directions,
        help=f"{two_way}: a2b (domain A to B, e.g. day to night) or b2a",
    )
    tr.add_argument(
        "--seed", type=int, default=0, help="one-way models: test-time dropout seed (default: 0)"
    )
    tr.add_argument("--alias", default="champion", help="registry alias (default: champion)")
    tr.add_argument("--url", help="ask a running server (condgen serve) instead of loading")
    tr.set_defaults(func=cmd_translate)

    sty = sub.add_parser("stylize", help="neural style transfer of your own photos")
    sty.add_argument("content", help="content image (PNG, JPEG, ...), or skimage:<sample>")
    sty.add_argument("style", help="style image, or skimage:<sample>")
    sty.add_argument("-o", "--output", required=True, help="PNG file for the result")
    sty.add_argument("--size", type=int, help="longer side of the result in px (default 128)")
    sty.add_argument("--steps", type=int, help="optimisation steps (default 100)")
    sty.add_argument("--optimizer", help="adam (default) or lbfgs")
    sty.add_argument("--content-weight", type=float, help="content loss weight (default 1.0)")
    sty.add_argument("--style-weight", type=float, help="style loss weight (default 1.0)")
    sty.add_argument("--tv-weight", type=float, help="total-variation weight (default 0)")
    sty.add_argument("--init", help="content (default) or noise")
    sty.add_argument("--backbone", help="vgg16-hed (default, offline) or vgg19")
    sty.add_argument("--weights", help="a weights file for the backbone (default: bundled)")
    sty.add_argument("--seed", type=int, default=0, help="seed of the noise start (default: 0)")
    sty.set_defaults(func=cmd_stylize)

    serve = sub.add_parser("serve", help="serve models:/condgen-<model>@champion over HTTP")
    serve.add_argument("--model", choices=SERVED_MODELS, required=True, help="which model")
    serve.add_argument("--alias", default="champion", help="registry alias (default: champion)")
    _listen_arguments(serve, 5000)
    serve.set_defaults(func=cmd_serve)

    demo = sub.add_parser(
        "demo", help="a local web page that tries the champions (digits, facades, photos)"
    )
    _listen_arguments(demo, 8000)
    demo.set_defaults(func=cmd_demo)

    models = sub.add_parser(
        "models", help="registered models: champions, versions, scores, data and code"
    )
    models.add_argument(
        "model", nargs="?", choices=SERVED_MODELS, help="one model's version history"
    )
    models.add_argument("--json", action="store_true", help="JSON for scripts (numbers as numbers)")
    models.set_defaults(func=cmd_models)
    return parser


def main(argv: list[str] | None = None) -> None:
    quiet_tensorflow()
    args = build_parser().parse_args(argv)
    try:
        args.func(args)
    except CliError as err:
        print(f"condgen: error: {err}", file=sys.stderr)
        raise SystemExit(2) from err


if __name__ == "__main__":
    main()
