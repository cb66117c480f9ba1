"""What the last successful build and publish were made from, so that `prodlens run` skips dbt when
nothing it reads has changed.

The fingerprint of a build is:
- the newest dlt load that delivered rows to each raw table (its largest `_dlt_load_id`): any load with
  data, by `prodlens run` or by a `prodlens load` between runs, changes it, while a load that only saved
  dlt's state (a run that found nothing new) does not;
- the newest load up to which every load with rows has completed (`RawLoads.complete_through`): a load
  that failed midway and was finished since changes it, though it adds no newer id. A scheduled run tests
  the rows of the loads after it (prodlens.dbt_runner.NewRows);
- the dbt vars and build arguments of the run;
- a hash of the dbt project's files (models, macros, seeds, analyses, tests, dbt_project.yml,
  profiles.yml) and of the Python the dbt Python models run (prodlens.stats, prodlens.python_models), so
  an upgrade, an edited model or changed statistics rebuild.

It is written to PRODLENS_HOME/dbt/last_build.json only after a build and its publish both succeeded,
and a run skips build and publish only when the current fingerprint equals it and the published file
exists. Retention that deleted rows forces a build. When only raw tables' loads differ, a scheduled run
builds only what reads those tables (`changed_sources`: dbt's `source:NAME+` selectors): the other nodes
read exactly what their last successful build read.

dbt's unit tests check the models' SQL on fixed rows, never the data. Once every unit test of the project
passed in a build, PRODLENS_HOME/dbt/unit_tests_passed.json records the project hash, and a scheduled run
leaves them out until a project file changes (`prodlens build`, `dbt build` and CI still run them all).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from prodlens.dbt_runner import read_manifest
from prodlens.home import Home
from prodlens.project import project_dir
from prodlens.warehouse import connect, table_exists

PROJECT_FILES = ("dbt_project.yml", "profiles.yml")
PROJECT_FOLDERS = ("models", "macros", "seeds", "analyses", "tests/dbt")
#: the package's modules that the dbt Python models import: the statistics behind the stats marts
MODEL_CODE_FILES = ("python_models.py",)
MODEL_CODE_FOLDERS = ("stats",)


def state_path(home: Home) -> Path:
    return home.root / "dbt" / "last_build.json"


def project_hash(root: Path | None = None, code: Path | None = None) -> str:
    """sha256 over the relative paths and bytes of the dbt project's files (under `root`) and of the Python
    its Python models import (under `code`, the prodlens package folder), in a stable order."""
    digest = hashlib.sha256()
    for base, files, folders in (
        (root or project_dir(), PROJECT_FILES, PROJECT_FOLDERS),
        (code or Path(__file__).resolve().parent, MODEL_CODE_FILES, MODEL_CODE_FOLDERS),
    ):
        paths = [base / name for name in files]
        for folder in folders:
            paths += sorted(
                p for p in (base / folder).rglob("*") if p.is_file() and "__pycache__" not in p.parts
            )
        for path in paths:
            if path.is_file():
                digest.update(str(path.relative_to(base)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def unit_tests_path(home: Home) -> Path:
    return home.root / "dbt" / "unit_tests_passed.json"


def record_unit_tests(home: Home, statuses: dict[str, str] | None = None) -> None:
    """After a successful build: record the project hash when that build ran every unit test of the
    manifest and all passed; otherwise leave the record as it was. `statuses` are the build's own (unique
    id -> status); without them, dbt's run_results.json of the last invocation."""
    try:
        manifest = read_manifest(home)
        if statuses is None:
            results = json.loads((home.dbt_target / "run_results.json").read_text())["results"]
            statuses = {str(r["unique_id"]): str(r.get("status")) for r in results}
    except (OSError, ValueError, KeyError):
        return
    wanted = set(manifest.get("unit_tests", {}))
    passed = {unique_id for unique_id, status in statuses.items() if status == "pass" and unique_id in wanted}
    if wanted and passed == wanted:
        write_json(unit_tests_path(home), {"project": project_hash()})


def unit_tests_passed(home: Home) -> bool:
    """True when every unit test passed on the project as it is now."""
    try:
        return bool(json.loads(unit_tests_path(home).read_text()).get("project") == project_hash())
    except (OSError, ValueError, AttributeError):
        return False


@dataclass(frozen=True)
class RawLoads:
    """The dlt loads whose rows are in the raw tables.

    newest: raw table -> the newest load id among its rows (tables without rows are left out).
    complete_through: the newest load id up to which every load with rows here has completed
    (`raw._dlt_loads`, status 0); None when the oldest has not. dlt loads a package table by table and
    records the load when all are in: a load that failed midway has rows here and no record yet, and the
    next load finishes it under the same id. Rows of loads after `complete_through` may still change;
    rows up to it are final."""

    newest: dict[str, str]
    complete_through: str | None


def raw_loads(home: Home) -> RawLoads:
    """The loads of the raw tables' rows, by one scan of their load ids."""
    if not home.warehouse.exists():
        return RawLoads({}, None)
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
            return RawLoads({}, None)
        # distinct ids, not max(): a grouping of the dictionary-compressed column, ~3x faster at 10M rows
        union = " union all ".join(
            f"select distinct '{t}' as name, _dlt_load_id as id from raw.\"{t}\"" for t in tables
        )
        found = [(str(name), str(id_)) for name, id_ in con.execute(union).fetchall() if id_ is not None]
        completed = (
            {
                str(id_)
                for (id_,) in con.execute("select load_id from raw._dlt_loads where status = 0").fetchall()
            }
            if table_exists(con, "raw", "_dlt_loads")
            else set()
        )
    finally:
        con.close()
    newest: dict[str, str] = {}
    for name, id_ in found:
        newest[name] = max(newest.get(name, id_), id_)
    complete_through = None
    for id_ in sorted({id_ for _, id_ in found}):
        if id_ not in completed:
            break
        complete_through = id_
    return RawLoads(newest, complete_through)


def newest_load(home: Home) -> str | None:
    """The newest dlt load id found in the rows of the raw tables; None before any rows."""
    return max(raw_loads(home).newest.values(), default=None)


def fingerprint(home: Home, dbt_vars: str, build_args: Sequence[str]) -> dict[str, Any]:
    loads = raw_loads(home)
    return {
        "newest_load": max(loads.newest.values(), default=None),
        "raw_loads": loads.newest,
        "complete_through": loads.complete_through,
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


def last_fingerprint(home: Home) -> dict[str, Any] | None:
    try:
        doc = json.loads(state_path(home).read_text())
    except (OSError, ValueError):
        return None
    return doc if isinstance(doc, dict) else None


def complete_through_built(home: Home) -> str | None:
    """The last successful build's `RawLoads.complete_through` (None without one): that build read every
    row of the loads up to it, and no load up to it gets rows later, so the next build's new rows are those
    of later loads."""
    last = last_fingerprint(home)
    through = None if last is None else last.get("complete_through")
    return through if isinstance(through, str) else None


def loads_changed(home: Home, current: dict[str, Any]) -> list[str] | None:
    """The raw tables whose newest load differs from the last successful build's, when that is all that
    differs (the same vars, arguments and project files, no raw table gone); None otherwise."""
    last = last_fingerprint(home)
    if last is None or not home.published.exists():
        return None
    if any(last.get(key) != current.get(key) for key in ("dbt_vars", "build_args", "project")):
        return None
    before, now = last.get("raw_loads"), current["raw_loads"]
    if not isinstance(before, dict) or not set(before) <= set(now):
        return None
    return sorted(table for table, load in now.items() if before.get(table) != load)


def changed_sources(home: Home, current: dict[str, Any]) -> list[str] | None:
    """dbt selectors (`source:litellm.litellm_requests+`) for the raw tables whose newest load differs
    from the last successful build's, when nothing else differs. None when a whole build is needed: no
    earlier build, other vars, arguments or project files, a raw table gone, or one no source declares."""
    changed = loads_changed(home, current)
    if changed is None:
        return None
    try:
        manifest = read_manifest(home)
    except (OSError, ValueError):
        return None
    declared = {
        str(node.get("identifier") or node["name"]): f"source:{node['source_name']}.{node['name']}+"
        for node in manifest.get("sources", {}).values()
        if node.get("schema") == "raw"
    }
    if not changed or any(table not in declared for table in changed):
        return None
    return [declared[table] for table in changed]


def manifest_is_current(home: Home) -> bool:
    """True when dbt's manifest.json is the one the last successful build wrote: no dbt invocation has
    written another since (it is no newer than last_build.json, which a build's publish writes after it).
    A scheduled run with that build's project, vars and arguments then needs dbt to write neither it nor
    run_results.json; any other dbt command in between (a compile with other vars) makes the next
    scheduled run write them again."""
    try:
        manifest = (home.dbt_target / "manifest.json").stat().st_mtime_ns
        return manifest <= state_path(home).stat().st_mtime_ns
    except OSError:
        return False


def write_json(path: Path, doc: dict[str, Any]) -> None:
    """Write `doc` to `path` atomically (a temporary file beside it, then a rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(doc, sort_keys=True) + "\n")
    tmp.replace(path)


def remember(home: Home, current: dict[str, Any]) -> None:
    write_json(state_path(home), current)


def forget(home: Home) -> None:
    """After a failed build or publish: the next run builds whatever the fingerprint says."""
    state_path(home).unlink(missing_ok=True)
