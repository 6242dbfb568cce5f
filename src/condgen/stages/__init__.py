"""One thin entry point per DVC stage: read params, call one library function, write outputs."""

from __future__ import annotations

import sys
from collections.abc import Callable

from condgen.runtime import quiet_tensorflow

quiet_tensorflow()


def run_stage(body: Callable[[], object]) -> None:
    """Run a stage body; expected failures print one clear line and exit with status 2."""
    from condgen.config import ConfigError
    from condgen.data.download import DownloadError
    from condgen.data.mnist import DataError

    try:
        body()
    except (ConfigError, DownloadError, DataError, FileNotFoundError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        raise SystemExit(2) from err


def model_arg(choices: tuple[str, ...]) -> str:
    if len(sys.argv) != 2 or sys.argv[1] not in choices:
        print(f"usage: {sys.argv[0]} {{{','.join(choices)}}}", file=sys.stderr)
        raise SystemExit(2)
    return sys.argv[1]
