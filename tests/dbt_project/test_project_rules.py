"""The dbt-project-evaluator rules that apply to ProdLens, asserted on dbt's own manifest and on the
relations the demo built. Deliberate exceptions are listed (with their reasons) in docs/contributing.md
and in EXCEPTIONS below; anything else that breaks a rule fails here.

Definitions follow dbt-project-evaluator:
- a source may be read only by staging models (`base_` models count as staging), and a model reads at
  most one source and nothing else beside it (no "direct join to source", no "multiple sources joined");
- a rejoin: parent P has children A and B, B's only child is A, and A reads P as well;
- fan-out: the number of a model's direct children that are leaves (models no other model reads);
- a primary-key test: `unique` and `not_null` on one column, or `unique_combination_of_columns`.
"""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

import duckdb
import pytest

from tests.conftest import not_null_columns
from tests.report.demo_run import DemoRun

FANOUT_THRESHOLD = 3
# (rule, model): why. Keep in step with docs/contributing.md.
EXCEPTIONS: dict[tuple[str, str], str] = {
    (
        "fanout",
        "int_analytics__requests",
    ): "the request-grain fact that six analytics marts aggregate, each at "
    "its own grain; a pass-through intermediate per mart would add nodes and no logic",
}


@pytest.fixture(scope="module")
def manifest(demo: DemoRun) -> dict[str, Any]:
    return json.loads((demo.home.dbt_target / "manifest.json").read_text())


def own(manifest: dict[str, Any], resource_type: str) -> dict[str, dict[str, Any]]:
    return {
        uid: node
        for uid, node in {**manifest["nodes"], **manifest["sources"]}.items()
        if node["resource_type"] == resource_type and node["package_name"] == "prodlens"
    }


def model_layer(node: dict[str, Any]) -> str:
    return node["fqn"][1] if len(node["fqn"]) > 2 else "root"


def children(manifest: dict[str, Any]) -> dict[str, list[str]]:
    """Model (and source) -> the models that read it directly."""
    out: dict[str, list[str]] = defaultdict(list)
    for uid, node in own(manifest, "model").items():
        for parent in node["depends_on"]["nodes"]:
            out[parent].append(uid)
    return out


def violations(found: list[tuple[str, str]], rule: str) -> list[str]:
    return [f"{name}: {detail}" for name, detail in found if (rule, name) not in EXCEPTIONS]


def test_sources_are_read_by_staging_alone_one_source_per_model(manifest: dict[str, Any]) -> None:
    found = []
    for node in own(manifest, "model").values():
        parents = node["depends_on"]["nodes"]
        sources = [p for p in parents if p.startswith("source.")]
        models = [p for p in parents if p.startswith("model.")]
        if sources and model_layer(node) != "staging":
            found.append((node["name"], f"reads sources {sources} outside staging"))
        if len(sources) > 1:
            found.append((node["name"], f"joins {len(sources)} sources: {sources}"))
        if sources and models:
            found.append((node["name"], f"joins a source with models: {sources} + {models}"))
    assert violations(found, "source") == []


def test_no_rejoins_of_upstream_concepts(manifest: dict[str, Any]) -> None:
    kids = children(manifest)
    models = own(manifest, "model")
    found = []
    for parent, direct in kids.items():
        for b in direct:
            b_children = kids.get(b, [])
            if len(b_children) == 1 and b_children[0] in direct:
                found.append(
                    (models[b]["name"], f"is read only by {b_children[0]}, which reads {parent} too")
                )
    assert violations(found, "rejoin") == []


def test_model_fanout(manifest: dict[str, Any]) -> None:
    kids = children(manifest)
    models = own(manifest, "model")
    found = []
    for uid, node in models.items():
        leaves = [c for c in kids.get(uid, []) if not kids.get(c)]
        if len(leaves) > FANOUT_THRESHOLD:
            found.append(
                (node["name"], f"{len(leaves)} leaf children: {sorted(models[c]['name'] for c in leaves)}")
            )
    assert violations(found, "fanout") == []


def test_every_model_has_a_primary_key_test(manifest: dict[str, Any]) -> None:
    unique: dict[str, set[str]] = defaultdict(set)
    not_null: dict[str, set[str]] = defaultdict(set)
    combination: set[str] = set()
    for node in own(manifest, "test").values():
        meta = node.get("test_metadata") or {}
        target = node.get("attached_node")
        if not target:
            continue
        column = node.get("column_name")
        not_null[target] |= not_null_columns(node)
        if meta.get("name") == "unique" and column:
            unique[target].add(column)
        elif meta.get("name") == "unique_combination_of_columns":
            combination.add(target)
    found = [
        (node["name"], "has neither unique + not_null on one column nor unique_combination_of_columns")
        for uid, node in own(manifest, "model").items()
        if uid not in combination and not (unique[uid] & not_null[uid])
    ]
    assert violations(found, "primary_key") == []


def test_every_model_and_every_built_column_is_documented(demo: DemoRun, manifest: dict[str, Any]) -> None:
    """The YAML describes every model and every column the model really has in the built warehouse."""
    con = duckdb.connect(str(demo.home.warehouse), read_only=True)
    try:
        built: dict[tuple[str, str], list[str]] = defaultdict(list)
        for schema, table, column in con.execute(
            "select table_schema, table_name, column_name from information_schema.columns "
            "order by table_schema, table_name, ordinal_position"
        ).fetchall():
            built[(schema, table)].append(column)
    finally:
        con.close()
    found = []
    for node in own(manifest, "model").values():
        if not node["description"].strip():
            found.append((node["name"], "no description"))
        documented = {name.lower() for name, col in node["columns"].items() if col["description"].strip()}
        columns = built.get((node["schema"], node["alias"]))
        if columns is None:
            found.append((node["name"], f"not built in {node['schema']}"))
            continue
        missing = [c for c in columns if c.lower() not in documented]
        if missing:
            found.append((node["name"], f"undocumented columns {missing}"))
    assert violations(found, "docs") == []


def test_every_source_table_has_freshness(manifest: dict[str, Any]) -> None:
    found = []
    for node in own(manifest, "source").values():
        freshness = node.get("freshness") or {}
        if not (freshness.get("warn_after") or {}).get("count") and not (
            freshness.get("error_after") or {}
        ).get("count"):
            found.append((f"{node['source_name']}.{node['name']}", "no freshness"))
        if not node.get("loaded_at_field"):
            found.append((f"{node['source_name']}.{node['name']}", "no loaded_at_field"))
    assert violations(found, "freshness") == []


def test_each_source_table_is_declared_once(manifest: dict[str, Any]) -> None:
    seen: dict[tuple[str, str], list[str]] = defaultdict(list)
    for node in own(manifest, "source").values():
        seen[(node["schema"], node["identifier"])].append(f"{node['source_name']}.{node['name']}")
    assert {k: v for k, v in seen.items() if len(v) > 1} == {}
