"""tests/run: `@pytest.mark.slow` tests here are skipped unless selected with `-m slow` (CI's slow job)
or PRODLENS_SLOW=1, so the default `pytest` run stays fast."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if os.environ.get("PRODLENS_SLOW") == "1" or "slow" in (config.getoption("markexpr", "") or ""):
        return
    skip = pytest.mark.skip(reason="slow crash matrix: run with -m slow or PRODLENS_SLOW=1")
    for item in items:
        if "slow" in item.keywords and HERE in Path(str(item.path)).resolve().parents:
            item.add_marker(skip)
