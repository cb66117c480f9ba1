"""Regenerate the bundled sample logs (deterministic): python sample_data/make_samples.py

Covers every input shape the loader reads, plus the cases it must handle: a gzip log, S3-logger JSON
files under YYYY-MM-DD/ folders, a JSON array file, a second tenant, a re-exported duplicate and a few
malformed lines that end up in marts.rejected_traces.
"""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime
from pathlib import Path

from bench.synthetic import Synth

OUT = Path(__file__).resolve().parent / "litellm"


def dump(record: dict) -> str:
    return json.dumps(record, separators=(",", ":"))


def main() -> None:
    synth = Synth(seed=11, content_chars=160)
    september = Synth(seed=12, days=30, content_chars=160)
    october = Synth(seed=13, start=datetime(2025, 10, 1, tzinfo=UTC), days=31, content_chars=160)
    globex = Synth(
        seed=14,
        tenant="globex",
        developers=("alice@globex.io", "erin@globex.io"),
        repos=("globex/app",),
        content_chars=160,
    )

    proxy = OUT / "proxy"
    proxy.mkdir(parents=True, exist_ok=True)
    sept = [september.standard_logging_payload() for _ in range(900)]
    sept.sort(key=lambda r: r["startTime"])
    lines = [dump(r) for r in sept]
    lines.insert(100, '{"id": "broken-1", "startTime": 1757000000, "messages": [{"content": "cut off')
    lines.insert(200, '["not", "an", "object"]')
    lines.insert(300, dump({"id": "no-time", "model": "gpt-4o", "prompt_tokens": 10}))
    lines.insert(
        400, dump({"id": "neg-tokens", "startTime": 1757500000, "model": "gpt-4o", "prompt_tokens": -3})
    )
    lines.insert(
        500,
        dump(
            {
                "id": "text-tokens",
                "startTime": 1757600000,
                "model": "gpt-4o",
                "usage": {"prompt_tokens": "many"},
            }
        ),
    )
    lines.insert(600, lines[50])  # the same record logged twice
    (proxy / "litellm-2025-09.jsonl").write_text("\n".join(lines) + "\n")

    octo = sorted((october.standard_logging_payload() for _ in range(900)), key=lambda r: r["startTime"])
    with gzip.open(proxy / "litellm-2025-10.jsonl.gz", "wt") as fh:
        fh.write("\n".join(dump(r) for r in octo) + "\n")

    s3 = OUT / "s3"
    for record in (october.standard_logging_payload() for _ in range(12)):
        day = datetime.fromtimestamp(record["startTime"], UTC).strftime("%Y-%m-%d")
        folder = s3 / day
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{record['id']}.json").write_text(json.dumps(record, indent=1))
    (s3 / "batch-export.json").write_text(json.dumps([globex.standard_logging_payload() for _ in range(60)]))

    exports = OUT / "exports"
    exports.mkdir(parents=True, exist_ok=True)
    (exports / "openinference.jsonl").write_text(
        "\n".join(dump(synth.openinference()) for _ in range(150)) + "\n"
    )
    (exports / "custom-callback.ndjson").write_text(
        "\n".join(dump(synth.custom_callback()) for _ in range(150)) + "\n"
    )
    (exports / "otel-genai.jsonl").write_text("\n".join(dump(synth.otel_genai()) for _ in range(100)) + "\n")


if __name__ == "__main__":
    main()
