"""ProdLens loaders: dlt sources for LiteLLM logs and GitHub, the pipeline runner and the CLI."""

import os

# No network from the product: dlt's anonymous telemetry is off unless the user turns it on.
os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")

__version__ = "0.1.0"
