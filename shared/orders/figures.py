"""The `refresh_order_figures` timer's work: keep each closed UTC day's figures, the
marketplace's and each seller's, so the dashboards read a few rows per day instead of every
order, child order and line.

A day is closed once it ended a whole day ago (by the server's clock). Triggers (migration
0018) note every change to an order or child order of a past day in `order_figure_changes`; the
dashboards compute a day from its orders while it has notes or no figures yet, and reads the
kept figures otherwise. A refresh recomputes a day in one short transaction, so the day switches
from live to kept atomically, and two refreshes of one day take turns on its row.
"""

from __future__ import annotations

from shared.data import db
from shared.orders import repo_figures
from shared.orders.models_figures import FiguresRun

# A day is one index range scan of its orders (about 14,000 a day at 10M orders over two years);
# a fresh database with two years of orders is caught up in a few runs, newest days first.
DAYS_PER_RUN = 200


async def refresh_due_days(days_per_run: int = DAYS_PER_RUN) -> FiguresRun:
    async with db.connection() as conn:
        due = await repo_figures.days_to_refresh(conn, days_per_run + 1)
    for day in due[:days_per_run]:
        async with db.transaction() as conn:
            await repo_figures.refresh_day(conn, day)
    return FiguresRun(days=min(len(due), days_per_run), more=len(due) > days_per_run)
