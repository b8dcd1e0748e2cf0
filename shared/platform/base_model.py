"""The base of the app's pydantic models: validators and serializers are built on first use,
not when the module is imported (pydantic's `defer_build`).

Why: the Functions host imports the whole app to index it, but a request needs only its own
models. Building all of them at import took 45–85 ms of the app's cold start, over the
250 ms budget on a slow day (bench/README.md); a first request now builds the few it uses.

The edge of every request model, shared here so each field does not repeat it:
- bodies are validated from JSON in strict mode (`shared.platform.http`): no 0/1 for a bool,
  no "5" or 5.0 for an int; text with NUL or a lone surrogate is refused there too;
- `Int4` / `Int2` are integers that fit their PostgreSQL column (`integer`, `smallint`);
  `tests/unit/test_request_models.py` fails when a request model has an int without bounds;
- `IsoDate` is a date written `YYYY-MM-DD`, never a number of seconds (`?to=0`);
- `PatchModel` is a partial update: a field left out is kept, a NOT NULL column's field
  (`= NOT_SENT`, typed without None) cannot be set to null, and a patch that changes nothing
  is 422 `nothing_to_change`.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any, ClassVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError

INT4_MIN, INT4_MAX = -(2**31), 2**31 - 1
INT2_MIN, INT2_MAX = -(2**15), 2**15 - 1
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")

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


Int4 = Annotated[int, Field(ge=INT4_MIN, le=INT4_MAX)]
Int2 = Annotated[int, Field(ge=INT2_MIN, le=INT2_MAX)]
IsoDate = Annotated[date, BeforeValidator(_iso_date_only)]


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
