"""A local HTTP server answering like Meta's Graph API and Telegram's Bot API, with the shapes
their documentation gives for success and errors. Tests script the next answers per path and
read back what was sent. Never the internet."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest

Answer = tuple[int, dict[str, Any], dict[str, str]]

GRAPH_EXPIRED_TOKEN: Answer = (
    400,
    {"error": {"message": "Error validating access token: Session has expired on Friday, 14-Nov-25 10:00:00 PST.",
               "type": "OAuthException", "code": 190, "error_subcode": 463, "fbtrace_id": "AexpiredTok"}},
    {},
)  # fmt: skip
GRAPH_OUTSIDE_WINDOW: Answer = (
    400,
    {"error": {"message": "(#10) This message is sent outside of allowed window.", "type": "OAuthException",
               "code": 10, "error_subcode": 2018278, "fbtrace_id": "AoutsideWin"}},
    {},
)  # fmt: skip
GRAPH_RATE_LIMITED: Answer = (
    429,
    {"error": {"message": "(#613) Calls to this api have exceeded the rate limit.", "type": "OAuthException",
               "code": 613, "fbtrace_id": "Arate"}},
    {"Retry-After": "2"},
)  # fmt: skip
GRAPH_SERVER_ERROR: Answer = (
    500,
    {"error": {"message": "An unknown error has occurred.", "type": "OAuthException", "code": 1,
               "is_transient": True, "fbtrace_id": "A500"}},
    {},
)  # fmt: skip
TELEGRAM_UNAUTHORIZED: Answer = (401, {"ok": False, "error_code": 401, "description": "Unauthorized"}, {})
TELEGRAM_BLOCKED: Answer = (
    403,
    {"ok": False, "error_code": 403, "description": "Forbidden: bot was blocked by the user"},
    {},
)
TELEGRAM_RATE_LIMITED: Answer = (
    429,
    {
        "ok": False,
        "error_code": 429,
        "description": "Too Many Requests: retry after 3",
        "parameters": {"retry_after": 3},
    },
    {},
)
TELEGRAM_BAD_GATEWAY: Answer = (502, {"ok": False, "error_code": 502, "description": "Bad Gateway"}, {})


class FakeChannels:
    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.scripted: list[Answer] = []
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def settings(self) -> dict[str, str]:
        return {"META_GRAPH_BASE_URL": f"{self.origin}/v21.0", "TELEGRAM_API_BASE_URL": self.origin}

    def script(self, *answers: Answer) -> None:
        """The next answers, in order; after them, success."""
        with self.lock:
            self.scripted.extend(answers)

    def _next(self, path: str, body: dict[str, Any], query: dict[str, list[str]]) -> Answer:
        with self.lock:
            self.requests.append({"path": path, "body": body, "query": query})
            number = len(self.requests)
            if self.scripted:
                return self.scripted.pop(0)
        if "/bot" in path:
            result = {"message_id": 1000 + number, "chat": {"id": body.get("chat_id"), "type": "private"},
                      "date": 1764763200, "text": body.get("text")}  # fmt: skip
            return 200, {"ok": True, "result": result}, {}
        return 200, {"recipient_id": body.get("recipient", {}).get("id"), "message_id": f"m_sent{number}"}, {}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                url = urlparse(self.path)
                raw = self.rfile.read(int(self.headers.get("content-length") or 0))
                status, answer, headers = fake._next(url.path, json.loads(raw or b"{}"), parse_qs(url.query))
                data = json.dumps(answer).encode()
                self.send_response(status)
                for name, value in {"Content-Type": "application/json", **headers}.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: object) -> None:
                pass

        return Handler

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def fake_channels(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeChannels]:
    """The fake servers, with the app's base URLs pointed at them (after `app_env`)."""
    from shared.platform.config import reset_settings

    fake = FakeChannels()
    for name, value in fake.settings().items():
        monkeypatch.setenv(name, value)
    reset_settings()
    yield fake
    fake.close()
