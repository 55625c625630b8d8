"""Streaming the model's answer over an OpenAI-compatible API (the official `openai` package).

`stream_text` yields the pieces of text as the server sends them. Every way it can go wrong
— no server, a timeout or a stall, 429 and 5xx, a malformed or empty stream, a dropped
connection — ends in `ReaderFailure` whose `cause` is one short word for `/stats`. The API key
is handed to the client and never logged or shown.
"""

from __future__ import annotations

import importlib
import time
from collections.abc import Iterator

from index.settings import LlmSettings


class ReaderFailure(Exception):
    """The model could not give (the rest of) an answer; `cause` names why."""

    def __init__(self, cause: str, detail: str = "") -> None:
        super().__init__(f"{cause}: {detail}" if detail else cause)
        self.cause = cause


def _http_errors(name: str) -> tuple[type[Exception], ...]:
    """The error class `name` of each HTTP library the openai package may run on: httpx
    (openai 1 and 2) and httpx2 (openai 3), whichever are installed."""
    found: list[type[Exception]] = []
    for library in ("httpx", "httpx2"):
        try:
            found.append(getattr(importlib.import_module(library), name))
        except (ImportError, AttributeError):
            continue
    return tuple(found)


def _cause_of(error: Exception) -> str:
    import openai

    if isinstance(error, (openai.APITimeoutError, *_http_errors("TimeoutException"))):
        return "timeout"
    if isinstance(error, openai.RateLimitError):
        return "rate_limited"
    if isinstance(error, openai.APIStatusError):
        return "server_error" if error.status_code >= 500 else "http_error"
    if isinstance(error, openai.APIConnectionError):
        return "unreachable"
    if isinstance(error, _http_errors("TransportError")):
        return "dropped"
    return "malformed"


def stream_text(settings: LlmSettings, chat: list[dict[str, str]]) -> Iterator[str]:
    """The answer's text, piece by piece; `ReaderFailure` on any failure, including a
    stream that goes on past twice the timeout in all."""
    import openai

    # A number, not an httpx.Timeout: openai 3 runs on httpx2, which refuses httpx's.
    client = openai.OpenAI(base_url=settings.url, api_key=settings.api_key or "none",
                           timeout=float(settings.timeout), max_retries=0)
    deadline = time.monotonic() + 2 * settings.timeout
    received = False
    finished = False
    try:
        stream = client.chat.completions.create(
            model=settings.model or "", messages=chat, stream=True, temperature=0,
            max_tokens=settings.max_tokens)  # type: ignore[arg-type]
        with stream:
            for chunk in stream:
                if time.monotonic() > deadline:
                    raise ReaderFailure("timeout", "the answer took too long")
                for choice in chunk.choices or []:
                    finished = finished or bool(choice.finish_reason)
                    piece = getattr(choice.delta, "content", None) if choice.delta else None
                    if piece:
                        received = True
                        yield piece
    except ReaderFailure:
        raise
    except (openai.OpenAIError, *_http_errors("HTTPError"), ValueError, AttributeError,
            TypeError) as error:
        raise ReaderFailure(_cause_of(error), type(error).__name__) from None
    finally:
        client.close()
    if not received:
        raise ReaderFailure("empty", "the stream held no text")
    if not finished:
        raise ReaderFailure("dropped", "the stream ended without a finish reason")
