"""The raw tables of a lake target, declared for dbt-spark from the dlt schemas.

On a lake target (prodlens.target) dlt writes each raw table as files in a folder of the lake. dbt-spark
reads them as external tables; this module tells macros/spark/create_lake_sources.sql which tables exist
and their columns, taken from the schemas of the dlt pipelines in PRODLENS_HOME/dlt (so a table that no
load has filled yet is still declared, with the columns its source hints give)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from prodlens.home import Home
from prodlens.pipeline import RAW_DATASET

#: dlt's data types as Spark SQL types
SPARK_TYPES = {
    "text": "string",
    "bigint": "bigint",
    "double": "double",
    "bool": "boolean",
    "timestamp": "timestamp",
    "date": "date",
    "time": "string",
    "json": "string",
    "binary": "binary",
    "wei": "decimal(38,0)",
}
#: dlt's own tables the sources declare; the other _dlt_* tables are not read
DLT_TABLES = frozenset({"_dlt_loads"})
#: dlt writes its load log as JSON lines in every file format
JSON_TABLES = frozenset({"_dlt_loads"})


def spark_type(column: dict[str, Any]) -> str:
    """The Spark type of a dlt column."""
    data_type = str(column.get("data_type", "text"))
    if data_type == "decimal":
        return f"decimal({column.get('precision') or 38},{column.get('scale') or 9})"
    if data_type not in SPARK_TYPES:
        raise ValueError(
            f"dlt column {column.get('name')!r} has data type {data_type!r}, which has no Spark type"
        )
    return SPARK_TYPES[data_type]


def schema_files(home: Home) -> list[Path]:
    """The stored schema of every dlt pipeline of this home."""
    return sorted(home.dlt_dir.glob("*/schemas/*.schema.json"))


def lake_tables(home: Home) -> dict[str, dict[str, Any]]:
    """Every raw table the dlt schemas know, by name: its file format and its columns as
    [name, spark type] pairs in the schema's order. A table two pipelines share (each GitHub repository
    has one) gets the union of their columns."""
    tables: dict[str, dict[str, Any]] = {}
    for path in schema_files(home):
        schema = json.loads(path.read_text())
        for name, table in schema.get("tables", {}).items():
            if name.startswith("_dlt") and name not in DLT_TABLES:
                continue
            columns = [
                (column_name, spark_type({**column, "name": column_name}))
                for column_name, column in table.get("columns", {}).items()
                if column.get("data_type")
            ]
            if not columns:
                continue
            entry = tables.setdefault(
                name, {"format": "json" if name in JSON_TABLES else "parquet", "columns": []}
            )
            known = {column for column, _ in entry["columns"]}
            entry["columns"].extend([list(c) for c in columns if c[0] not in known])
    return dict(sorted(tables.items()))


def operation_args(home: Home, lake: str) -> str:
    """The --args of `dbt run-operation create_lake_sources` for this home."""
    return json.dumps({"lake": f"{lake}/{RAW_DATASET}", "schema": RAW_DATASET, "tables": lake_tables(home)})
