"""loaders.litellm.stream: one DuckDB statement over tables handed to it while it runs."""

from __future__ import annotations

import threading

import duckdb
import pyarrow as pa
import pytest

from loaders.litellm.stream import StreamingStatement

SCHEMA = pa.schema([("n", pa.int64()), ("word", pa.large_string())])


def _table(start: int, count: int) -> pa.Table:
    return pa.table(
        {"n": pa.array(range(start, start + count), pa.int64()), "word": [f"w{i}" for i in range(count)]},
        schema=SCHEMA,
    )


def test_every_row_of_every_table_goes_through_one_statement_in_order() -> None:
    con = duckdb.connect()
    statement = StreamingStatement(
        con, "create table t as select n, upper(word) as word from batch", {}, SCHEMA, scan_rows=7
    )
    for start in range(0, 1000, 100):  # ten tables, each cut into record batches of 7 rows
        statement.put(_table(start, 100))
    statement.close()
    rows = con.execute("select n, word from t order by rowid").fetchall()
    assert [n for n, _ in rows] == list(range(1000))
    assert rows[:2] == [(0, "W0"), (1, "W1")]
    assert con.execute("select count(*) from duckdb_tables() where table_name = 't'").fetchone() == (1,)


def test_no_input_still_runs_the_statement() -> None:
    con = duckdb.connect()
    statement = StreamingStatement(con, "create table t as select * from batch", {}, SCHEMA)
    statement.close()
    assert con.execute("select count(*) from t").fetchone() == (0,)
    assert [c[0] for c in con.execute("describe t").fetchall()] == ["n", "word"]


def test_parameters_reach_the_statement() -> None:
    con = duckdb.connect()
    statement = StreamingStatement(
        con, "create table t as select n + $add as n from batch", {"add": 10}, SCHEMA
    )
    statement.put(_table(0, 3))
    statement.close()
    assert con.execute("select n from t order by n").fetchall() == [(10,), (11,), (12,)]


def test_a_failing_statement_is_raised_to_the_caller_not_hung_on() -> None:
    con = duckdb.connect()
    # fails on the first row whose cast does not work, after the statement has started reading
    statement = StreamingStatement(
        con, "create table t as select cast(word as integer) as n from batch", {}, SCHEMA, max_queued=1
    )
    with pytest.raises(duckdb.ConversionException):
        for start in range(0, 100_000, 100):  # far more than the queue holds: put notices the failure
            statement.put(_table(start, 100))
        statement.close()


def test_cancel_stops_a_statement_whose_input_ended_in_an_error() -> None:
    con = duckdb.connect()
    statement = StreamingStatement(
        con, "create table t as select * from batch", {}, SCHEMA, max_queued=1, name="copy"
    )
    statement.put(_table(0, 10))
    assert [t for t in threading.enumerate() if t.name == "prodlens-copy" and t.is_alive()]
    statement.cancel()  # the reader failed: no end of input, yet nothing waits forever
    assert not [t for t in threading.enumerate() if t.name == "prodlens-copy" and t.is_alive()]
    with pytest.raises(RuntimeError, match="already finished"):
        statement.put(_table(10, 10))
