"""Rows and results of the closed days' kept figures (`shared.orders.figures`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from shared.platform.base_model import AppModel


class DueDay(AppModel):
    """A closed day whose figures are missing or older than a change to one of its orders."""

    day: date


@dataclass
class FiguresRun:
    days: int = 0  # days refreshed
    more: bool = False  # more days were due than one run refreshes
