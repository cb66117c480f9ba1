"""Where the dbt project and the demo's sample data are.

An installed wheel carries them as package data under `prodlens/_bundle/` (laid out like the
repository root: dbt_project.yml, profiles.yml, models/, macros/, seeds/, analyses/, tests/dbt/,
sample_data/). A checkout (or an editable install) uses the repository root itself.
PRODLENS_PROJECT_DIR overrides both.
"""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

from prodlens.errors import UserError

BUNDLE = "_bundle"
PROJECT_FILE = "dbt_project.yml"


def project_dir() -> Path:
    """The dbt project folder: PRODLENS_PROJECT_DIR, else the checkout, else the wheel's bundle."""
    override = os.environ.get("PRODLENS_PROJECT_DIR", "").strip()
    if override:
        path = Path(override).expanduser().resolve()
        if not (path / PROJECT_FILE).is_file():
            raise UserError(
                f"PRODLENS_PROJECT_DIR={override!r} holds no {PROJECT_FILE}; unset it or fix the path"
            )
        return path
    checkout = Path(__file__).resolve().parent.parent
    if (checkout / PROJECT_FILE).is_file():  # a checkout or an editable install
        return checkout
    bundled = Path(str(resources.files("prodlens").joinpath(BUNDLE)))
    if (bundled / PROJECT_FILE).is_file():  # an installed wheel
        return bundled
    raise UserError(
        f"the ProdLens dbt project is missing (no {PROJECT_FILE} in {bundled} or {checkout}); "
        "reinstall the prodlens package or set PRODLENS_PROJECT_DIR to a checkout"
    )


def sample_data_dir() -> Path:
    """The bundled sample data of `prodlens demo` (LiteLLM logs and recorded GitHub answers)."""
    return project_dir() / "sample_data"
