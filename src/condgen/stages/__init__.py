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
    return name_args(choices, many=False)[0]


def name_args(choices: Iterable[str], many: bool = True) -> list[str]:
    """The command-line arguments: one (``many``: one or more, no repeats) of ``choices``."""
    choices, names = tuple(choices), sys.argv[1:]
    count_ok = len(names) == 1 or (many and len(names) > 1)
    if not count_ok or not set(names) <= set(choices) or len(set(names)) != len(names):
        spec = getattr(sys.modules["__main__"], "__spec__", None)
        command = f"python -m {spec.name}" if spec else sys.argv[0]
        more = " ..." if many else ""
        print(f"usage: {command} {{{','.join(choices)}}}{more}", file=sys.stderr)
        raise SystemExit(2)
    return names
