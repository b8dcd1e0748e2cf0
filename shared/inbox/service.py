"""The inbox domain's public API (the triggers import only this and the models)."""

from __future__ import annotations

# The chat widget (shared.inbox.widget): functions/inbox_widget.py
from shared.inbox.widget import poll_messages as poll_widget_messages  # noqa: F401
from shared.inbox.widget import send_message as send_widget_message  # noqa: F401
from shared.inbox.widget import start_session as start_widget_session  # noqa: F401
from shared.inbox.widget import widget_script  # noqa: F401
