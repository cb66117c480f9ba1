"""Where ProdLens keeps its state: everything lives under one folder, PRODLENS_HOME."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

DEFAULT_HOME = ".prod-lens"


@dataclass(frozen=True)
class Home:
    """Paths under PRODLENS_HOME. Build them with `Home.from_env()`."""

    root: Path

    @classmethod
    def from_env(cls) -> Home:
        root = Path(os.environ.get("PRODLENS_HOME", DEFAULT_HOME)).expanduser().resolve()
        return cls(root)

    def ensure(self) -> Home:
        self.root.mkdir(parents=True, exist_ok=True)
        return self

    @property
    def warehouse(self) -> Path:
        """The private working DuckDB file that loaders and dbt write."""
        return self.root / "warehouse.duckdb"

    @property
    def published(self) -> Path:
        """The analyst database, replaced atomically after each successful build."""
        return self.root / "prodlens.duckdb"

    @property
    def dlt_dir(self) -> Path:
        """dlt's pipelines folder: state and pending load packages."""
        return self.root / "dlt"

    @property
    def dbt_target(self) -> Path:
        return self.root / "dbt" / "target"

    @property
    def dbt_logs(self) -> Path:
        return self.root / "dbt" / "logs"

    @property
    def parquet(self) -> Path:
        return self.root / "parquet"

    @property
    def runs_log(self) -> Path:
        return self.root / "runs.log"

    @property
    def spill_root(self) -> Path:
        """DuckDB spill folders of the loaders, one per process: tmp/<pid>."""
        return self.root / "tmp"

    def spill_dir(self) -> Path:
        """This process's spill folder (content-free normalised rows that did not fit in memory)."""
        return self.spill_root / str(os.getpid())
