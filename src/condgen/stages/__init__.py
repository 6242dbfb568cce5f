"""The DVC stages: generic entry points that look the model or family up in condgen.families.

``prepare <family>``, ``train <model>``, ``evaluate <model>``, ``register <model>``, and
``run <stage>`` for a family's own stages. Each reads its params, calls one function of the
family and prints one line; it imports only the family it runs.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable

from condgen.core.runtime import quiet_tensorflow

quiet_tensorflow()


def run_stage(body: Callable[[], object]) -> None:
    """Run a stage body; expected failures print one clear line and exit with status 2."""
    from condgen.core.download import DownloadError
    from condgen.core.images import DataError
    from condgen.core.params import ConfigError

    try:
        body()
    except (ConfigError, DownloadError, DataError, FileNotFoundError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        raise SystemExit(2) from err


def name_arg(choices: Iterable[str]) -> str:
    """The one command-line argument, which must be one of ``choices``."""
    choices = tuple(choices)
    if len(sys.argv) != 2 or sys.argv[1] not in choices:
        spec = getattr(sys.modules["__main__"], "__spec__", None)
        command = f"python -m {spec.name}" if spec else sys.argv[0]
        print(f"usage: {command} {{{','.join(choices)}}}", file=sys.stderr)
        raise SystemExit(2)
    return sys.argv[1]
