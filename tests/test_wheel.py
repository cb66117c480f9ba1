"""The wheel is the product: built from this checkout, installed into a fresh virtualenv outside it, it
carries the dbt project and the sample data, and `prodlens demo` runs there.

The fresh virtualenv gets the wheel with pip (no dependencies downloaded: no network in tests); the
libraries it depends on (dbt, dlt, DuckDB, ...) are made visible by a `.pth` line naming this test
environment's site-packages. That line adds a plain path, so the checkout's editable install (its own
`.pth` files) is not activated: the `prodlens` that runs is the wheel's, which the test checks.
"""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT
from tests.test_demo import sample_lines

BUNDLE = "prodlens/_bundle/"


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(out),
            ".",
        ],
        cwd=REPO_ROOT,
        check=True,
        capture_output=True,
    )
    (built,) = out.glob("prodlens-*.whl")
    return built


def test_wheel_carries_the_dbt_project_and_the_sample_data(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    for path in ("dbt_project.yml", "profiles.yml", "seeds/model_prices.csv", "models/marts/sessions.sql"):
        assert BUNDLE + path in names, path
    for folder in ("models", "macros", "seeds", "analyses", "tests/dbt"):
        tracked = subprocess.run(
            ["git", "ls-files", folder], cwd=REPO_ROOT, capture_output=True, text=True, check=True
        ).stdout.split()
        missing = [f for f in tracked if BUNDLE + f not in names]
        assert tracked and not missing, (folder, missing)
    samples = [n for n in names if n.startswith(BUNDLE + "sample_data/litellm/")]
    assert len(samples) >= 10
    assert "loaders/litellm/__init__.py" in names and "loaders/github/__init__.py" in names
    assert not [n for n in names if n.startswith("tests/") or "__pycache__" in n]


def test_prodlens_demo_runs_from_the_installed_wheel(wheel: Path, tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, capture_output=True)
    python = venv / "bin" / "python"
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    (Path(site) / "test-dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run(
        [str(python), "-m", "pip", "install", "--no-deps", "--no-index", "-q", str(wheel)],
        check=True,
        capture_output=True,
    )
    work = tmp_path / "elsewhere"  # neither the checkout nor below it
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PRODLENS_", "DBT_", "PYTHON"))}
    env["PRODLENS_HOME"] = str(work / "home")
    where = subprocess.run(
        [str(python), "-c", "import prodlens.project as p; print(p.__file__); print(p.project_dir())"],
        cwd=work,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    assert where[0].startswith(site) and where[1] == str(Path(site) / "prodlens" / "_bundle")

    demo = subprocess.run(
        [str(venv / "bin" / "prodlens"), "demo"], cwd=work, env=env, capture_output=True, text=True
    )
    assert demo.returncode == 0, demo.stdout + demo.stderr
    assert f"{sample_lines()} lines read" in demo.stdout  # every bundled sample line was read
    assert "Cost by model (USD)" in demo.stdout and "Requests per developer" in demo.stdout
    assert (work / "home" / "prodlens.duckdb").is_file()
    # dbt wrote its target and logs into the home, never into the installed package
    assert (work / "home" / "dbt" / "target" / "manifest.json").is_file()
    assert not (Path(site) / "prodlens" / "_bundle" / "target").exists()
    assert not (Path(site) / "prodlens" / "_bundle" / "logs").exists()
