"""The dev host proper: indexes a FunctionApp and runs its triggers.

Indexing follows the host: a function whose binding cannot be resolved (a missing `%NAME%`
setting, a bad schedule or route) is reported and disabled, the others still run.
"""

from __future__ import annotations

import asyncio
import logging
import os
import uuid
from collections.abc import Coroutine, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from azure.functions.queue import QueueMessage as FunctionQueueMessage

from devhost.http_io import FunctionKeys
from devhost.invoke import FunctionSpec, InvocationFailed, Invoker, load_functions
from devhost.queues import (
    ClientFactory,
    QueuePoller,
    StorageQueueSender,
    default_client_factory,
    validate_queue_name,
)
from devhost.routing import Router
from devhost.settings import SettingMissing, resolve_expression
from devhost.timers import (
    Schedule,
    TimerJob,
    TimerScheduler,
    iso_utc,
    parse_schedule,
    timer_request,
)
from shared.platform.hostjson import HostConfig

log = logging.getLogger("devhost")

MANUAL_REASON = "This function was programmatically called via the host APIs."
BACKGROUND_DRAIN_SECONDS = 30.0


@dataclass(frozen=True)
class HttpTarget:
    spec: FunctionSpec
    auth_level: str  # anonymous | function | admin


def default_auth_level(app: Any) -> str:
    level = getattr(app, "auth_level", None)
    return str(getattr(level, "value", level) or "function").lower()


class DevHost:
    def __init__(
        self,
        app: Any,
        config: HostConfig,
        *,
        environ: Mapping[str, str] = os.environ,
        enable_timers: bool = True,
        enable_queues: bool = True,
        client_factory: ClientFactory = default_client_factory,
        function_directory: str | None = None,
    ) -> None:
        self.config = config
        self.environ = environ
        self.enable_timers, self.enable_queues = enable_timers, enable_queues
        self.specs = load_functions(app)
        self.keys = FunctionKeys.from_environ(environ)
        self.invoker = Invoker(
            StorageQueueSender(client_factory),
            message_encoding=config.queues.message_encoding,
            function_timeout=config.function_timeout,
            function_directory=function_directory,
            environ=environ,
        )
        self.router: Router[HttpTarget] = Router()
        self.schedules: dict[str, Schedule] = {}
        self.queue_names: dict[str, str] = {}
        self.errors: dict[str, str] = {}
        self._client_factory = client_factory
        self._timers: TimerScheduler | None = None
        self._pollers: list[QueuePoller] = []
        self._background: set[asyncio.Task[Any]] = set()
        for spec in self.specs:
            self._index(spec, default_auth_level(app))

    def _index(self, spec: FunctionSpec, default_auth: str) -> None:
        try:
            self._index_trigger(spec, default_auth)
        except (ValueError, SettingMissing) as error:
            self.errors[spec.name] = str(error)
            log.error("Function '%s' is disabled: %s", spec.name, error)

    def _index_trigger(self, spec: FunctionSpec, default_auth: str) -> None:
        if spec.unsupported:
            kinds = ", ".join(sorted(set(spec.unsupported)))
            raise ValueError(f"binding type(s) {kinds} not supported by the dev host")
        trigger = spec.trigger
        if spec.trigger_type == "httpTrigger":
            level = str(trigger.get("authLevel") or default_auth).lower()
            route = trigger.get("route") or spec.name
            target = HttpTarget(spec, level)
            self.router.add(route, trigger.get("methods"), target, prefix=self.config.route_prefix)
        elif spec.trigger_type == "timerTrigger":
            self.schedules[spec.name] = parse_schedule(str(trigger["schedule"]), self.environ)
        elif spec.trigger_type == "queueTrigger":
            queue = resolve_expression(str(trigger["queueName"]), self.environ)
            self.queue_names[spec.name] = validate_queue_name(queue)
        else:
            raise ValueError(f"trigger type '{spec.trigger_type}' is not supported by the dev host")

    def find(self, name: str) -> FunctionSpec | None:
        """A function by name, case-insensitively (as the host's admin API)."""
        return next((s for s in self.specs if s.name.lower() == name.lower()), None)

    async def start(self) -> None:
        timer_specs = [s for s in self.specs if s.name in self.schedules]
        if self.enable_timers and timer_specs:
            self._timers = TimerScheduler([self._timer_job(s) for s in timer_specs])
            self._timers.start()
        if self.enable_queues:
            for spec in (s for s in self.specs if s.name in self.queue_names):
                poller = QueuePoller(
                    spec, self.queue_names[spec.name], self.config.queues, self.invoke_queue, self._client_factory
                )
                poller.start()
                self._pollers.append(poller)

    async def stop(self) -> None:
        """Stop triggers, let running invocations finish (bounded), close storage clients."""
        if self._timers is not None:
            await self._timers.stop()
        await asyncio.gather(*(p.stop() for p in self._pollers), return_exceptions=True)
        self._pollers.clear()
        if self._background:
            await asyncio.wait(set(self._background), timeout=BACKGROUND_DRAIN_SECONDS)
        await close_storage_clients()

    def _timer_job(self, spec: FunctionSpec) -> TimerJob:
        async def run(due: datetime | None, past_due: bool) -> None:
            await self.run_timer(spec, due, past_due)

        on_startup = str(spec.trigger.get("runOnStartup", False)).lower() == "true"
        return TimerJob(spec.name, self.schedules[spec.name], run, on_startup)

    async def run_timer(self, spec: FunctionSpec, due: datetime | None, past_due: bool) -> None:
        request = timer_request(self.schedules[spec.name], due, past_due)
        reason = f"Timer fired at {iso_utc(due)}" if due else MANUAL_REASON
        # a scheduled run's outcome is the app's to log (quiet when it did nothing); a manual one was asked for
        await self.invoker.invoke(spec, request, reason=reason, quiet=due is not None)

    async def invoke_queue(self, spec: FunctionSpec, message: FunctionQueueMessage) -> Any:
        reason = f"New queue message detected on '{self.queue_names.get(spec.name)}'."
        return await self.invoker.invoke(spec, message, reason=reason)

    def submit_manual(self, spec: FunctionSpec, text: str) -> None:
        """Run a timer or queue function now, in the background (admin API)."""
        coroutine: Coroutine[Any, Any, Any]
        if spec.trigger_type == "timerTrigger":
            coroutine = self.run_timer(spec, None, past_due=False)
        else:
            now = datetime.now(UTC)
            message = FunctionQueueMessage(
                id=str(uuid.uuid4()),
                body=text.encode("utf-8"),
                dequeue_count=1,
                insertion_time=now,
                expiration_time=now + timedelta(days=7),
                time_next_visible=now,
            )
            coroutine = self.invoker.invoke(spec, message, reason=MANUAL_REASON)
        self._spawn(coroutine, spec.name)

    def _spawn(self, coroutine: Coroutine[Any, Any, Any], name: str) -> None:
        async def guarded() -> None:
            try:
                await coroutine
            except InvocationFailed:
                pass  # the invoker logged the failure with its invocation id
            except Exception:
                log.exception("Manual run of '%s' failed", name)

        task = asyncio.create_task(guarded(), name=f"manual:{name}")
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    def banner(self, base_url: str) -> list[str]:
        lines = ["", "Functions:", ""]
        for spec in self.specs:
            lines.append(f"  {spec.name}: {self._describe(spec, base_url)}")
        return [*lines, ""]

    def _describe(self, spec: FunctionSpec, base_url: str) -> str:
        if spec.name in self.errors:
            return f"{spec.trigger_type} (DISABLED: {self.errors[spec.name]})"
        if spec.trigger_type == "timerTrigger":
            schedule = self.schedules[spec.name]
            upcoming = iso_utc(schedule.next_after(datetime.now(UTC)))
            state = "" if self.enable_timers else ", scheduler off (--no-timers)"
            return f"timerTrigger ({schedule.description}, next {upcoming}{state})"
        if spec.trigger_type == "queueTrigger":
            state = "" if self.enable_queues else ", poller off (--no-queues)"
            return f"queueTrigger (queue {self.queue_names[spec.name]}{state})"
        route = next(r for r in self.router.routes if r.target.spec is spec)
        methods = ",".join(sorted(route.methods)) if route.methods else "ANY"
        template = route.template.template.removeprefix("~").strip("/")
        path = "/".join(part for part in (self.config.route_prefix, template) if part)
        return f"[{methods}] {base_url}/{path}"


async def close_storage_clients() -> None:
    try:
        from shared.storage import close_storage_clients as close
    except ImportError:  # an app without the shared package has no cached clients
        return
    await close()
