"""`dbt build` on a lake target (prodlens.target): declare the raw tables, build the SQL models, run the
Python models through prodlens.python_models, then test those."""

from __future__ import annotations

from collections.abc import Sequence

from prodlens import target
from prodlens.dbt_runner import read_manifest, run_dbt
from prodlens.home import Home
from prodlens.lake import operation_args
from prodlens.python_models import python_models, run_models


def build_on_lake(home: Home, args: Sequence[str], *, quiet: bool) -> bool:
    """Every step of a build on the lake target; False at the first that fails (dbt says why)."""
    if not run_dbt(home, ["parse"], quiet=True):
        return False
    lake_args = operation_args(home, target.lake_url(home))
    if not run_dbt(home, ["run-operation", "create_lake_sources", "--args", lake_args], quiet=quiet):
        return False
    models = python_models(read_manifest(home))
    names = [model.name for model in models]
    if not run_dbt(home, ["build", *args, "--exclude", *names], quiet=quiet):
        return False
    from pyspark.sql import SparkSession  # the session dbt-spark started in this process

    spark = SparkSession.builder.getOrCreate()
    for relation in run_models(models, spark):
        if not quiet:
            print(f"python model {relation}: written by prodlens.python_models")
    return run_dbt(home, ["test", "--select", *names], quiet=quiet).success
