"""A load package left by a killed run is loaded with dlt's de-duplication of staged rows switched
back on (prodlens.pipeline.deduplicate_resumed_packages): its retried load jobs may stage rows twice.
tests/run/test_crash.py kills a run after the copy of litellm_requests and checks that every request
is then in the marts once; this test pins down what changes in the package and what does not."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import dlt
import duckdb

from prodlens.home import Home
from prodlens.pipeline import DEDUPLICATED_HINT as HINT
from prodlens.pipeline import deduplicate_resumed_packages, make_pipeline, run_pipeline

NAME = "resume_demo"


@dlt.resource(
    name="events",
    write_disposition={"disposition": "merge", "strategy": "delete-insert", "deduplicated": True},
    primary_key="id",
)
def events(rows: list[dict]) -> Iterator[list[dict]]:
    yield rows


def _package_tables(pipeline: dlt.Pipeline, load_id: str) -> dict:
    schema_file = Path(pipeline.get_load_package_info(load_id).package_path) / "schema.json"
    return json.loads(schema_file.read_text())["tables"]


def test_only_a_pending_package_deduplicates_again(home: Home) -> None:
    run_pipeline(make_pipeline(home, NAME), events([{"id": 0, "kind": "z"}]), home)
    pipeline = make_pipeline(home, NAME)
    pipeline.extract(events([{"id": 1, "kind": "a"}]))
    pipeline.normalize()  # a normalised package waits, as after a kill in dlt's load step
    [load_id] = pipeline.list_normalized_load_packages()
    assert _package_tables(pipeline, load_id)["events"][HINT] is True

    assert deduplicate_resumed_packages(pipeline) == [load_id]
    assert HINT not in _package_tables(pipeline, load_id)["events"]
    assert deduplicate_resumed_packages(pipeline) == []  # nothing left to change
    # the pipeline's own schema keeps the hint: the next packages load without the second pass
    assert pipeline.default_schema.tables["events"][HINT] is True

    run_pipeline(make_pipeline(home, NAME), events([{"id": 2, "kind": "b"}]), home)  # resumes, then loads
    with duckdb.connect(str(home.warehouse), read_only=True) as con:
        assert con.execute("select id, kind from raw.events order by id").fetchall() == [
            (0, "z"),
            (1, "a"),
            (2, "b"),
        ]
    assert make_pipeline(home, NAME).list_normalized_load_packages() == []
