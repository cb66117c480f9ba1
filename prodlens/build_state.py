"""What the last successful build and publish were made from, so that `prodlens run` skips dbt when
nothing it reads has changed.

The fingerprint of a build is:
- the newest dlt load that delivered rows to a raw table (the largest `_dlt_load_id` over the raw
  tables): any load with data, by `prodlens run` or by a `prodlens load` between runs, changes it,
  while a load that only saved dlt's state (a run that found nothing new) does not;
- the dbt vars and build arguments of the run;
- a hash of the dbt project's files (models, macros, seeds, analyses, tests, dbt_project.yml,
  profiles.yml), so an upgrade or an edited model rebuilds.

It is written to PRODLENS_HOME/dbt/last_build.json only after a build and its publish both succeeded,
and a run skips build and publish only when the current fingerprint equals it and the published file
exists. Retention that deleted rows forces a build (the caller passes `changed=True`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from prodlens.home import Home
from prodlens.project import project_dir
from prodlens.warehouse import connect

PROJECT_FILES = ("dbt_project.yml", "profiles.yml")
PROJECT_FOLDERS = ("models", "macros", "seeds", "analyses", "tests/dbt")


def state_path(home: Home) -> Path:
    return home.root / "dbt" / "last_build.json"


def project_hash(root: Path | None = None) -> str:
    """sha256 over the relative paths and bytes of the dbt project's files, in a stable order."""
    root = root or project_dir()
    digest = hashlib.sha256()
    paths = [root / name for name in PROJECT_FILES]
    for folder in PROJECT_FOLDERS:
        paths += sorted(p for p in (root / folder).rglob("*") if p.is_file() and "__pycache__" not in p.parts)
    for path in paths:
        if path.is_file():
            digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def newest_load(home: Home) -> str | None:
    """The newest dlt load id found in the rows of the raw tables; None before any rows. dlt writes a
    table's rows only with their load's completion, so a load that failed midway leaves no id here."""
    if not home.warehouse.exists():
        return None
    con = connect(home.warehouse)
    try:
        tables = [
            name
            for (name,) in con.execute(
                "select table_name from information_schema.columns where table_catalog = current_database() "
                "and table_schema = 'raw' and column_name = '_dlt_load_id' and table_name not like '\\_dlt\\_%' "
                "escape '\\' order by 1"
            ).fetchall()
        ]
        if not tables:
            return None
        union = " union all ".join(f'select max(_dlt_load_id) as id from raw."{t}"' for t in tables)
        row = con.execute(f"select max(id) from ({union})").fetchone()
        return None if row is None or row[0] is None else str(row[0])
    finally:
        con.close()


def fingerprint(home: Home, dbt_vars: str, build_args: Sequence[str]) -> dict[str, Any]:
    return {
        "newest_load": newest_load(home),
        "dbt_vars": dbt_vars,
        "build_args": list(build_args),
        "project": project_hash(),
    }


def unchanged(home: Home, current: dict[str, Any]) -> bool:
    """True when the last successful build and publish were made from exactly `current`."""
    if not home.published.exists():
        return False
    try:
        last = json.loads(state_path(home).read_text())
    except (OSError, ValueError):
        return False
    return bool(last == current)


def remember(home: Home, current: dict[str, Any]) -> None:
    path = state_path(home)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(current, sort_keys=True) + "\n")
    tmp.replace(path)


def forget(home: Home) -> None:
    """After a failed build or publish: the next run builds whatever the fingerprint says."""
    state_path(home).unlink(missing_ok=True)
