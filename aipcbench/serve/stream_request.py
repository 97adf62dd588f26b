"""One OpenAI-compatible streamed request, and what it measured.

The clock starts just before the request's first byte is written and every streamed event is
stamped when its line arrived (``http``). TTFT is the first event that carries generated text;
the inter-token latencies are the gaps between such events. Token counts come from the server's
``usage`` (``stream_options.include_usage``) when it sends one, else one token per text event
(said in ``tokens_counted_by``). Counting, JSON decoding and summing happen after the response
is complete or as lines arrive, never between sending and the first byte.

A failed request (refused, HTTP 4xx/5xx, a redirect, a malformed or stalled stream, an ``error``
event) is a result too: it is counted as failed in its level, with one line saying why.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

from aipcbench.serve.http import Connection, Endpoint, HttpError, Pool

COMPLETIONS = "completions"  # /v1/completions: prompt as text or token ids
CHAT = "chat"  # /v1/chat/completions: one user message
APIS = (COMPLETIONS, CHAT)
MAX_BODY_BYTES = 64 * 2**20
REASON_CHARS = 200


@dataclass(frozen=True)
class Prompt:
    """What one request sends: token ids (exact length, where the engine takes them) or text."""

    token_ids: tuple[int, ...] | None
    text: str | None
    tokens: int  # the intended length

    def payload(self) -> list[int] | str:
        return list(self.token_ids) if self.token_ids is not None else (self.text or "")


@dataclass(frozen=True)
class RequestSpec:
    """Everything the request function needs, fixed for a whole level."""

    endpoint: Endpoint
    api: str
    model: str
    output_tokens: int
    extra_body: dict[str, Any] = field(default_factory=dict)  # engine-specific, e.g. ignore_eos
    headers: dict[str, str] = field(default_factory=dict)  # e.g. Authorization (never recorded)
    timeout_s: float = 600.0
    idle_timeout_s: float = 120.0
    max_body_bytes: int = MAX_BODY_BYTES

    @property
    def path(self) -> str:
        base = self.endpoint.base_path or "/v1"
        return f"{base}/chat/completions" if self.api == CHAT else f"{base}/completions"

    def body(self, prompt: Prompt) -> bytes:
        data: dict[str, Any] = {
            "model": self.model,
            "max_tokens": self.output_tokens,
            "temperature": 0.0,
            "stream": True,
            "stream_options": {"include_usage": True},
        }
        if self.api == CHAT:
            data["messages"] = [{"role": "user", "content": prompt.text or ""}]
        else:
            data["prompt"] = prompt.payload()
        data.update(self.extra_body)
        return json.dumps(data).encode()


@dataclass(frozen=True)
class RequestResult:
    """One request's outcome; times in seconds, ``sent_s`` on the level's clock."""

    ok: bool
    sent_s: float
    e2e_s: float | None
    ttft_s: float | None
    output_tokens: int
    input_tokens: int | None  # the server's count, else the prompt's intended length
    tokens_counted_by: str  # usage | events
    token_gaps_s: tuple[float, ...] = ()  # between successive text events
    reason: str = ""

    @property
    def tpot_s(self) -> float | None:
        """Time per output token after the first: (E2E - TTFT) / (tokens - 1)."""
        if not self.ok or self.e2e_s is None or self.ttft_s is None or self.output_tokens < 2:
            return None
        return (self.e2e_s - self.ttft_s) / (self.output_tokens - 1)


def _text_of(event: dict[str, Any]) -> str:
    choices = event.get("choices")
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        return ""
    choice = choices[0]
    text = choice.get("text")
    if isinstance(text, str):
        return text
    delta = choice.get("delta")
    if isinstance(delta, dict):
        parts = [delta.get(k) for k in ("content", "reasoning_content", "reasoning")]
        return "".join(p for p in parts if isinstance(p, str))
    return ""


def _error_of(event: dict[str, Any]) -> str | None:
    error = event.get("error")
    if error is None:
        return None
    if isinstance(error, dict):
        error = error.get("message", error)
    return f"error event: {str(error)[:REASON_CHARS]}"


class _Stream:
    """Reads the server-sent events of one response into counts and times."""

    def __init__(self, started: float):
        self.started = started
        self.first: float | None = None
        self.last: float | None = None
        self.gaps: list[float] = []
        self.events = 0
        self.usage: dict[str, Any] | None = None

    def line(self, arrived: float, raw: bytes) -> str | None:
        """Take one line; a reason string if the stream is an error."""
        if not raw.startswith(b"data:"):
            return None  # comments, event names, blank separators
        data = raw[5:].strip()
        if data == b"[DONE]":
            return None
        try:
            event = json.loads(data)
        except ValueError:
            return f"malformed event: {data[:60]!r}"
        if not isinstance(event, dict):
            return f"malformed event: {data[:60]!r}"
        error = _error_of(event)
        if error:
            return error
        if isinstance(event.get("usage"), dict):
            self.usage = event["usage"]
        if _text_of(event):
            if self.first is None:
                self.first = arrived
            elif self.last is not None:
                self.gaps.append(arrived - self.last)
            self.last = arrived
            self.events += 1
        return None


def _usage_count(usage: dict[str, Any] | None, key: str) -> int | None:
    value = (usage or {}).get(key)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 10**9:
        return None
    return value


async def send(pool: Pool, spec: RequestSpec, prompt: Prompt, level_start: float) -> RequestResult:
    """Send one streamed request over a pooled connection and time it."""
    body = spec.body(prompt)
    headers = {"Content-Type": "application/json", "Accept": "text/event-stream", **spec.headers}
    stream = _Stream(time.perf_counter())
    deadline = time.monotonic() + spec.timeout_s
    held: list[Connection] = []
    try:
        held.append(await pool.acquire())
        response = await _post(pool, held, spec, headers, body, stream)
        problem = await _read(response, spec, deadline, stream)
    except HttpError as exc:
        problem = str(exc)
    finally:
        if held:
            pool.release(held[-1])
    ended = time.perf_counter()
    if not problem and stream.first is None:
        problem = "the stream ended without any generated text"
    if problem:
        return RequestResult(
            False,
            stream.started - level_start,
            None,
            None,
            stream.events,
            None,
            "events",
            (),
            problem[:REASON_CHARS],
        )
    counted = _usage_count(stream.usage, "completion_tokens")
    return RequestResult(
        ok=True,
        sent_s=stream.started - level_start,
        e2e_s=ended - stream.started,
        ttft_s=stream.first - stream.started,
        output_tokens=counted if counted else stream.events,
        input_tokens=_usage_count(stream.usage, "prompt_tokens") or prompt.tokens,
        tokens_counted_by="usage" if counted else "events",
        token_gaps_s=tuple(stream.gaps),
    )


async def _post(pool: Pool, held: list[Connection], spec: RequestSpec, headers, body: bytes, stream: _Stream):
    """POST on the held connection; once more on a new one if a kept-alive connection turns out
    to have been closed by the server while idle (llama.cpp's HTTP server closes one after a few
    requests), the clock restarted there."""
    try:
        return await held[-1].send("POST", spec.path, headers, body, spec.idle_timeout_s)
    except HttpError:
        if held[-1].requests < 2:
            raise
    held[-1].close()
    held.append(await pool.fresh())
    stream.started = time.perf_counter()
    return await held[-1].send("POST", spec.path, headers, body, spec.idle_timeout_s)


async def _read(response, spec: RequestSpec, deadline: float, stream: _Stream) -> str:
    """Read a response's events into ``stream``; the reason it failed, or ""."""
    if 300 <= response.status < 400:
        where = response.headers.get("location", "?")[:80]
        return f"HTTP {response.status} redirect to {where!r}: not followed"
    if response.status != 200:
        text = await response.read_all(
            idle_timeout_s=spec.idle_timeout_s, deadline=deadline, max_body_bytes=65536
        )
        return f"HTTP {response.status}: {text[:120].decode('utf-8', 'replace')}"
    kind = response.headers.get("content-type", "")
    if "text/event-stream" not in kind:
        return f"not a stream: Content-Type {kind[:60]!r}"
    async for arrived, raw in response.lines(
        idle_timeout_s=spec.idle_timeout_s, deadline=deadline, max_body_bytes=spec.max_body_bytes
    ):
        problem = stream.line(arrived, raw)
        if problem:
            return problem
    return ""
