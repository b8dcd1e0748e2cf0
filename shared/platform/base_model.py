"""The base of the app's pydantic models: validators and serializers are built on first use,
not when the module is imported (pydantic's `defer_build`).

Why: the Functions host imports the whole app to index it, but a request needs only its own
models. Building all of them at import took 45–85 ms of the app's cold start, over the
250 ms budget on a slow day (bench/README.md); a first request now builds the few it uses.

The edge of every request model, shared here so each field does not repeat it:
- bodies are validated from JSON in strict mode (`shared.platform.http`): no 0/1 for a bool,
  no "5" or 5.0 for an int; text with NUL or a lone surrogate is refused there too;
- `Int4` / `Int2` are integers that fit their PostgreSQL column (`integer`, `smallint`), and
  take 3.0 as 3 (JSON Schema's `integer` admits it) but never 3.5 or true;
  `tests/unit/test_request_models.py` fails when a request int is not one of them;
- `Money` / `PositiveMoney` are amounts written as JSON strings of digits ("12.50"), never
  numbers (binary floats) or "": the document's pattern is the check itself;
- `NOT_BLANK` documents trimmed text that is not empty, and every pattern of the document
  refuses NUL and lone surrogates itself (`TEXT_CHAR`, `VISIBLE_CHAR`);
- `IsoDate` is a date written `YYYY-MM-DD`, never a number of seconds (`?to=0`);
- `PatchModel` is a partial update: a field left out is kept, a NOT NULL column's field
  (`= NOT_SENT`, typed without None) cannot be set to null, and a patch that changes nothing
  is 422 `nothing_to_change`.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Annotated, Any, ClassVar

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema, model_validator
from pydantic_core import PydanticCustomError, core_schema

INT4_MIN, INT4_MAX = -(2**31), 2**31 - 1
INT2_MIN, INT2_MAX = -(2**15), 2**15 - 1
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")

# A character PostgreSQL text can hold: not NUL. The request edge refuses NUL, and lone
# surrogates (not UTF-8; I-JSON, RFC 7493, forbids them), everywhere (shared.platform.http);
# the document adds NUL to every negated class of every pattern (shared.platform.openapi) and
# names the surrogate rule in its description: a surrogate range in a pattern makes the
# fuzzer's generator drop the whole pattern.
NO_NUL = r"\u0000"
TEXT_CHAR = f"[^{NO_NUL}]"
# One that trimming keeps: not Unicode White_Space (what pydantic's strip_whitespace removes),
# spelled out because JSON Schema readers' `\s` differs (\x85, \ufeff).
VISIBLE_CHAR = r"[^\t\n\x0b\x0c\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"
WHITE_SPACE = "\t\n\x0b\x0c\r \x85\xa0\u1680\u2028\u2029\u202f\u205f\u3000" + "".join(map(chr, range(0x2000, 0x200B)))

# numeric(12,2): up to 10 digits before the point, 2 after, no leading zeros, no sign.
MONEY = r"^(0|[1-9][0-9]{0,9})(\.[0-9]{1,2})?$"
POSITIVE_MONEY = r"^(0\.(0[1-9]|[1-9][0-9]?)|[1-9][0-9]{0,9}(\.[0-9]{1,2})?)$"

# The default of a PATCH field for a NOT NULL column, typed without None: leaving it out keeps
# the column (defaults are not validated), sending null is a 422 naming the field.
NOT_SENT: Any = None


class AppModel(BaseModel):
    model_config = ConfigDict(defer_build=True)


def _iso_date_only(value: Any) -> Any:
    """A `YYYY-MM-DD` string becomes the date (so strict JSON validation takes it too); any other
    string or a number is refused, never read as seconds since 1970."""
    if isinstance(value, int | float):  # bool is an int too
        raise PydanticCustomError("date_type", "must be a date written YYYY-MM-DD, not a number")
    if isinstance(value, str):
        if not ISO_DATE.fullmatch(value):
            raise PydanticCustomError("date_format", "must be a date written YYYY-MM-DD")
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise PydanticCustomError("date_from_datetime_parsing", "not a calendar date") from None
    return value


def whole_number(value: Any) -> Any:
    """3.0 is the integer 3 (JSON Schema says so); strict validation refuses 3.5, "3" and true."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def configured(keyword: str, setting: str) -> Any:
    """A schema keyword set from a setting when the document is built (on request, settings
    loaded), so that it states this deployment's limit: `configured("maxItems", "order_max_lines")`."""

    def document(schema: dict[str, Any]) -> None:
        from shared.platform.config import get_settings

        schema[keyword] = getattr(get_settings(), setting)

    return document


def trimmed(value: str) -> str:
    return value.strip(WHITE_SPACE)


class _NotBlank:
    """Text that is not only white space, stored trimmed. Lengths are checked on the text as sent
    (`Annotated[str, Field(max_length=120), NOT_BLANK]`), as the document says; a pattern would
    refuse the padding that trimming allows, so fields with a pattern are not trimmed."""

    def __get_pydantic_core_schema__(self, source: Any, handler: Any) -> Any:
        return core_schema.no_info_after_validator_function(self._trimmed_not_blank, handler(source))

    def __get_pydantic_json_schema__(self, schema: Any, handler: Any) -> dict[str, Any]:
        documented: dict[str, Any] = handler(schema)
        documented["pattern"] = f"^{TEXT_CHAR}*{VISIBLE_CHAR}{TEXT_CHAR}*$"
        return documented

    @staticmethod
    def _trimmed_not_blank(value: str) -> str:
        if not (value := trimmed(value)):
            raise PydanticCustomError("blank", "must not be blank")
        return value


NOT_BLANK = _NotBlank()
TRIMMED = AfterValidator(trimmed)


def _amount(pattern: str) -> Any:
    written = re.compile(pattern)

    def amount(value: Any) -> Any:
        if not isinstance(value, str):
            raise PydanticCustomError("decimal_type", 'write the amount as a string, like "12.50"')
        if not written.fullmatch(value):
            raise PydanticCustomError("decimal_format", "up to 10 digits, a point and up to 2 decimals")
        return Decimal(value)

    return amount


# Every request int carries WHOLE; narrower bounds are their own type, in this order:
# `Annotated[int, Field(ge=1, le=100), WHOLE]` (a Field after the validator would be dropped).
WHOLE = BeforeValidator(whole_number)
Int4 = Annotated[int, Field(ge=INT4_MIN, le=INT4_MAX), WHOLE]
Int2 = Annotated[int, Field(ge=INT2_MIN, le=INT2_MAX), WHOLE]
# The id of a row of a bigint identity column (messages): up to 2^53 - 1, the integers every
# JSON parser reads exactly (I-JSON, RFC 7493), far beyond what an identity reaches.
JSON_SAFE_INTEGER_MAX = 2**53 - 1
BigId = Annotated[int, Field(ge=1, le=JSON_SAFE_INTEGER_MAX), WHOLE]
# The version an optimistic update was read at (a row's `version` column, from 1).
Version = Annotated[int, Field(ge=1, le=INT4_MAX), WHOLE]
IsoDate = Annotated[date, BeforeValidator(_iso_date_only)]
Money = Annotated[
    Decimal,
    BeforeValidator(_amount(MONEY)),
    WithJsonSchema({"type": "string", "pattern": MONEY, "examples": ["12.50"]}),
]
PositiveMoney = Annotated[
    Decimal,
    BeforeValidator(_amount(POSITIVE_MONEY)),
    WithJsonSchema({"type": "string", "pattern": POSITIVE_MONEY, "examples": ["12.50"]}),
]


class PatchModel(AppModel):
    """A partial update. `CONTROL_FIELDS` (the `version` of an optimistic update) change nothing
    by themselves; the document says at least one other field is required."""

    model_config = ConfigDict(defer_build=True, extra="forbid")
    CONTROL_FIELDS: ClassVar[frozenset[str]] = frozenset({"version"})

    @model_validator(mode="after")
    def _changes_something(self) -> Any:
        if not self.model_fields_set - self.CONTROL_FIELDS:
            changeable = ", ".join(sorted(set(type(self).model_fields) - self.CONTROL_FIELDS))
            raise PydanticCustomError(
                "nothing_to_change", "nothing to change: send at least one of {fields}", {"fields": changeable}
            )
        return self

    @classmethod
    def __get_pydantic_json_schema__(cls, core_schema: Any, handler: Any) -> dict[str, Any]:
        schema: dict[str, Any] = handler(core_schema)
        target = handler.resolve_ref_schema(schema)
        fields = sorted(set(cls.model_fields) - cls.CONTROL_FIELDS)
        target["anyOf"] = [{"required": [name]} for name in fields]
        for prop in target.get("properties", {}).values():
            if prop.get("default", "") is None and {"type": "null"} not in prop.get("anyOf", []):
                del prop["default"]  # NOT_SENT: left out is kept; null is not a value it takes
        return schema
