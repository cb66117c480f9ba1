"""The dbt Python models on an adapter that cannot run them (dbt-spark's session and thrift methods).

dbt-spark submits Python models only to Databricks clusters. On the other lake targets `prodlens build`
leaves them out of `dbt build` and runs them here, after it: each model file's own `model(dbt, session)`
is called with a small stand-in for dbt's object, whose `ref()` reads the Spark table with DuckDB (over
the table's Parquet files, so only the columns and rows the model asks for are read) and whose
`config.get()` returns the node's configuration from dbt's manifest. The result is written back to Spark
as a table of the same name and columns; `dbt test` then tests it like any model. The statistics are the
same code on every adapter: the model files and prodlens.stats."""

from __future__ import annotations

import types
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any


@dataclass(frozen=True)
class PythonModel:
    """One dbt Python model as the manifest describes it."""

    unique_id: str
    name: str
    relation: str  # schema.alias
    code: str
    config: dict[str, Any]
    refs: dict[str, str]  # model name -> relation of every model it depends on


def _relation(node: dict[str, Any]) -> str:
    return f"{node['schema']}.{node.get('alias') or node['name']}"


def python_models(manifest: dict[str, Any]) -> list[PythonModel]:
    """The manifest's Python models, each after the Python models it reads."""
    nodes = manifest["nodes"]
    found = {
        uid: node
        for uid, node in nodes.items()
        if node.get("resource_type") == "model" and node.get("language") == "python"
    }
    ordered: list[str] = []

    def visit(uid: str, path: tuple[str, ...]) -> None:
        if uid in ordered or uid in path:
            return
        for parent in found[uid]["depends_on"]["nodes"]:
            if parent in found:
                visit(parent, (*path, uid))
        ordered.append(uid)

    for uid in sorted(found):
        visit(uid, ())
    models = []
    for uid in ordered:
        node = found[uid]
        refs = {
            nodes[parent]["name"]: _relation(nodes[parent])
            for parent in node["depends_on"]["nodes"]
            if parent in nodes
        }
        models.append(
            PythonModel(uid, node["name"], _relation(node), node["raw_code"], dict(node["config"]), refs)
        )
    return models


class _Config:
    def __init__(self, values: dict[str, Any]) -> None:
        self._values = values

    def __call__(self, **_: Any) -> None:
        """dbt.config(materialized=...): the table is written by run_models."""

    def get(self, key: str, default: Any = None) -> Any:
        return self._values.get(key, default)


class StandIn:
    """What a model file's `model(dbt, session)` uses of dbt's object: config() and config.get(), ref()."""

    def __init__(self, model: PythonModel, spark: Any, con: Any, started_at: datetime) -> None:
        self._model = model
        self._spark = spark
        self._con = con
        # rendered when dbt parsed the project; this build's start is the run's start
        self.config = _Config({**model.config, "run_started_at": started_at.isoformat()})

    def ref(self, name: str) -> Any:
        """The relation `name` as a DuckDB relation: a table's Parquet files when Spark's catalogue lists
        them, else (a view, whose files are its tables', or files elsewhere) the rows through Arrow. A
        partition column (sessions' event_date) lives in the files' paths; the relation has the table's
        columns, no other `key=value` folder of the path."""
        import duckdb

        if name not in self._model.refs:
            raise KeyError(f"{self._model.name} reads ref({name!r}), which is not among its dbt dependencies")
        relation = self._model.refs[name]
        frame = self._spark.table(relation)
        files = [f for f in frame.inputFiles() if f.startswith("file:")]
        is_view = self._spark.catalog.getTable(relation).tableType == "VIEW"
        if files and len(files) == len(frame.inputFiles()) and not is_view:
            rel = self._con.read_parquet([f.removeprefix("file:") for f in files], hive_partitioning=True)
            return rel.select(*(duckdb.ColumnExpression(column) for column in frame.columns))
        return self._con.from_arrow(frame.toArrow())


def _load(model: PythonModel) -> types.ModuleType:
    module = types.ModuleType(f"prodlens_python_model_{model.name}")
    exec(compile(model.code, f"<dbt python model {model.name}>", "exec"), module.__dict__)
    return module


def _as_arrow(result: Any) -> Any:
    import pyarrow as pa

    if isinstance(result, pa.Table):
        return result
    if hasattr(result, "arrow"):  # a DuckDB relation
        table = result.arrow()
        return table.read_all() if hasattr(table, "read_all") else table
    return pa.Table.from_pandas(result, preserve_index=False)


def run_models(models: list[PythonModel], spark: Any, *, started_at: datetime | None = None) -> Iterator[str]:
    """Run `models` (python_models() of the manifest the preceding `dbt build` wrote) against `spark`,
    in that order; yields each relation written."""
    import duckdb

    started = started_at or datetime.now(UTC)
    con = duckdb.connect()
    try:
        con.execute("set TimeZone = 'UTC'")
        for model in models:
            result = _load(model).model(StandIn(model, spark, con, started), con)
            table = _as_arrow(result)
            spark.createDataFrame(table).write.mode("overwrite").saveAsTable(model.relation)
            yield model.relation
    finally:
        con.close()
