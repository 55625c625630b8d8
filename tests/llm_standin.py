"""A stand-in for an OpenAI-compatible server (Ollama, llama.cpp, vLLM, OpenAI), for tests.

It serves `POST /v1/chat/completions` over real HTTP on 127.0.0.1 and streams its reply as
server-sent events exactly as those servers do (`data: {chat.completion.chunk}` lines, then
`data: [DONE]`). Each request takes the next `Script` queued by the test (the last one
repeats): text streamed in small pieces, an HTTP error such as 429, a stall, a connection
dropped mid-stream, or raw bytes. Requests are recorded (body and headers) for assertions.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Script:
    """One scripted reply. `text` is streamed `piece` characters at a time; `status` other
    than 200 answers with that error; `stall` seconds of silence come after `stall_after`
    characters; `drop_after` closes the connection after that many characters; `raw`
    replaces the whole body of a 200 reply."""

    text: str = ""
    piece: int = 7
    status: int = 200
    stall: float = 0.0
    stall_after: int = 0
    drop_after: int | None = None
    raw: bytes | None = None


@dataclass
class LlmStandin:
    """The running server: `url` is the base URL (…/v1) to give as CITEBOT_LLM_URL."""

    scripts: list[Script] = field(default_factory=list)
    requests: list[dict] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def script(self, *scripts: Script) -> None:
        self.scripts[:] = list(scripts)

    def say(self, text: str, **options: object) -> None:
        self.script(Script(text=text, **options))  # type: ignore[arg-type]

    def next_script(self) -> Script:
        if len(self.scripts) > 1:
            return self.scripts.pop(0)
        return self.scripts[0] if self.scripts else Script(text="")

    def start(self) -> LlmStandin:
        standin = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                standin.requests.append(body)
                standin.headers.append(dict(self.headers))
                if not self.path.endswith("/chat/completions"):
                    self._error(404, "not found")
                    return
                script = standin.next_script()
                if script.status != 200:
                    self._error(script.status, "scripted error")
                    return
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Cache-Control", "no-cache")
                self.send_header("Connection", "close")
                self.end_headers()
                if script.raw is not None:
                    self.wfile.write(script.raw)
                    return
                self._stream(script, body.get("model", "standin"))

            def _error(self, status: int, message: str) -> None:
                payload = json.dumps({"error": {"message": message, "type": "error",
                                                "code": status}}).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                if status == 429:
                    self.send_header("Retry-After", "1")
                self.end_headers()
                self.wfile.write(payload)

            def _event(self, payload: object) -> None:
                data = payload if isinstance(payload, str) else json.dumps(payload)
                self.wfile.write(f"data: {data}\n\n".encode())
                self.wfile.flush()

            def _chunk(self, model: str, delta: dict, finish: str | None = None) -> dict:
                return {"id": "chatcmpl-standin", "object": "chat.completion.chunk",
                        "created": int(time.time()), "model": model,
                        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}

            def _stream(self, script: Script, model: str) -> None:
                self._event(self._chunk(model, {"role": "assistant", "content": ""}))
                sent = 0
                stalled = False
                text = script.text
                while sent < len(text):
                    if script.stall and not stalled and sent >= script.stall_after:
                        stalled = True
                        time.sleep(script.stall)
                    if script.drop_after is not None and sent >= script.drop_after:
                        self.wfile.write(b"data: {\"id\": \"chatcmpl-stand")
                        self.wfile.flush()
                        self.close_connection = True
                        self.connection.shutdown(2)
                        return
                    piece = text[sent:sent + script.piece]
                    sent += len(piece)
                    try:
                        self._event(self._chunk(model, {"content": piece}))
                    except (BrokenPipeError, ConnectionResetError):
                        return
                self._event(self._chunk(model, {}, "stop"))
                self._event("[DONE]")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
