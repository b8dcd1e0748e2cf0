"""HTTP routing of the dev host: which function a request goes to, as the Functions host does.

Templates are parsed and matched by `shared.platform.routes` (ASP.NET route templates, shared
with the OpenAPI builder). Among routes matching a path, the one with the best ASP.NET inbound
precedence wins; a path that matches only with other methods is a 405, otherwise a 404.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from shared.platform.routes import RouteTemplate, split_path

T = TypeVar("T")


def _head(template: RouteTemplate) -> tuple[str, ...] | None:
    """The first two segments when both are literals (the route's area), else None (any path)."""
    first_two = template.segments[:2]
    if len(first_two) == 2 and all(s.kind == "literal" for s in first_two):
        return tuple(s.text.casefold() for s in first_two)
    return None


@dataclass(frozen=True)
class Route(Generic[T]):
    template: RouteTemplate
    methods: frozenset[str] | None  # None: every method
    target: T

    def allows(self, method: str) -> bool:
        return self.methods is None or method.upper() in self.methods


@dataclass(frozen=True)
class Resolution(Generic[T]):
    """Outcome of routing: `route` set on a match; `allow` non-empty on a 405."""

    route: Route[T] | None = None
    values: dict[str, str] = field(default_factory=dict)
    allow: tuple[str, ...] = ()

    @property
    def status(self) -> int:
        return 200 if self.route else (405 if self.allow else 404)


class Router(Generic[T]):
    """Routes tried in precedence order. Routes whose first two segments are literals (e.g.
    `api/products/...`) are only tried for paths starting with those two segments, so a request
    does not pay for every other area's routes ahead of its own."""

    def __init__(self) -> None:
        self._routes: list[Route[T]] = []
        self._by_head: dict[tuple[str, ...], list[Route[T]]] = {}

    @property
    def routes(self) -> list[Route[T]]:
        return list(self._routes)

    def add(self, template: str, methods: Iterable[str] | None, target: T, prefix: str = "") -> Route[T]:
        allowed = frozenset(m.upper() for m in methods) if methods else None
        route = Route(RouteTemplate.parse(template, prefix), allowed, target)
        self._routes.append(route)
        # stable sort: equal precedence keeps registration order
        self._routes.sort(key=lambda r: r.template.precedence)
        self._by_head.clear()
        return route

    def _candidates(self, folded: list[str]) -> list[Route[T]]:
        head = tuple(folded[:2])
        found = self._by_head.get(head)
        if found is None:
            found = self._by_head[head] = [r for r in self._routes if _head(r.template) in (None, head)]
        return found

    def resolve(self, method: str, path: str) -> Resolution[T]:
        parts = split_path(path)
        folded = [part.casefold() for part in parts]
        allow: set[str] = set()
        for route in self._candidates(folded):
            if not route.template.could_match(folded):
                continue
            values = route.template.match(parts)
            if values is None:
                continue
            if route.allows(method):
                return Resolution(route=route, values=values)
            allow |= route.methods or set()
        return Resolution(allow=tuple(sorted(allow)))
