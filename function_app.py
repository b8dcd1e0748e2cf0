"""The Functions app: one blueprint per area, nothing else."""

import azure.functions as func

from functions import (
    backups,
    cache_warmer,
    catalog,
    catalog_admin,
    events,
    fallback,
    health,
    inbox,
    inbox_widget,
    notifications,
    ops,
    order_jobs,
    order_reads,
    orders,
    payments,
    prescriptions,
    seller_threads,
    sellers,
    thread_orders,
    threads,
    users,
)

app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)
app.register_functions(health.bp)
app.register_functions(users.bp)
app.register_functions(catalog.bp)
app.register_functions(catalog_admin.bp)
app.register_functions(sellers.bp)
app.register_functions(orders.bp)
app.register_functions(order_reads.bp)
app.register_functions(order_jobs.bp)
app.register_functions(prescriptions.bp)
app.register_functions(cache_warmer.bp)
app.register_functions(events.bp)
app.register_functions(notifications.bp)
app.register_functions(ops.bp)
app.register_functions(payments.bp)
app.register_functions(inbox.bp)
app.register_functions(threads.bp)
app.register_functions(seller_threads.bp)
app.register_functions(backups.bp)
app.register_functions(thread_orders.bp)
app.register_functions(inbox_widget.bp)
app.register_functions(fallback.bp)  # last: the catch-all for unknown routes
