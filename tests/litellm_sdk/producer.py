"""LiteLLM's own StandardLoggingPayload lines, made by the real LiteLLM SDK (run as a script).

`python producer.py OUT.jsonl` starts a stand-in OpenAI-compatible provider on 127.0.0.1 (it answers with
the token usage the request asks for), makes the calls below through LiteLLM, and writes the payload
LiteLLM hands its logging callbacks for each one (what its bucket and custom loggers write), one JSON
line each. LiteLLM's response conversion, cost calculation, caching, router and payload builder all run;
nothing leaves the machine (LITELLM_LOCAL_MODEL_COST_MAP keeps LiteLLM off the network too).

Every prompt carries PROMPT_MARKER and every answer RESPONSE_MARKER: the test checks they are stored
nowhere. The case of each line is in its request tags (`case:<name>`).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"

import litellm
from litellm.caching.caching import Cache
from litellm.integrations.custom_logger import CustomLogger

PROMPT_MARKER = "PLANTED-PROMPT-7f3a"
RESPONSE_MARKER = "PLANTED-RESPONSE-9c1e"
#: one per call below, and two for the router: the primary's failure and the fallback's success
EXPECTED_PAYLOADS = 13
_USAGE = re.compile(r"USAGE (\d+) (\d+) (\d+)")


class StandIn(BaseHTTPRequestHandler):
    """An OpenAI-compatible provider: `USAGE prompt cached completion` in the prompt sets the usage it
    reports; FAIL500 in the prompt makes it fail."""

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        text = json.dumps(body.get("messages") or body.get("input"))
        if "FAIL500" in text:
            self._send(500, {"error": {"message": "stand-in failure", "type": "server_error"}})
            return
        match = _USAGE.search(text)
        prompt, cached, completion = (int(g) for g in match.groups()) if match else (12, 0, 7)
        usage = {
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": prompt + completion,
            "prompt_tokens_details": {"cached_tokens": cached},
        }
        if self.path.endswith("/embeddings"):
            self._send(
                200,
                {
                    "object": "list",
                    "model": body["model"],
                    "usage": usage,
                    "data": [{"object": "embedding", "index": 0, "embedding": [0.1, 0.2]}],
                },
            )
            return
        self._send(
            200,
            {
                "id": f"chatcmpl-standin-{threading.get_ident()}-{prompt}-{completion}",
                "object": "chat.completion",
                "created": 1764547200,
                "model": body["model"],
                "choices": [
                    {
                        "index": 0,
                        "finish_reason": "stop",
                        "message": {"role": "assistant", "content": f"{RESPONSE_MARKER} done"},
                    }
                ],
                "usage": usage,
            },
        )

    def _send(self, status: int, payload: dict[str, Any]) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


class DeferredExecutor:
    """Stands in for LiteLLM's logging thread pool and runs its tasks when flushed. LiteLLM submits a
    call's success logging to a thread before its router has set the fallback headers on the response, so
    whether the payload carries x-litellm-attempted-fallbacks depends on thread timing; flushing after the
    router returns makes the usual order (the router first) certain. The payload is still LiteLLM's."""

    def __init__(self) -> None:
        self.tasks: list[tuple[Any, tuple[Any, ...], dict[str, Any]]] = []

    def submit(self, fn: Any, *args: Any, **kwargs: Any) -> None:
        self.tasks.append((fn, args, kwargs))

    def flush(self) -> None:
        while self.tasks:
            fn, args, kwargs = self.tasks.pop(0)
            fn(*args, **kwargs)


class Collector(CustomLogger):
    def __init__(self) -> None:
        super().__init__()
        self.payloads: list[dict[str, Any]] = []

    def log_success_event(
        self, kwargs: dict, response_obj: object, start_time: object, end_time: object
    ) -> None:
        self.payloads.append(kwargs["standard_logging_object"])

    def log_failure_event(
        self, kwargs: dict, response_obj: object, start_time: object, end_time: object
    ) -> None:
        self.payloads.append(kwargs["standard_logging_object"])


def messages(text: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": f"{PROMPT_MARKER} {text}"}]


def tags(case: str, *more: str) -> dict[str, Any]:
    return {"tags": [f"case:{case}", *more]}


def main(out: str) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), StandIn)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}/v1"
    local = {"api_base": base, "api_key": "stand-in-key", "max_retries": 0}
    collector = Collector()
    litellm.callbacks = [collector]
    litellm.num_retries = 0

    # catalogue prices, with prompt-cache reads, as LiteLLM itself computes them
    litellm.completion(
        model="openai/gpt-4o",
        messages=messages("USAGE 1200 200 300"),
        metadata=tags("gpt-4o", "team-a"),
        **local,
    )
    # above 272k prompt tokens gpt-5.4 bills the whole request at its tier prices
    litellm.completion(
        model="openai/gpt-5.4", messages=messages("USAGE 300000 100000 2000"), metadata=tags("tier"), **local
    )
    litellm.embedding(
        model="openai/text-embedding-3-small",
        input=[f"{PROMPT_MARKER} USAGE 5000 0 0"],
        metadata=tags("embedding"),
        **local,
    )
    # ids LiteLLM resolves itself: an Azure deployment through its base model, a Bedrock regional id, an alias
    litellm.completion(
        model="azure/prod-deployment",
        base_model="azure/gpt-4o-2024-08-06",
        api_version="2024-10-21",
        messages=messages("hello"),
        mock_response=f"{RESPONSE_MARKER}",
        metadata=tags("azure"),
        api_base="http://127.0.0.1:9",
        api_key="k",
    )
    litellm.completion(
        model="bedrock/us.anthropic.claude-sonnet-4-5-20250929-v1:0",
        messages=messages("hello"),
        mock_response=f"{RESPONSE_MARKER}",
        metadata=tags("bedrock"),
    )
    litellm.completion(
        model="anthropic/claude-sonnet-4-5",
        messages=messages("hello"),
        mock_response=f"{RESPONSE_MARKER}",
        metadata=tags("anthropic", "team-a"),
    )
    # a self-hosted model with operator pricing in its deployment: no catalogue price, LiteLLM's cost
    litellm.completion(
        model="openai/acme-llama-70b",
        messages=messages("USAGE 1000 0 500"),
        input_cost_per_token=1e-6,
        output_cost_per_token=2e-6,
        metadata=tags("operator"),
        **local,
    )
    # LiteLLM's response cache: the second identical call is a hit
    litellm.cache = Cache(type="local")
    for _ in range(2):
        litellm.completion(
            model="openai/gpt-4o-mini",
            messages=messages("USAGE 800 0 100"),
            caching=True,
            metadata=tags("cache"),
            **local,
        )
    litellm.cache = None
    # a provider failure (the provider was called) and a refusal by budget (no provider call)
    with contextlib.suppress(litellm.InternalServerError):
        litellm.completion(
            model="openai/gpt-4o", messages=messages("FAIL500"), metadata=tags("provider-error"), **local
        )
    with contextlib.suppress(litellm.BadRequestError):
        litellm.completion(
            model="openai/gpt-4o",
            messages=messages("hello"),
            metadata=tags("budget"),
            mock_response=litellm.BudgetExceededError(current_cost=2.0, max_budget=1.0),
        )
    # the router: the primary deployment is down (nothing listens on port 9), the fallback group serves
    router = litellm.Router(
        model_list=[
            {
                "model_name": "primary",
                "litellm_params": {
                    "model": "openai/gpt-4o",
                    "api_base": "http://127.0.0.1:9/v1",
                    "api_key": "k",
                    "max_retries": 0,
                },
            },
            {"model_name": "backup", "litellm_params": {"model": "openai/gpt-4o-mini", **local}},
        ],
        fallbacks=[{"primary": ["backup"]}],
        num_retries=0,
    )
    pool, deferred = litellm.utils.executor, DeferredExecutor()
    litellm.utils.executor = deferred
    try:
        router.completion(model="primary", messages=messages("USAGE 500 0 50"), metadata=tags("fallback"))
    finally:
        litellm.utils.executor = pool
    deferred.flush()
    # LiteLLM runs success callbacks on a worker thread: wait for every call's payload
    deadline = time.monotonic() + 30
    while len(collector.payloads) < EXPECTED_PAYLOADS and time.monotonic() < deadline:
        time.sleep(0.05)
    server.shutdown()
    with open(out, "w", encoding="utf-8") as handle:
        for payload in collector.payloads:
            handle.write(json.dumps(payload, default=str) + "\n")


if __name__ == "__main__":
    main(sys.argv[1])
