"""Dev-only stand-ins for Meta's Graph API and Telegram's Bot API, so that agents' replies under
`make run` reach SENT without the internet (the sample settings point the inbox here):

- `POST /.sandbox/graph/<version>/<page-or-ig-id>/messages?access_token=…` answers
  `{"recipient_id", "message_id"}` like the Send API;
- `POST /.sandbox/telegram/bot<token>/sendMessage` answers `{"ok": true, "result": {…}}`;
- `GET /.sandbox/channels/sent` lists what was sent, newest last (for the README's demo).
Nothing is delivered anywhere. Tests use tests/inbox_channels.py, which also scripts errors.
"""

from __future__ import annotations

import itertools
import json
import re
import time
from dataclasses import dataclass, field
from typing import Any

from devhost.http_io import IncomingRequest, OutgoingResponse, json_response

PREFIX = "/.sandbox/"
GRAPH_SEND = re.compile(r"/\.sandbox/graph/[^/]+/([^/]+)/messages")
TELEGRAM_SEND = re.compile(r"/\.sandbox/telegram/bot([^/]+)/sendMessage")
SENT_PATH = "/.sandbox/channels/sent"
KEPT = 200


@dataclass
class SandboxChannels:
    sent: list[dict[str, Any]] = field(default_factory=list)
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1))

    def handles(self, path: str) -> bool:
        return path == SENT_PATH or bool(GRAPH_SEND.fullmatch(path) or TELEGRAM_SEND.fullmatch(path))

    def dispatch(self, request: IncomingRequest) -> OutgoingResponse:
        if request.path == SENT_PATH:
            return json_response({"sent": self.sent})
        if request.method != "POST":
            return json_response({"error": {"message": "Unsupported method", "code": 100}}, 405)
        try:
            body = json.loads(request.body or b"{}")
        except ValueError:
            return json_response({"error": {"message": "body is not JSON", "code": 100}}, 400)
        graph = GRAPH_SEND.fullmatch(request.path)
        if graph:
            return self._graph(graph.group(1), body)
        return self._telegram(body)

    def _record(self, channel: str, to: Any, text: Any) -> int:
        number = next(self._ids)
        self.sent = [*self.sent[-KEPT + 1 :], {"channel": channel, "to": to, "text": text, "at": time.time()}]
        return number

    def _graph(self, page: str, body: dict[str, Any]) -> OutgoingResponse:
        recipient = (body.get("recipient") or {}).get("id")
        number = self._record(f"graph:{page}", recipient, (body.get("message") or {}).get("text"))
        return json_response({"recipient_id": recipient, "message_id": f"m_sandbox{number}"})

    def _telegram(self, body: dict[str, Any]) -> OutgoingResponse:
        number = self._record("telegram", body.get("chat_id"), body.get("text"))
        result = {
            "message_id": number,
            "chat": {"id": body.get("chat_id"), "type": "private"},
            "date": int(time.time()),
        }
        return json_response({"ok": True, "result": result | {"text": body.get("text")}})
