"""The registered versions and aliases that ``condgen models`` lists, read quickly.

Importing MLflow and opening its SQLAlchemy store takes about 3 s of CPU, longer than the whole
listing should. For the project's own store (a SQLite file at the schema revision the installed
MLflow writes) the registry's four tables are read with ``sqlite3``, read-only; any other store
(a server, PostgreSQL, a SQLite file of another MLflow version) is read through
``MlflowClient``. Both give the same :class:`Listing` (``tests/test_core_model_list.py``
compares them on a real store).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

# The newest migration of the pinned MLflow's database schema (mlflow/store/db_migrations).
# A store at another revision is read through MLflow, which knows its layout.
SCHEMA_REVISION = "dc11669786a5"
DELETED_STAGE = "Deleted_Internal"  # versions MLflow keeps as deleted; never listed
WORKSPACE = "default"


@dataclass(frozen=True)
class Version:
    name: str
    version: int
    created_ms: int
    run_id: str
    tags: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Listing:
    """Registered models (name -> {alias: version}) and their versions, of names with a prefix."""

    aliases: dict[str, dict[str, int]]
    versions: list[Version]
    reader: str  # "sqlite" or "mlflow": which path read it


def sqlite_file(uri: str) -> Path | None:
    """The database file of a ``sqlite:///<path>`` tracking URI (absolute with four slashes,
    else relative to the working folder, as SQLAlchemy reads it), else None."""
    head = "sqlite:///"
    if not uri.startswith(head) or len(uri) == len(head) or "?" in uri:
        return None
    return Path(uri[len(head) :])


def read_sqlite(path: Path, prefix: str) -> Listing | None:
    """The listing straight from the SQLite tables, or None when the file is not a store at
    :data:`SCHEMA_REVISION` (then MLflow must read it)."""
    if not path.is_file():
        return None
    try:
        db = sqlite3.connect(f"file:{quote(str(path.resolve()))}?mode=ro", uri=True)
    except sqlite3.Error:
        return None
    try:
        revision = db.execute("SELECT version_num FROM alembic_version").fetchall()
        if revision != [(SCHEMA_REVISION,)]:
            return None
        like = prefix.replace("%", r"\%").replace("_", r"\_") + "%"
        where = "name LIKE ? ESCAPE '\\' AND workspace = ?"
        aliases: dict[str, dict[str, int]] = {
            name: {}
            for (name,) in db.execute(
                f"SELECT name FROM registered_models WHERE {where}", (like, WORKSPACE)
            )
        }
        for alias, version, name in db.execute(
            f"SELECT alias, version, name FROM registered_model_aliases WHERE {where}",
            (like, WORKSPACE),
        ):
            if name in aliases:
                aliases[name][alias] = int(version)
        tags: dict[tuple[str, int], dict[str, str]] = {}
        for key, value, name, version in db.execute(
            f"SELECT key, value, name, version FROM model_version_tags WHERE {where}",
            (like, WORKSPACE),
        ):
            tags.setdefault((name, int(version)), {})[key] = value
        versions = [
            Version(
                name,
                int(version),
                int(created or 0),
                run_id or "",
                tags.get((name, int(version)), {}),
            )
            for name, version, created, run_id in db.execute(
                f"SELECT name, version, creation_time, run_id FROM model_versions WHERE {where} "
                "AND current_stage != ?",
                (like, WORKSPACE, DELETED_STAGE),
            )
        ]
    except sqlite3.Error:
        return None  # not the tables we know: MLflow reads it
    finally:
        db.close()
    return Listing(aliases, versions, "sqlite")


def read_mlflow(uri: str, prefix: str) -> Listing:
    """The listing through ``MlflowClient`` (any store MLflow can read)."""
    from mlflow import MlflowClient

    client = MlflowClient(uri)
    query = f"name LIKE '{prefix}%'"
    aliases = {
        m.name: {a: int(v) for a, v in (m.aliases or {}).items()}
        for m in client.search_registered_models(query)
    }
    versions = [
        Version(
            v.name, int(v.version), int(v.creation_timestamp or 0), v.run_id or "", dict(v.tags)
        )
        for v in client.search_model_versions(query, max_results=10_000)
    ]
    return Listing(aliases, versions, "mlflow")


def read(uri: str, prefix: str) -> Listing:
    """The registry's models named ``prefix...``: from SQLite directly where it can, else MLflow."""
    path = sqlite_file(uri)
    listing = read_sqlite(path, prefix) if path is not None else None
    return listing if listing is not None else read_mlflow(uri, prefix)
