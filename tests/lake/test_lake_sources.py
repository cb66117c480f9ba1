"""The lake target's plumbing that needs no Spark: the raw tables declared from dlt's stored schemas,
the Python models' order, and the choice of target."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from prodlens import target
from prodlens.errors import UserError
from prodlens.home import Home
from prodlens.lake import lake_tables, operation_args, spark_type
from prodlens.python_models import python_models


def _schema(home: Home, pipeline: str, tables: dict) -> None:
    path = home.dlt_dir / pipeline / "schemas" / "s.schema.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"tables": tables}))


def test_tables_come_from_every_pipeline_schema_with_the_union_of_their_columns(tmp_path: Path) -> None:
    home = Home(tmp_path)
    _schema(
        home,
        "github_acme_api",
        {
            "commits": {"columns": {"sha": {"data_type": "text"}, "parent_count": {"data_type": "bigint"}}},
            "_dlt_loads": {"columns": {"load_id": {"data_type": "text"}, "status": {"data_type": "bigint"}}},
            "_dlt_version": {"columns": {"version": {"data_type": "bigint"}}},
        },
    )
    _schema(
        home,
        "github_acme_web",
        {
            "commits": {
                "columns": {
                    "sha": {"data_type": "text"},
                    "authored_at": {"data_type": "timestamp"},
                    "amount": {"data_type": "decimal", "precision": 20, "scale": 4},
                    "unknown_yet": {},  # dlt keeps a hint-only column without a type: not declared
                }
            }
        },
    )
    tables = lake_tables(home)
    assert list(tables) == ["_dlt_loads", "commits"]  # dlt's other bookkeeping tables are not read
    assert tables["_dlt_loads"]["format"] == "json"  # dlt writes its load log as JSON lines
    assert tables["commits"] == {
        "format": "parquet",
        "columns": [
            ["sha", "string"],
            ["parent_count", "bigint"],
            ["authored_at", "timestamp"],
            ["amount", "decimal(20,4)"],
        ],
    }
    args = json.loads(operation_args(home, "/lake"))
    assert args["lake"] == "/lake/raw" and args["schema"] == "raw" and args["tables"] == tables


def test_a_dlt_type_without_a_spark_type_is_named() -> None:
    with pytest.raises(ValueError, match=r"'geo'.*no Spark type"):
        spark_type({"name": "where", "data_type": "geo"})
    assert spark_type({"data_type": "wei"}) == "decimal(38,0)"


def test_python_models_run_after_the_python_models_they_read() -> None:
    def node(name: str, parents: list[str], language: str = "python") -> dict:
        return {
            "resource_type": "model",
            "language": language,
            "name": name,
            "alias": name,
            "schema": "marts",
            "raw_code": "def model(dbt, session): ...",
            "config": {"materialized": "table"},
            "depends_on": {"nodes": parents},
        }

    manifest = {
        "nodes": {
            "model.p.a_cache": node("a_cache", ["model.p.z_series"]),
            "model.p.z_series": node("z_series", ["model.p.sessions"]),
            "model.p.sessions": node("sessions", [], language="sql"),
        }
    }
    models = python_models(manifest)
    assert [m.name for m in models] == ["z_series", "a_cache"]
    assert models[0].refs == {"sessions": "marts.sessions"}
    assert models[1].relation == "marts.a_cache"


def test_the_target_is_checked(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("PRODLENS_TARGET", raising=False)
    assert target.current() == "embedded" and not target.uses_lake()
    monkeypatch.setenv("PRODLENS_TARGET", "spark")
    assert target.uses_lake()
    monkeypatch.delenv("PRODLENS_LAKE", raising=False)
    assert target.lake_url(Home(tmp_path)) == str(tmp_path / "lake")
    monkeypatch.setenv("PRODLENS_LAKE", "s3://bucket/prodlens/")
    assert target.lake_url(Home(tmp_path)) == "s3://bucket/prodlens"
    monkeypatch.setenv("PRODLENS_TARGET", "snowflake")
    with pytest.raises(
        UserError,
        match=r"PRODLENS_TARGET=.snowflake. is not a ProdLens target: use one of embedded, databricks, spark, thrift",
    ):
        target.current()
