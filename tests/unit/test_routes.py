"""ASP.NET route templates (shared.platform.routes): matching, constraints, optional parts,
catch-alls; and the OpenAPI builder reading the same parse (paths, parameter schemas)."""

from __future__ import annotations

import pytest

from shared.platform.openapi import openapi_segment, path_parameters
from shared.platform.routes import RouteTemplate, split_path


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
        ("guid", "784e924a-8cd6-4431-83b7-9f0fc0761bfa", "abc"),
        ("guid", "a17ae7d2d2514c11856647aeb0654e25", "1234"),
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


def test_precedence_ranks_literal_then_constrained_then_parameter_then_catch_all() -> None:
    ranks = [RouteTemplate.parse(t).precedence for t in ("a/b", "a/{id:int}", "a/{id}", "a/{*rest}")]
    assert ranks == sorted(ranks) and len(set(ranks)) == 4


def test_openapi_paths_and_parameters_come_from_the_same_parse() -> None:
    template = "Shops/{shop:guid}/items/{n:int:min(1)}/{*rest}"
    assert "/".join(openapi_segment(s) for s in RouteTemplate.parse(template).segments) == (
        "Shops/{shop}/items/{n}/{rest}"
    )
    assert [(p["name"], p["schema"]) for p in path_parameters(template)] == [
        ("shop", {"type": "string", "format": "uuid"}),
        ("n", {"type": "integer"}),
        ("rest", {"type": "string"}),
    ]
