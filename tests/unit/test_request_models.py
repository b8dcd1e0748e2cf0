"""Every request model of every endpoint, found from the endpoint table (so a new endpoint is
checked the day it lands): integers are bounded to fit a PostgreSQL `integer`, and the shared
edge types behave."""

from __future__ import annotations

import json
import typing
from datetime import date
from decimal import Decimal
from typing import Annotated, Any

import annotated_types
import pytest
from pydantic import BaseModel, Field, ValidationError
from pydantic.fields import FieldInfo

import function_app  # noqa: F401  (registers every endpoint)
from shared.platform.base_model import (
    INT4_MAX,
    INT4_MIN,
    JSON_SAFE_INTEGER_MAX,
    NOT_BLANK,
    NOT_SENT,
    WHOLE,
    AppModel,
    Int4,
    IsoDate,
    Money,
    PatchModel,
    PositiveMoney,
)
from shared.platform.http import ENDPOINTS


def request_models(*, queries: bool = True) -> set[type[BaseModel]]:
    found: set[type[BaseModel]] = set()
    # the app's own models: other tests declare throwaway endpoints in the same table
    kinds = [(s.body, s.query if queries else None) for s in ENDPOINTS.values()]
    todo = [m for pair in kinds for m in pair if m and m.__module__.startswith("shared.")]
    while todo:
        model = todo.pop()
        if model in found:
            continue
        found.add(model)
        for info in model.model_fields.values():
            todo += [t for t in leaf_types(info.annotation) if isinstance(t, type) and issubclass(t, BaseModel)]
    return found


def leaf_types(annotation: Any) -> list[Any]:
    if typing.get_origin(annotation) is typing.Annotated:
        return leaf_types(typing.get_args(annotation)[0])
    args = typing.get_args(annotation)
    return [leaf for arg in args for leaf in leaf_types(arg)] if args else [annotation]


def metadata_of(info: FieldInfo) -> list[Any]:
    metadata = list(info.metadata)
    stack = [info.annotation]
    while stack:  # Annotated[int, Field(ge=…)] nested in a union (`Version | None`)
        annotation = stack.pop()
        if typing.get_origin(annotation) is typing.Annotated:
            annotation, *extra = typing.get_args(annotation)
            for item in extra:
                metadata += item.metadata if isinstance(item, FieldInfo) else [item]
        stack += typing.get_args(annotation)
    return metadata


def bounds(info: FieldInfo) -> tuple[int | None, int | None]:
    metadata = metadata_of(info)
    low = [m.ge for m in metadata if isinstance(m, annotated_types.Ge)] + [
        m.gt + 1 for m in metadata if isinstance(m, annotated_types.Gt)
    ]
    high = [m.le for m in metadata if isinstance(m, annotated_types.Le)] + [
        m.lt - 1 for m in metadata if isinstance(m, annotated_types.Lt)
    ]
    return (max(low) if low else None, min(high) if high else None)


def test_the_walk_finds_the_request_models():
    names = {m.__name__ for m in request_models()}
    assert {"PlaceOrder", "OrderLineIn", "ImageFields", "CategoryPatch", "StatsQuery", "MarkRead"} <= names


def test_every_integer_of_every_request_model_fits_an_int4_column():
    unbounded = []
    for model in request_models():
        for name, info in model.model_fields.items():
            if int not in leaf_types(info.annotation) or typing.get_origin(info.annotation) is dict:
                continue
            low, high = bounds(info)
            if (low, high) == (1, JSON_SAFE_INTEGER_MAX):  # BigId: a bigint identity column's id
                continue
            if low is None or high is None or low < INT4_MIN or high > INT4_MAX:
                unbounded.append(f"{model.__name__}.{name}: [{low}, {high}]")
    assert not unbounded, f"bound these with Int4 or BigId (shared.platform.base_model) or Field(ge=, le=): {unbounded}"


def test_every_integer_of_every_request_model_takes_a_whole_float_as_json_schema_does():
    missing = [
        f"{model.__name__}.{name}"
        for model in request_models(queries=False)  # a query's "3.0" is read as 3 anyway
        for name, info in model.model_fields.items()
        if int in leaf_types(info.annotation)
        and typing.get_origin(info.annotation) is not dict
        and not any(item is WHOLE for item in metadata_of(info))
    ]
    assert not missing, f"use Int4 or Annotated[int, Field(ge=, le=), WHOLE]: {missing}"


class Edge(AppModel):
    day: IsoDate | None = None
    order: Int4 = 0
    price: PositiveMoney | None = None
    floor: Money | None = None
    name: Annotated[str, Field(max_length=5), NOT_BLANK] | None = None


@pytest.mark.parametrize("raw,order", [('{"order": 3.0}', 3), ('{"order": -1e3}', -1000)])
def test_a_whole_float_is_an_integer(raw, order):
    assert Edge.model_validate_json(raw, strict=True).order == order


@pytest.mark.parametrize("raw", ['{"order": 3.5}', '{"order": true}', '{"order": "3"}', '{"order": 1e10}'])
def test_anything_else_is_not(raw):
    with pytest.raises(ValidationError):
        Edge.model_validate_json(raw, strict=True)


@pytest.mark.parametrize("raw", ["10", "0.01", "0.5", "9999999999.99", "12.50"])
def test_money_is_a_string_of_digits(raw):
    assert Edge.model_validate_json(json.dumps({"price": raw, "floor": raw}), strict=True).price == Decimal(raw)
    assert Edge.model_validate_json('{"floor": "0"}', strict=True).floor == 0


@pytest.mark.parametrize(
    "value", [10, 10.5, "", "0", "0.00", "-1", "01", "1.234", "1e3", " 1", "10000000000", "1.", ".5", True]
)
def test_money_in_any_other_form_is_refused(value):
    with pytest.raises(ValidationError) as raised:
        Edge.model_validate_json(json.dumps({"price": value}), strict=True)
    assert raised.value.errors()[0]["type"] in {"decimal_type", "decimal_format"}


def test_not_blank_text_is_trimmed_and_its_length_is_the_length_sent():
    assert Edge.model_validate_json('{"name": " ab "}', strict=True).name == "ab"
    for raw in ['{"name": "   "}', '{"name": "abcde "}']:
        with pytest.raises(ValidationError):
            Edge.model_validate_json(raw, strict=True)


@pytest.mark.parametrize("value", ["0", "1700000000", 0, 1.5, "2024-1-5", "2024-01-05T00:00:00"])
def test_an_iso_date_is_never_a_number_of_seconds(value):
    with pytest.raises(ValidationError) as raised:
        Edge.model_validate({"day": value})
    assert raised.value.errors()[0]["loc"] == ("day",)


def test_an_iso_date_reads_a_date():
    assert Edge.model_validate({"day": "2024-01-05"}).day == date(2024, 1, 5)
    assert Edge.model_validate_json('{"day": "2024-02-29"}', strict=True).day == date(2024, 2, 29)


@pytest.mark.parametrize("value", [INT4_MAX + 1, INT4_MIN - 1, -788296495899884])
def test_int4_refuses_what_postgres_integer_cannot_hold(value):
    with pytest.raises(ValidationError):
        Edge.model_validate({"order": value})
    assert Edge.model_validate({"order": INT4_MAX}).order == INT4_MAX


class Rename(PatchModel):
    name: str = "x"
    note: str | None = None
    version: int | None = None


class Cleared(PatchModel):
    name: str = NOT_SENT
    note: str | None = None


@pytest.mark.parametrize("body", [{}, {"version": 3}])
def test_a_patch_that_changes_nothing_is_refused(body):
    with pytest.raises(ValidationError) as raised:
        Rename.model_validate(body)
    assert raised.value.errors()[0]["type"] == "nothing_to_change"
    assert "name, note" in raised.value.errors()[0]["msg"]


def test_a_patch_schema_asks_for_at_least_one_change_and_takes_no_extras():
    schema = Rename.model_json_schema()
    assert schema["anyOf"] == [{"required": ["name"]}, {"required": ["note"]}]
    assert "default" not in Cleared.model_json_schema()["properties"]["name"]  # no null default for a str
    assert Cleared.model_json_schema()["properties"]["note"]["default"] is None
    assert Rename.model_validate({"note": None}).model_fields_set == {"note"}
    with pytest.raises(ValidationError):
        Rename.model_validate({"nickname": "y"})
