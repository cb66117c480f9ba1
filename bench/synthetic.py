"""Synthetic LiteLLM-shaped records for the bundled sample data, tests and benchmarks.

Deterministic for a given seed. Records carry prompt/response content of realistic size (which the
loader must drop) in every shape ProdLens reads: LiteLLM's StandardLoggingPayload, the OpenInference
export, a custom-callback shape and OpenTelemetry GenAI attributes.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

DEVELOPERS = ("alice@acme.dev", "bob@acme.dev", "carol@acme.dev", "dave@acme.dev")
REPOS = ("acme/web", "acme/api")
# (provider, model, share of traffic, typical latency ms)
MODELS = (
    ("anthropic", "claude-sonnet-4-20250514", 0.45, 2400.0),
    ("anthropic", "claude-3-5-haiku-20241022", 0.25, 900.0),
    ("openai", "gpt-4o", 0.15, 1600.0),
    ("openai", "gpt-4o-mini", 0.10, 700.0),
    ("anthropic", "claude-3-opus-20240229", 0.05, 5200.0),
)
WORDS = [
    "the",
    "a",
    "function",
    "test",
    "refactor",
    "module",
    "error",
    "fix",
    "add",
    "remove",
    "return",
    "value",
    "type",
    "import",
    "class",
    "async",
]


@dataclass
class Synth:
    """A seeded generator of request records."""

    seed: int = 7
    start: datetime = datetime(2025, 9, 1, tzinfo=UTC)
    days: int = 61
    content_chars: int = 600
    tenant: str | None = "acme"
    developers: tuple[str, ...] = DEVELOPERS
    repos: tuple[str, ...] = REPOS
    rng: random.Random = field(init=False)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)

    # ------------------------------------------------------------------ pieces
    def text(self, chars: int) -> str:
        words: list[str] = []
        size = 0
        while size < chars:
            w = self.rng.choice(WORDS)
            words.append(w)
            size += len(w) + 1
        return " ".join(words)[:chars]

    def when(self) -> datetime:
        day = self.rng.randrange(self.days)
        base = self.start + timedelta(days=day)
        if base.weekday() >= 5 and self.rng.random() < 0.7:  # quieter weekends
            base -= timedelta(days=2)
        return base + timedelta(seconds=self.rng.uniform(8 * 3600, 19 * 3600))

    def pick_model(self) -> tuple[str, str, float]:
        r = self.rng.random()
        acc = 0.0
        for provider, model, share, latency in MODELS:
            acc += share
            if r <= acc:
                return provider, model, latency
        provider, model, _, latency = MODELS[0]
        return provider, model, latency

    def usage(self) -> tuple[int, int, int, int]:
        prompt = int(self.rng.lognormvariate(7.3, 0.8))
        completion = int(self.rng.lognormvariate(5.5, 0.7))
        cache_read = int(prompt * self.rng.uniform(0.3, 0.8)) if self.rng.random() < 0.35 else 0
        cache_write = int(prompt * 0.1) if cache_read == 0 and self.rng.random() < 0.1 else 0
        return prompt, completion, cache_read, cache_write

    # ------------------------------------------------------------------ shapes
    def standard_logging_payload(self, *, experiment: bool = True) -> dict[str, Any]:
        """LiteLLM's StandardLoggingPayload, as its S3/GCS/generic-API loggers write it."""
        provider, model, latency = self.pick_model()
        start = self.when()
        dur = max(self.rng.gauss(latency, latency * 0.35), 80.0) / 1000.0
        failed = self.rng.random() < 0.04
        prompt, completion, cache_read, cache_write = self.usage()
        dev = self.rng.choice(self.developers)
        streamed = self.rng.random() < 0.6
        group = "claude-sonnet" if provider == "anthropic" else "gpt-4o"
        accepted = self.rng.random() < 0.55
        metadata: dict[str, Any] = {
            "user_api_key_hash": uuid.UUID(int=self.rng.getrandbits(128)).hex,
            "user_api_key_alias": f"{dev.split('@')[0]}-laptop",
            "user_api_key_user_id": dev.split("@")[0],
            "user_api_key_user_email": dev,
            "user_api_key_team_id": "platform" if dev < "c" else "product",
            "user_api_key_org_id": self.tenant,
            "session_id": f"session-{dev.split('@')[0]}-{start:%Y%m%d}-{self.rng.randrange(3)}",
            "repo": self.rng.choice(self.repos),
            "accepted": accepted,
            "requester_metadata": {"client": "claude-code", "api_key": "sk-live-should-never-be-stored"},
            "spend_logs_metadata": None,
            "usage_object": {
                "prompt_tokens": prompt,
                "completion_tokens": completion,
                "cache_read_input_tokens": cache_read,
                "cache_creation_input_tokens": cache_write,
            },
        }
        if accepted:
            metadata["diff_ratio"] = round(self.rng.uniform(0.4, 1.0), 2)
            metadata["accepted_lines"] = self.rng.randrange(1, 80)
        if experiment and self.rng.random() < 0.3:
            metadata["prompt_management_metadata"] = {
                "prompt_id": "code-review",
                "prompt_version": self.rng.choice(["v1", "v2"]),
                "experiment_id": "review-prompt-2025q4",
                "variant": self.rng.choice(["control", "concise"]),
            }
        return {
            "id": f"chatcmpl-{uuid.UUID(int=self.rng.getrandbits(128))}",
            "trace_id": str(uuid.UUID(int=self.rng.getrandbits(128))),
            "call_type": "acompletion",
            "status": "failure" if failed else "success",
            "model": model,
            "model_group": group,
            "custom_llm_provider": provider,
            "api_base": f"https://api.{provider}.com",
            "startTime": start.timestamp(),
            "endTime": start.timestamp() + dur,
            "completionStartTime": start.timestamp() + (dur * 0.3 if streamed else dur),
            "prompt_tokens": prompt,
            "completion_tokens": 0 if failed else completion,
            "total_tokens": prompt + (0 if failed else completion),
            "response_cost": None,
            "cache_hit": False,
            "request_tags": ["claude-code"],
            "end_user": "",
            "metadata": metadata,
            "hidden_params": {"model_id": "m1", "api_base": f"https://api.{provider}.com"},
            "error_information": {"error_code": "429", "error_class": "RateLimitError"} if failed else None,
            "messages": [
                {"role": "system", "content": self.text(self.content_chars // 3)},
                {"role": "user", "content": self.text(self.content_chars)},
            ],
            "response": None
            if failed
            else {"choices": [{"message": {"role": "assistant", "content": self.text(self.content_chars)}}]},
            "model_parameters": {"temperature": 0.2},
        }

    def openinference(self) -> dict[str, Any]:
        """The ProdLens/OpenInference export shape."""
        provider, model, latency = self.pick_model()
        start = self.when()
        prompt, completion, _, _ = self.usage()
        dev = self.rng.choice(self.developers)
        session = f"session_{dev.split('@')[0]}-{start:%Y%m%d}"
        return {
            "timestamp": start.isoformat().replace("+00:00", "Z"),
            "context": {"span_id": f"{self.rng.getrandbits(64):016x}"},
            "attributes": {
                "llm.model_name": f"{provider}/{model}",
                "llm.provider": provider,
                "status_code": 200 if self.rng.random() > 0.03 else 500,
                "latency_ms": round(max(self.rng.gauss(latency, latency * 0.3), 60.0), 1),
                "llm.token_count.prompt": prompt,
                "llm.token_count.completion": completion,
                "session.id": session,
                "user.id": dev,
                "llm.provider.name": provider,
                "input.value": self.text(self.content_chars),
                "output.value": self.text(self.content_chars),
                "prod_lens.accepted": self.rng.random() < 0.5,
            },
            "usage": {
                "input_tokens": prompt,
                "output_tokens": completion,
                "total_tokens": prompt + completion,
            },
            "metadata": {"developer_id": dev, "session_id": session, "repo": self.rng.choice(self.repos)},
        }

    def custom_callback(self) -> dict[str, Any]:
        """A custom-callback shape; its timestamps carry an offset followed by a stray `Z`."""
        provider, model, latency = self.pick_model()
        start = self.when()
        prompt, completion, _, _ = self.usage()
        dev = self.rng.choice(self.developers)
        failed = self.rng.random() < 0.05
        return {
            "timestamp": start.isoformat(timespec="microseconds") + "Z",
            "model": f"{provider}/{model}",
            "call_type": "completion",
            "usage": {
                "prompt_tokens": prompt,
                "completion_tokens": completion,
                "total_tokens": prompt + completion,
            },
            "latency_ms": round(max(self.rng.gauss(latency, latency * 0.3), 60.0), 1),
            "status": "error" if failed else "success",
            "status_code": 503 if failed else 200,
            "metadata": {
                "session_id": f"cb-{dev.split('@')[0]}-{start:%Y%m%d}",
                "repo": self.rng.choice(self.repos),
            },
            "developer_id": dev,
            "error": "upstream overloaded" if failed else None,
            "input": self.text(self.content_chars),
            "output": self.text(self.content_chars),
        }

    def otel_genai(self) -> dict[str, Any]:
        """OpenTelemetry GenAI semantic-convention attributes (cache tokens included in input)."""
        provider, model, latency = self.pick_model()
        start = self.when()
        prompt, completion, cache_read, cache_write = self.usage()
        dev = self.rng.choice(self.developers)
        return {
            "timestamp": int(start.timestamp() * 1000),
            "span_id": f"{self.rng.getrandbits(64):016x}",
            "attributes": {
                "gen_ai.request.model": model,
                "gen_ai.response.model": model,
                "gen_ai.provider.name": provider,
                "gen_ai.usage.input_tokens": prompt,
                "gen_ai.usage.output_tokens": completion,
                "gen_ai.usage.cache_read.input_tokens": cache_read,
                "gen_ai.usage.cache_creation.input_tokens": cache_write,
                "duration_ms": round(max(self.rng.gauss(latency, latency * 0.3), 60.0), 1),
                "user.id": dev,
                "repo": self.rng.choice(self.repos),
                "gen_ai.prompt": self.text(self.content_chars),
                "gen_ai.completion": self.text(self.content_chars),
            },
        }
