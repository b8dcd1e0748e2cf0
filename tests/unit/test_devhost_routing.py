"""Route templates of the dev host: matching, constraints, precedence, 404 vs 405."""

from __future__ import annotations

import uuid

import pytest

from devhost.routing import Router, RouteTemplate, split_path


def match(template: str, path: str, prefix: str = "api") -> dict[str, str] | None:
    return RouteTemplate.parse(template, prefix).match(split_path(path))


def test_literal_and_parameter_segments() -> None:
    assert match("things/{id}", "/api/things/42") == {"id": "42"}
    assert match("things/{id}", "/api/things") is None
    assert match("things/{id}", "/api/things/42/more") is None
    assert match("things/{id}", "/api/other/42") is None


def test_literals_match_case_insensitively_and_ignore_trailing_slash() -> None:
    assert match("Things/{id}", "/API/things/7/") == {"id": "7"}


def test_route_prefix_is_part_of_the_path() -> None:
    assert match("health", "/health", prefix="") == {}
    assert match("health", "/health") is None
    assert match("health", "/v1/health", prefix="v1") == {}


@pytest.mark.parametrize(
    ("constraint", "good", "bad"),
    [
        ("guid", str(uuid.uuid4()), "abc"),
        ("guid", uuid.uuid4().hex, "1234"),
        ("int", "-12", "12.5"),
        ("int", "2147483647", "2147483648"),
        ("long", "2147483648", "9223372036854775808"),
        ("alpha", "abcXYZ", "abc1"),
        ("bool", "TRUE", "yes"),
        ("decimal", "12.50", "1e3"),
        ("double", "1e3", "one"),
        ("float", "-0.5", "1.2.3"),
        ("datetime", "2026-11-21T20:31:07", "yesterday"),
        ("min(10)", "10", "9"),
        ("range(1,3)", "3", "4"),
        ("length(2)", "ab", "abc"),
        ("regex(^[a-z]{{2}}$)", "ab", "abc"),
    ],
)
def test_constraints(constraint: str, good: str, bad: str) -> None:
    template = "x/{v:" + constraint + "}"  # regex braces are doubled, as in ASP.NET
    assert match(template, f"/api/x/{good}") == {"v": good}
    assert match(template, f"/api/x/{bad}") is None


def test_chained_constraints() -> None:
    assert match("n/{n:int:min(1)}", "/api/n/5") == {"n": "5"}
    assert match("n/{n:int:min(1)}", "/api/n/0") is None


def test_optional_last_segment_and_default() -> None:
    assert match("items/{id?}", "/api/items") == {}
    assert match("items/{id?}", "/api/items/3") == {"id": "3"}
    assert match("items/{id:int?}", "/api/items/x") is None
    assert match("pages/{n=1}", "/api/pages") == {"n": "1"}


def test_catch_all_takes_the_rest() -> None:
    assert match("files/{*path}", "/api/files/a/b/c.txt") == {"path": "a/b/c.txt"}
    assert match("files/{*path}", "/api/files") == {}


def test_invalid_templates_are_rejected() -> None:
    with pytest.raises(ValueError):
        RouteTemplate.parse("{*rest}/tail")
    with pytest.raises(ValueError):
        RouteTemplate.parse("a/{x?}/b")
    with pytest.raises(ValueError):
        RouteTemplate.parse("a/{x:nonsense}")


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
