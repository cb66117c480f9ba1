"""dlt's stuck package: after a schema-contract failure the pending package fails every run until it is
discarded. ProdLens says so in one error with the exact recovery command, and that command works."""

from __future__ import annotations

import shlex
import subprocess
import sys
from pathlib import Path

import dlt
import duckdb
import pytest

from prodlens.errors import PendingPackageStuck
from prodlens.home import Home
from prodlens.pipeline import make_pipeline, recovery_command, run_pipeline

NAME = "contract_demo"


@dlt.resource(
    name="events", write_disposition="merge", primary_key="id", schema_contract={"columns": "freeze"}
)
def events(rows: list[dict]):
    yield rows


def test_schema_contract_failure_then_recovery(home: Home) -> None:
    run_pipeline(make_pipeline(home, NAME), events([{"id": 1, "kind": "a"}]), home)

    with pytest.raises(PendingPackageStuck) as failure:  # a new column violates the frozen contract
        run_pipeline(make_pipeline(home, NAME), events([{"id": 2, "kind": "b", "surprise": 1}]), home)
    command = recovery_command(home, NAME)
    assert "violates the schema contract" in str(failure.value)
    assert command in str(failure.value) and failure.value.exit_code == 11

    # Stuck: even good data fails now, because dlt retries the pending package first.
    with pytest.raises(PendingPackageStuck):
        run_pipeline(make_pipeline(home, NAME), events([{"id": 3, "kind": "c"}]), home)

    args = shlex.split(command)
    args[0] = str(Path(sys.executable).parent / "dlt")
    done = subprocess.run(args, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr

    run_pipeline(make_pipeline(home, NAME), events([{"id": 3, "kind": "c"}]), home)
    with duckdb.connect(str(home.warehouse), read_only=True) as con:
        assert con.execute("select id, kind from raw.events order by id").fetchall() == [(1, "a"), (3, "c")]
