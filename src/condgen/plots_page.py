"""The page template of ``dvc plots show``, with the Vega scripts inside it.

DVC's own page loads Vega, Vega-Lite and vega-embed from a CDN, so without a network it shows
the image grids and no loss chart. ``make install`` installs the three scripts from the npm
registry (``plots/package.json``, exact versions in ``plots/package-lock.json``) and writes
this template with them inlined; ``.dvc/config`` points ``dvc plots show`` at it.

    python -m condgen.plots_page plots/node_modules plots/template.html
"""

from __future__ import annotations

import sys
from pathlib import Path

# npm package -> its minified browser build.
SCRIPTS = {
    "vega": "build/vega.min.js",
    "vega-lite": "build/vega-lite.min.js",
    "vega-embed": "build/vega-embed.min.js",
}

PAGE = """<!DOCTYPE html>
<html>
<head>
    {{refresh_tag}}
    <meta charset="utf-8">
    <title>condgen: DVC plots</title>
{scripts}
    <style>
        body {{ font-family: sans-serif; }}
        table {{ border-spacing: 15px; }}
    </style>
</head>
<body>
    {{plot_divs}}
</body>
</html>
"""


class PlotsPageError(RuntimeError):
    """A script of the page is missing: the fix is in the message."""


def build(node_modules: str | Path, out: str | Path) -> Path:
    """Write the template to ``out`` with the three scripts from ``node_modules`` inlined.

    DVC fills ``{plot_divs}`` and ``{refresh_tag}``; the template has no ``{scripts}``, so DVC's
    CDN script tags are left out."""
    node_modules, out = Path(node_modules), Path(out)
    parts = []
    for package, file in SCRIPTS.items():
        path = node_modules / package / file
        if not path.is_file():
            raise PlotsPageError(
                f"{path} is missing: run `make install` (it runs `npm ci` in plots/)"
            )
        code = path.read_text(encoding="utf8")
        # A "</script" inside the code would end the inline script early.
        code = code.replace("</script", "<\\/script")
        parts.append(f"    <!-- {package} -->\n    <script>{code}</script>")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_text(PAGE.format(scripts="\n".join(parts)), encoding="utf8")
    tmp.replace(out)
    return out


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2:
        print("usage: python -m condgen.plots_page NODE_MODULES OUT.html", file=sys.stderr)
        raise SystemExit(2)
    try:
        print(f"wrote {build(*args)}")
    except PlotsPageError as err:
        print(f"error: {err}", file=sys.stderr)
        raise SystemExit(2) from err


if __name__ == "__main__":
    main()
