"""Run the `prodlens` CLI with a kill point: `python tests/run/killer.py run --config ...`.

PRODLENS_KILL_AT=<point>[:<n>] makes the process stop itself (SIGSTOP) the n-th time (default 1st) it
reaches <point>; the harness (tests/run/harness.py) sees the stop and kills it with SIGKILL. Nothing is
cleaned up: no finally blocks, no atexit, no flushing, exactly as with a real `kill -9`. The hooks wrap
functions of ProdLens, dlt and dbt at run time, so the product code carries no test hooks.
"""

from __future__ import annotations

import functools
import os
import signal
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

POINTS = {
    # extract (ProdLens' reading and normalising of trace lines, inside dlt's extract step)
    "extract-chunk": "before the n-th chunk of lines is normalised",
    "extract-finish": "all lines read, before deduplication against the warehouse",
    "extract-yield": "after the first Arrow batch went to dlt's extract buffer",
    "extract-commit": "dlt extracted everything, before it commits the package",
    # dlt's normalise step
    "normalize-start": "an extracted package exists, before it is normalised",
    "normalize-done": "the package is normalised, before it is loaded",
    # dlt's load step
    "load-job": "after the n-th load job copied its file into DuckDB",
    "load-requests-job": "after a load job copied a file of litellm_requests into raw_staging",
    "load-complete-package": "all jobs loaded, before the package is marked complete in _dlt_loads",
    "load-package-done": "package complete, before dlt syncs state and cleans up",
    "load-record": "after the dlt load, before the load-traces run is recorded",
    # the run's own steps
    "retention": "before the retention purge",
    "dbt-sql": "before dbt's n-th SQL statement",
    "dbt-node": "after dbt's n-th node finished",
    "publish-snapshot": "the working file was copied to the temporary file, before it is trimmed to the marts",
    "publish-drop": "before the n-th non-mart schema is dropped from the temporary file",
    "publish-swap": "temporary published file complete, before it is made durable and renamed",
    "publish-replaced": "after os.replace of the published file, before the folder fsync",
    "export-sync": "Parquet export staged, before any file is moved into parquet/",
    "export-replace": "after the n-th Parquet file was moved into parquet/",
    "record-run": "everything done, before the run is recorded in etl_runs and runs.log",
}

_spec = os.environ.get("PRODLENS_KILL_AT", "")
TARGET, _, _nth = _spec.partition(":")
NTH = int(_nth or "1")
_hits: Counter[str] = Counter()


def hit(point: str) -> None:
    if point != TARGET:
        return
    _hits[point] += 1
    if _hits[point] == NTH:
        os.write(2, f"KILLPOINT {point}:{NTH}\n".encode())
        os.kill(os.getpid(), signal.SIGSTOP)


def before(owner: Any, name: str, point: str) -> None:
    original = getattr(owner, name)

    @functools.wraps(original)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        hit(point)
        return original(*args, **kwargs)

    setattr(owner, name, wrapper)


def after(owner: Any, name: str, point: str, when: Callable[..., bool] | None = None) -> None:
    """Hit `point` after each call of owner.name, or after each call whose arguments `when` accepts."""
    original = getattr(owner, name)

    @functools.wraps(original)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        result = original(*args, **kwargs)
        if when is None or when(*args, **kwargs):
            hit(point)
        return result

    setattr(owner, name, wrapper)


def after_first_item(owner: Any, name: str, point: str) -> None:
    original = getattr(owner, name)

    @functools.wraps(original)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        for i, item in enumerate(original(*args, **kwargs)):
            yield item
            if i == 0:
                hit(point)

    setattr(owner, name, wrapper)


def _dbt_callback(event: Any) -> None:
    name = event.info.name
    if name == "SQLQuery":
        hit("dbt-sql")
    elif name == "NodeFinished":
        hit("dbt-node")


def install() -> None:
    if TARGET and TARGET not in POINTS:
        raise SystemExit(f"unknown kill point {TARGET!r}; known: {', '.join(POINTS)}")
    from dlt.destinations.impl.duckdb.duck import DuckDbCopyJob
    from dlt.extract.extract import Extract
    from dlt.load.load import Load
    from dlt.normalize.normalize import Normalize

    import prodlens.dbt_runner as dbt_runner
    import prodlens.ingest.traces as traces_load
    import prodlens.publish as publish
    import prodlens.run.export as export
    import prodlens.run.retention as retention
    import prodlens.run.steps as steps
    from loaders.litellm.normalize import Normaliser
    from prodlens.dbt_process import DbtProcess

    before(Normaliser, "add", "extract-chunk")
    before(Normaliser, "finish", "extract-finish")
    after_first_item(Normaliser, "accepted", "extract-yield")
    before(Extract, "commit_packages", "extract-commit")
    before(Normalize, "spool_schema_files", "normalize-start")
    after(Normalize, "spool_schema_files", "normalize-done")
    after(DuckDbCopyJob, "run", "load-job")
    after(
        DuckDbCopyJob, "run", "load-requests-job", when=lambda job: job.load_table_name == "litellm_requests"
    )
    before(Load, "complete_package", "load-complete-package")
    after(Load, "complete_package", "load-package-done")
    before(traces_load, "record_run", "load-record")
    before(retention, "purge", "retention")
    after(publish, "snapshot_working_file", "publish-snapshot")
    before(publish, "drop_schema", "publish-drop")
    before(publish, "swap_in", "publish-swap")
    before(publish, "fsync_dir", "publish-replaced")
    before(export, "sync_tree", "export-sync")
    before(steps, "record_run", "record-run")

    original_replace: Callable[..., None] = os.replace

    def replace(src: Any, dst: Any, *args: Any, **kwargs: Any) -> None:
        original_replace(src, dst, *args, **kwargs)
        if f"{os.sep}parquet{os.sep}" in str(dst):
            hit("export-replace")

    os.replace = replace  # type: ignore[assignment]

    # dbt runs in this process, where its kill points are hooked, not in a dbt process started ahead of
    # need (that process and its end with the run: tests/run/test_dbt_process.py)
    DbtProcess.ahead_of_need = classmethod(lambda cls, keep_fds=(): None)

    run_dbt = dbt_runner.run_dbt

    @functools.wraps(run_dbt)
    def run_dbt_with_hook(*args: Any, **kwargs: Any) -> Any:
        _hook_dbt()  # importing dbt takes seconds: only runs that reach dbt pay for it
        return run_dbt(*args, **kwargs)

    dbt_runner.run_dbt = run_dbt_with_hook


def _hook_dbt() -> None:
    import dbt.cli.main as dbt_main

    runner_init = dbt_main.dbtRunner.__init__
    if getattr(runner_init, "killer", False):
        return

    def init(self: Any, manifest: Any = None, callbacks: list | None = None) -> None:
        runner_init(self, manifest=manifest, callbacks=[*(callbacks or []), _dbt_callback])

    init.killer = True  # type: ignore[attr-defined]
    dbt_main.dbtRunner.__init__ = init  # type: ignore[method-assign]


if __name__ == "__main__":
    install()
    from prodlens.cli import main

    raise SystemExit(main(sys.argv[1:]))
