"""The dev host's router: precedence among matching routes, 404 vs 405 (templates: test_routes)."""

from __future__ import annotations

import uuid

from devhost.routing import Router


def _router() -> Router[str]:
    router: Router[str] = Router()
    router.add("things/{*rest}", ["GET"], "catchall", prefix="api")
    router.add("things/{id}", ["GET"], "param", prefix="api")
    router.add("things/{id:guid}", ["GET", "DELETE"], "guid", prefix="api")
    router.add("things/search", ["GET"], "literal", prefix="api")
    router.add("things/{id}", ["PUT"], "put", prefix="api")
    return router


def test_precedence_literal_then_constrained_then_parameter_then_catch_all() -> None:
    router = _router()
    assert router.resolve("GET", "/api/things/search").route.target == "literal"
    assert router.resolve("GET", f"/api/things/{uuid.uuid4()}").route.target == "guid"
    assert router.resolve("GET", "/api/things/plain").route.target == "param"
    assert router.resolve("GET", "/api/things/a/b").route.target == "catchall"


def test_method_is_matched_among_path_matches() -> None:
    router = _router()
    resolution = router.resolve("PUT", f"/api/things/{uuid.uuid4()}")
    assert resolution.route is not None and resolution.route.target == "put"
    assert resolution.values and resolution.status == 200


def test_405_when_only_other_methods_match() -> None:
    resolution = _router().resolve("POST", "/api/things/search")
    assert resolution.route is None
    assert resolution.status == 405
    assert resolution.allow == ("GET", "PUT")  # the guid route does not match "search"


def test_404_when_no_path_matches() -> None:
    resolution = _router().resolve("GET", "/api/nothing")
    assert resolution.status == 404 and resolution.allow == ()


def test_route_without_methods_accepts_every_method() -> None:
    router: Router[str] = Router()
    router.add("any", None, "any", prefix="api")
    assert router.resolve("PATCH", "/api/any").route.target == "any"
