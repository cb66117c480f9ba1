"""Bad input at scale: random and mutated JSON lines never crash the loader, memory stays bounded, every
line is accounted for (read = loaded + duplicates + dead-lettered + expired) and every dead letter has a
reason. Truncated lines, wrong types, huge numbers, deep nesting, invalid UTF-8, empty lines and a 50 MB
line are all in the mix."""

from __future__ import annotations

import json
import os
import re
import resource
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pyarrow as pa
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from loaders.litellm.files import Cursor, TraceFile
from loaders.litellm.normalize import Normaliser
from prodlens.home import Home
from prodlens.ingest.traces import load_traces
from prodlens.names import REPO_SLUG_PATTERN, TENANT_ID_PATTERN
from tests.run.harness import REPO_ROOT

NOW = 1_760_000_000.0
EXPIRE_BEFORE = datetime.fromtimestamp(NOW - 30 * 86400, UTC)
BIG = 50 * 1024 * 1024


def base_record(i: int) -> dict:
    return {
        "id": f"req-{i}",
        "startTime": NOW + i,
        "endTime": NOW + i + 1.5,
        "model": "claude-sonnet-4-20250514",
        "custom_llm_provider": "anthropic",
        "prompt_tokens": 100 + i,
        "completion_tokens": 20,
        "status": "success",
        "metadata": {"user_api_key_user_email": "dev@acme.dev", "repo": "acme/web", "tenant_id": "acme"},
        "messages": [{"role": "user", "content": "prompt text"}],
    }


FIELDS = [
    "id",
    "startTime",
    "endTime",
    "model",
    "prompt_tokens",
    "completion_tokens",
    "status",
    "metadata",
    "usage",
    "timestamp",
    "attributes",
    "latency_ms",
    "custom_llm_provider",
]
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(FIELDS), inner, max_size=3),
    max_leaves=8,
)
HUGE = [
    "1e400",
    "-1e400",
    "123456789012345678901234567890123456789",
    "1e19",
    "9223372036854775808",
    "-9223372036854775809",
    "1.7976931348623157e308",
    "0.0000000000000000000000001",
]


@st.composite
def lines(draw: st.DrawFn) -> bytes:
    i = draw(st.integers(0, 50))
    record = base_record(i)
    kind = draw(
        st.sampled_from(
            [
                "valid",
                "old",
                "truncated",
                "wrong_type",
                "huge",
                "deep",
                "utf8",
                "empty",
                "binary",
                "not_object",
            ]
        )
    )
    if kind == "valid":
        return json.dumps(record).encode()
    if kind == "old":  # older than the retention horizon: expired
        record["startTime"] = NOW - 90 * 86400 - i
        return json.dumps(record).encode()
    if kind == "truncated":
        text = json.dumps(record)
        return text[: draw(st.integers(1, len(text) - 1))].encode()
    if kind == "wrong_type":
        for field in draw(st.lists(st.sampled_from(FIELDS), min_size=1, max_size=4)):
            record[field] = draw(json_values)
        return json.dumps(record).encode()
    if kind == "huge":
        field = draw(
            st.sampled_from(["prompt_tokens", "completion_tokens", "startTime", "latency_ms", "total_tokens"])
        )
        text = json.dumps({**record, field: "__HUGE__"})
        return text.replace('"__HUGE__"', draw(st.sampled_from(HUGE))).encode()
    if kind == "deep":
        depth = draw(st.integers(64, 20_000))
        opener, closer = draw(st.sampled_from([("[", "]"), ('{"a":', "}")]))
        nested = opener * depth + "1" + closer * depth
        where = draw(st.sampled_from(["metadata", "messages", "usage", "top"]))
        if where == "top":
            return nested.encode()
        return json.dumps({**record, where: "__DEEP__"}).replace('"__DEEP__"', nested).encode()
    if kind == "utf8":
        raw = json.dumps(record).encode()
        cut = draw(st.integers(0, len(raw)))
        bad = draw(st.sampled_from([b"\xff", b"\xc3\x28", b"\xed\xa0\x80", b"\xf8\x88\x80\x80\x80", b"\x80"]))
        return raw[:cut] + bad + raw[cut:]
    if kind == "empty":
        return draw(st.sampled_from([b"", b" ", b"\t", b"  \t ", b"\r"]))
    if kind == "not_object":
        return json.dumps(draw(json_values.filter(lambda v: not isinstance(v, dict)))).encode()
    return draw(st.binary(max_size=200)).replace(b"\n", b" ")


def normalise_file(
    path: Path, *, expire_before: datetime | None
) -> tuple[Normaliser, list[dict], list[dict]]:
    """Read `path` the way the loader does (files.py chunks into the Normaliser), without dlt."""
    normaliser = Normaliser(
        default_repo=None,
        default_tenant=None,
        repo_slug_pattern=REPO_SLUG_PATTERN,
        tenant_id_pattern=TENANT_ID_PATTERN,
        loaded_at=datetime.now(UTC),
        expire_before=expire_before,
    )
    trace_file = TraceFile(path, Cursor())
    for chunk in trace_file.chunks():
        normaliser.add(str(path), chunk.first_line, chunk.lines)
    normaliser.finish()
    accepted = [r for batch in normaliser.accepted() for r in pa.table(batch).to_pylist()]
    dead = [r for table in normaliser.rejected() for r in table.to_pylist()]
    return normaliser, accepted, dead


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


START_RSS = peak_rss_mb()


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)
@given(st.lists(lines(), min_size=1, max_size=40), st.booleans())
@example([json.dumps(base_record(1)).encode(), b"@@50MB@@", b""], True)
def test_every_line_is_accounted_for(tmp_path_factory, batch: list[bytes], expire: bool) -> None:
    path = tmp_path_factory.mktemp("bad") / "input.jsonl"
    big = b'{"id": "big", "startTime": 1760000000, "messages": "' + b"x" * BIG + b'"'  # truncated: no "}"
    path.write_bytes(b"\n".join(big if line == b"@@50MB@@" else line for line in batch) + b"\n")
    blank = sum(1 for line in batch if not line.strip(b" \t\r"))
    normaliser, accepted, dead = normalise_file(path, expire_before=EXPIRE_BEFORE if expire else None)
    try:
        counts = normaliser.counts
        assert counts.read == counts.loaded + counts.duplicates + counts.dead_lettered + counts.expired
        assert counts.read + counts.blank == len(batch)
        assert counts.blank == blank
        assert len(accepted) == counts.loaded and len(dead) == counts.dead_lettered
        assert all(d["reason"] and d["reason"].strip() for d in dead), dead
        assert all(len(d["raw_text"]) <= 4100 for d in dead)  # a 50 MB line is never stored whole
        lines_used = [r["source_line"] for r in accepted] + [d["source_line"] for d in dead]
        assert len(lines_used) == len(set(lines_used)) and all(1 <= n <= len(batch) for n in lines_used)
        if not expire:
            assert counts.expired == 0
    finally:
        normaliser.close()
    assert peak_rss_mb() - START_RSS < 1500, "memory grew beyond 1.5 GB"


@settings(
    max_examples=3, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)
@given(st.lists(lines(), min_size=5, max_size=30))
def test_the_dlt_loader_reconciles_with_the_raw_tables(tmp_path_factory, batch: list[bytes]) -> None:
    root = tmp_path_factory.mktemp("load")
    home = Home(root / "home")
    (root / "input.jsonl").write_bytes(b"\n".join(batch) + b"\n")
    counts = load_traces(home, [str(root / "input.jsonl")], expire_before=EXPIRE_BEFORE)
    assert counts.read == counts.loaded + counts.duplicates + counts.dead_lettered + counts.expired
    if not home.warehouse.exists():
        return
    with duckdb.connect(str(home.warehouse), read_only=True) as con:
        tables = {
            t
            for (t,) in con.execute(
                "select table_name from information_schema.tables where table_schema = 'raw'"
            ).fetchall()
        }
        requests = (
            con.execute("select count(*) from raw.litellm_requests").fetchone()[0]
            if "litellm_requests" in tables
            else 0
        )
        rejects = (
            con.execute("select count(*), count(reason) from raw.litellm_rejects").fetchone()
            if "litellm_rejects" in tables
            else (0, 0)
        )
    assert requests == counts.loaded
    assert rejects == (counts.dead_lettered, counts.dead_lettered)


def test_a_50_mb_line_loads_in_bounded_memory(home: Home, tmp_path: Path) -> None:
    """Through the whole `prodlens load traces` (dlt included), in a child process whose peak memory
    is measured: a 50 MB valid record (content dropped) and a 50 MB truncated one (dead letter)."""
    path = tmp_path / "big.jsonl"
    with open(path, "wb") as fh:
        fh.write(json.dumps(base_record(1)).encode() + b"\n")
        big = base_record(2)
        big["messages"] = [{"role": "user", "content": "y" * BIG}]
        fh.write(json.dumps(big).encode() + b"\n")
        fh.write(b'{"id": "cut", "startTime": 1760000000, "messages": "' + b"z" * BIG + b"\n")
        fh.write(json.dumps(base_record(3)).encode() + b"\n")
    env = {**os.environ, "PRODLENS_HOME": str(home.root)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "prodlens.cli", "load", "traces", str(path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        cwd=REPO_ROOT,
    )
    _, status, usage = os.wait4(proc.pid, 0)
    assert proc.stdout is not None and proc.stderr is not None
    out, err = proc.stdout.read().decode(), proc.stderr.read().decode()
    assert os.waitstatus_to_exitcode(status) == 0, out + err
    peak_mb = usage.ru_maxrss / 1024
    print(f"peak memory of prodlens load traces with two 50 MB lines: {peak_mb:.0f} MB")
    assert peak_mb < 1500, f"peak memory {peak_mb:.0f} MB for a 50 MB line"
    match = re.search(r"(\d+) lines read, (\d+) loaded, (\d+) duplicates, (\d+) dead-lettered", out)
    assert match and tuple(map(int, match.groups())) == (4, 3, 0, 1), out
    with duckdb.connect(str(home.warehouse), read_only=True) as con:
        reason, text = con.execute("select reason, raw_text from raw.litellm_rejects").fetchone()
    assert reason == "invalid JSON" and len(text) < 4100
    assert home.warehouse.stat().st_size < 20 * 1024 * 1024  # the 100 MB of content never reached it
