"""ASP.NET route templates, as the Functions host matches HTTP trigger routes: one parser and
matcher for the dev host's router and the OpenAPI builder (documented paths, 405 vs 404).

Supported: literal segments (case-insensitive), `{name}`, inline constraints `{id:guid}`
(also chained, `{n:int:min(1)}`), optional `{name?}`, defaults `{name=x}` and a catch-all
`{*rest}`. `RouteTemplate.precedence` is the ASP.NET inbound precedence (literal >
constrained parameter > parameter > catch-all, segment by segment); choosing among routes
is the caller's business.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation

Check = Callable[[str], bool]

_GUID_FORMS = (
    r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",  # D
    r"[0-9a-f]{32}",  # N
    r"\{[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\}",  # B
    r"\([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\)",  # P
)
_GUID = re.compile("|".join(f"(?:{form})" for form in _GUID_FORMS), re.IGNORECASE)
_INTEGER = re.compile(r"\s*[+-]?\d+\s*")
_DECIMAL = re.compile(r"\s*[+-]?(\d+(\.\d*)?|\.\d+)\s*")
_FLOAT = re.compile(r"\s*([+-]?(\d+(\.\d*)?|\.\d+)(e[+-]?\d+)?|NaN|[+-]?Infinity)\s*", re.I)


def _integer_within(bits: int) -> Check:
    low, high = -(2 ** (bits - 1)), 2 ** (bits - 1) - 1
    return lambda v: bool(_INTEGER.fullmatch(v)) and low <= int(v) <= high


def _is_decimal(value: str) -> bool:
    if not _DECIMAL.fullmatch(value):
        return False
    try:
        return abs(Decimal(value.strip())) < Decimal("79228162514264337593543950336")
    except InvalidOperation:
        return False


def _is_datetime(value: str) -> bool:
    try:
        datetime.fromisoformat(value.strip())
    except ValueError:
        return False
    return True


_SIMPLE_CONSTRAINTS: dict[str, Check] = {
    "int": _integer_within(32),
    "long": _integer_within(64),
    "guid": lambda v: bool(_GUID.fullmatch(v)),
    "alpha": lambda v: bool(re.fullmatch(r"[a-z]+", v, re.IGNORECASE)),
    "bool": lambda v: v.strip().lower() in ("true", "false"),
    "decimal": _is_decimal,
    "double": lambda v: bool(_FLOAT.fullmatch(v)),
    "float": lambda v: bool(_FLOAT.fullmatch(v)),
    "datetime": _is_datetime,
}


def _argument_constraint(name: str, args: list[str]) -> Check:
    long_ok = _SIMPLE_CONSTRAINTS["long"]
    if name == "min":
        return lambda v: long_ok(v) and int(v) >= int(args[0])
    if name == "max":
        return lambda v: long_ok(v) and int(v) <= int(args[0])
    if name == "range":
        return lambda v: long_ok(v) and int(args[0]) <= int(v) <= int(args[1])
    if name == "minlength":
        return lambda v: len(v) >= int(args[0])
    if name == "maxlength":
        return lambda v: len(v) <= int(args[0])
    if name == "length":
        low, high = (int(args[0]), int(args[-1]))
        return lambda v: low <= len(v) <= high
    raise ValueError(f"unknown route constraint '{name}'")


def build_constraint(text: str) -> Check:
    """One inline constraint: `int`, `min(1)`, `regex(^a+$)`..."""
    match = re.fullmatch(r"(\w+)(?:\((.*)\))?", text, re.DOTALL)
    if not match:
        raise ValueError(f"malformed route constraint '{text}'")
    name, arg = match.group(1).lower(), match.group(2)
    if arg is None and name in _SIMPLE_CONSTRAINTS:
        return _SIMPLE_CONSTRAINTS[name]
    if name == "regex" and arg is not None:
        # ASP.NET: case-insensitive, unanchored unless the pattern anchors itself
        pattern = re.compile(arg, re.IGNORECASE)
        return lambda v: bool(pattern.search(v))
    if arg is None:
        raise ValueError(f"unknown route constraint '{text}'")
    return _argument_constraint(name, [a.strip() for a in arg.split(",")])


@dataclass(frozen=True)
class Segment:
    kind: str  # "literal" | "param" | "catchall"
    text: str  # literal text, or the parameter name
    checks: tuple[Check, ...] = ()
    constraints: tuple[str, ...] = ()  # as written: "int", "min(1)"
    optional: bool = False
    default: str | None = None

    @property
    def precedence(self) -> int:
        """ASP.NET inbound precedence digit: lower wins."""
        if self.kind == "literal":
            return 1
        if self.kind == "catchall":
            return 5
        return 3 if self.checks else 4

    def accepts(self, value: str) -> bool:
        return all(check(value) for check in self.checks)


def _split_top_level(text: str, separator: str) -> list[str]:
    """Split on `separator` outside parentheses (a regex constraint may contain ':')."""
    parts, depth, current = [], 0, ""
    for char in text:
        depth += (char == "(") - (char == ")")
        if char == separator and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += char
    return [*parts, current]


def parse_parameter(body: str) -> Segment:
    """`{...}` contents: `*name`, `name:c1:c2(x)`, trailing `?`, `=default`."""
    catchall = body.startswith("*")
    body = body.lstrip("*")
    optional = body.endswith("?")
    body = body[:-1] if optional else body
    pieces = _split_top_level(body, "=")
    body, default = pieces[0], ("=".join(pieces[1:]) if len(pieces) > 1 else None)
    name, *written = _split_top_level(body, ":")
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
        raise ValueError(f"invalid route parameter name '{name}'")
    constraints = tuple(c for c in written if c)
    return Segment(
        kind="catchall" if catchall else "param",
        text=name,
        checks=tuple(build_constraint(c) for c in constraints),
        constraints=constraints,
        optional=optional or catchall,
        default=default,
    )


def parse_segment(text: str) -> Segment:
    inner = text[1:-1]
    if text.startswith("{") and text.endswith("}") and "{" not in inner.replace("{{", ""):
        # braces inside a parameter (a regex quantifier) are escaped by doubling them
        return parse_parameter(inner.replace("{{", "{").replace("}}", "}"))
    if "{" in text or "}" in text:
        raise ValueError(f"complex route segment '{text}' is not supported")
    return Segment(kind="literal", text=text)


def split_path(path: str) -> list[str]:
    """URL path to segments; a trailing slash is ignored, as in ASP.NET routing."""
    stripped = path.strip("/")
    return stripped.split("/") if stripped else []


@dataclass(frozen=True)
class RouteTemplate:
    template: str
    segments: tuple[Segment, ...]
    # Cheap rejection before the full match: how many path segments can match, and the
    # literal segments by position (casefolded). Resolving tries routes in order, so without
    # this every request paid the full match of every route ahead of its own.
    min_parts: int = 0
    max_parts: int | None = None
    literals: tuple[tuple[int, str], ...] = ()

    @classmethod
    def parse(cls, template: str, prefix: str = "") -> RouteTemplate:
        route = template.removeprefix("~").strip("/")
        texts = split_path(prefix) + split_path(route)
        segments = tuple(parse_segment(t) for t in texts)
        for index, segment in enumerate(segments[:-1]):
            if segment.kind == "catchall":
                raise ValueError(f"catch-all must be the last segment in '{template}'")
            if segment.optional and not all(s.optional for s in segments[index + 1 :]):
                raise ValueError(f"only trailing segments may be optional in '{template}'")
        required = sum(1 for s in segments if not (s.optional or s.default is not None))
        unbounded = any(s.kind == "catchall" for s in segments)
        literals = tuple((i, s.text.casefold()) for i, s in enumerate(segments) if s.kind == "literal")
        return cls(
            template=template,
            segments=segments,
            min_parts=required,
            max_parts=None if unbounded else len(segments),
            literals=literals,
        )

    def could_match(self, folded: list[str]) -> bool:
        """False when `folded` (casefolded path segments) cannot match; True means maybe."""
        count = len(folded)
        if count < self.min_parts or (self.max_parts is not None and count > self.max_parts):
            return False
        return all(index >= count or folded[index] == text for index, text in self.literals)

    @property
    def precedence(self) -> tuple[int, ...]:
        return tuple(segment.precedence for segment in self.segments)

    def match(self, parts: list[str]) -> dict[str, str] | None:
        """Route values when `parts` (path segments) matches, else None."""
        values: dict[str, str] = {}
        for index, segment in enumerate(self.segments):
            if segment.kind == "catchall":
                return self._match_rest(segment, "/".join(parts[index:]), values)
            if index >= len(parts):
                if not (segment.optional or segment.default is not None):
                    return None
                if segment.default is not None:
                    values[segment.text] = segment.default
                continue
            if not self._match_one(segment, parts[index], values):
                return None
        return values if len(parts) <= len(self.segments) else None

    @staticmethod
    def _match_one(segment: Segment, part: str, values: dict[str, str]) -> bool:
        if segment.kind == "literal":
            return part.casefold() == segment.text.casefold()
        if not part or not segment.accepts(part):
            return False
        values[segment.text] = part
        return True

    @staticmethod
    def _match_rest(segment: Segment, rest: str, values: dict[str, str]) -> dict[str, str] | None:
        if not rest:
            if segment.default is not None:
                values[segment.text] = segment.default
            return values
        if not segment.accepts(rest):
            return None
        values[segment.text] = rest
        return values
