"""Pieces every list endpoint shares: opaque keyset cursors and the limit."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property
from typing import Any

import marshmallow as ma

MAX_LIMIT = 200
DEFAULT_LIMIT = 50


@dataclass(frozen=True)
class InputLimits:
    """What one request may hold, as the deployment configures it (see README)."""

    max_article_chars: int
    max_batch_articles: int


# Set around every request's parsing by the API (service.api); unset, nothing is limited.
_LIMITS: ContextVar[InputLimits | None] = ContextVar("input_limits", default=None)


@contextmanager
def input_limits(limits: InputLimits) -> Iterator[None]:
    """Schemas loaded inside enforce `limits`."""
    token = _LIMITS.set(limits)
    try:
        yield
    finally:
        _LIMITS.reset(token)


def current_limits() -> InputLimits | None:
    return _LIMITS.get()


# An http(s) URL with a DNS-style host: the same pattern validates and is documented, so the
# OpenAPI contract accepts exactly what the API accepts.
_LABEL = "[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
HTTP_URL_PATTERN = rf"^https?://{_LABEL}(?:\.{_LABEL})*(?::[0-9]{{1,5}})?(?:[/?#][!-~]*)?$"
MAX_URL = 2_048
HTTP_URL_ERROR = "Must be an http or https URL."


class Pattern(ma.validate.Regexp):
    """A Regexp the whole value must match, documented as its pattern.

    Python's `$` also matches before a final newline, which the documented (ECMA-262) `$`
    does not: here the value must end where the pattern does, as the OpenAPI contract says.
    """

    def __init__(self, regex: str, *, error: str | None = None) -> None:
        super().__init__(regex, error=error)
        self._whole = re.compile(regex.removesuffix("$") + r"\Z")

    def __call__(self, value: Any) -> Any:
        if self._whole.match(value) is None:
            raise ma.ValidationError(self._format_error(value))
        return value


def http_url(**kwargs: Any) -> ma.fields.String:
    """A field for http and https URLs only (no javascript:, data:, file: ...)."""
    return ma.fields.String(
        validate=[
            ma.validate.Length(max=MAX_URL),
            Pattern(HTTP_URL_PATTERN, error=HTTP_URL_ERROR),
        ],
        **kwargs,
    )


# Postgres text cannot hold NUL, so no string field accepts one (documented as a pattern too).
NO_NUL_PATTERN = r"^[^\x00]*$"
NOT_BLANK_PATTERN = r"^[^\x00]*[^\s\x00][^\x00]*$"


def text(min_length: int | None = None, max_length: int | None = None, **kwargs: Any) -> Any:
    """A string field that refuses NUL characters, with optional length bounds."""
    return ma.fields.String(
        validate=[
            ma.validate.Length(min=min_length, max=max_length),
            Pattern(NO_NUL_PATTERN, error="Must not contain NUL characters."),
        ],
        **kwargs,
    )


def nonblank_text(max_length: int | None = None, *, also: Any = (), **kwargs: Any) -> Any:
    """A string with at least one visible character and no NUL; `also`: more validators."""
    return ma.fields.String(
        validate=[
            ma.validate.Length(min=1, max=max_length),
            Pattern(
                NOT_BLANK_PATTERN, error="Must contain text, not only whitespace (and no NUL)."
            ),
            *also,
        ],
        **kwargs,
    )


# RFC 3339 with a four-digit year from 1000 and an offset Postgres can store (< 16 h).
TIMESTAMP_PATTERN = (
    r"^[1-9][0-9]{3}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6})?"
    r"([Zz]|[+-](0[0-9]|1[0-5]):[0-5][0-9])$"
)


class Timestamp(ma.fields.AwareDateTime):
    """An RFC 3339 timestamp with an explicit offset, returned in UTC."""

    default_error_messages = {"range": "Out of range: in UTC it falls after the year 9999."}

    def __init__(self, **kwargs: Any) -> None:
        metadata = {"pattern": TIMESTAMP_PATTERN, **kwargs.pop("metadata", {})}
        super().__init__(format="iso", metadata=metadata, **kwargs)

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> datetime:
        if not isinstance(value, str) or not re.fullmatch(TIMESTAMP_PATTERN, value):
            raise self.make_error("invalid", input=value, obj_type=self.OBJ_TYPE)
        parsed: datetime = super()._deserialize(value, attr, data, **kwargs)
        try:
            return parsed.astimezone(UTC)
        except OverflowError:  # 9999-12-31T23:59:59-15:00 is in the year 10000 in UTC
            raise self.make_error("range") from None


# Fields whose dump of a value of exactly this type, or of None, is the value itself.
_AS_IS_TYPES: dict[type[ma.fields.Field], type] = {
    ma.fields.String: str,
    ma.fields.Integer: int,
    ma.fields.Float: float,
    ma.fields.Boolean: bool,
}
# How FastDumpSchema dumps a field without marshmallow's own path (see `_shortcut`).
_COPY, _ISO, _CALL, _NESTED = range(4)


def _shortcut(field: ma.fields.Field) -> tuple[int, Any] | None:
    """(how, with what) ``field`` is dumped on the fast path, or None when it must always do
    its own work.

    _COPY (value type, item type for lists): a value of exactly that type, or None, dumps to
    itself. _ISO: a datetime dumps to its ISO 8601 text, as the DateTime field formats it.
    _CALL (the function): a Function field dumps what its function returns for the object.
    _NESTED (the schema): a list of objects, each dumped by a FastDumpSchema.
    """
    if getattr(field, "as_string", False):
        return None
    if type(field) is ma.fields.List and type(field.inner) is ma.fields.String:
        return _COPY, (list, str)
    if type(field) is StoredSpans:
        return _COPY, (list, dict)
    if type(field) in _AS_IS_TYPES:
        return _COPY, (_AS_IS_TYPES[type(field)], None)
    if type(field) is ma.fields.DateTime:
        dump_format = field.format or field.DEFAULT_FORMAT
        if field.SERIALIZATION_FUNCS.get(dump_format) is datetime.isoformat:
            return _ISO, None
    if type(field) is ma.fields.Function:
        return _CALL, field.serialize_func
    if type(field) is ma.fields.List and type(field.inner) is ma.fields.Nested:
        schema = field.inner.schema
        plain = not (schema.many or field.inner.many)
        if isinstance(schema, FastDumpSchema) and plain and not _has_dump_hooks(schema):
            return _NESTED, schema
    return None


def _has_dump_hooks(schema: ma.Schema) -> bool:
    hooks = schema._hooks
    return bool(hooks.get(ma.decorators.PRE_DUMP) or hooks.get(ma.decorators.POST_DUMP))


def _all(items: Any, item_type: type) -> bool:
    return all(type(item) is item_type for item in items)


def _item(obj: Any, name: str) -> Any:
    """Marshmallow's lookup of a plain name in an object with items: the item, else the
    attribute, else missing."""
    try:
        return obj[name]
    except (KeyError, IndexError, TypeError, AttributeError):
        return getattr(obj, name, ma.missing)


class FastDumpSchema(ma.Schema):
    """A schema that dumps plain values without marshmallow's per-field machinery.

    Marshmallow runs every field through its accessor and formatter, which costs a few
    microseconds a field; a queue page has some thousand of them. Here a string, integer,
    float or boolean of exactly the field's type, a list of strings, the stored spans of
    a :class:`StoredSpans` field, or None, dumps to itself, so it is copied as is; a
    datetime in an ISO DateTime field is formatted as that field does; a Function field's
    function is called; and a list of objects nested with another FastDumpSchema is dumped
    by that schema's fast path. Anything else -- other fields, other types, missing
    attributes -- takes marshmallow's own path, so the output is the same.
    """

    @cached_property
    def _dump_plan(self) -> list[tuple[str, str, str, tuple[int, Any] | None, Any]]:
        # A schema with its own attribute lookup keeps it for every field.
        own_lookup = type(self).get_attribute is not ma.Schema.get_attribute
        plan = []
        for name, field in self.dump_fields.items():
            attribute = field.attribute or name
            key = field.data_key if field.data_key is not None else name
            plain = not own_lookup and "." not in attribute
            shortcut = _shortcut(field) if plain else None
            plan.append((name, key, attribute, shortcut, field))
        return plan

    def _serialize(self, obj: Any, *, many: bool = False) -> Any:
        if many and obj is not None:
            return [self._serialize(item) for item in obj]
        indexable = hasattr(obj, "__getitem__")
        result = self.dict_class()
        for name, key, attribute, shortcut, field in self._dump_plan:
            if shortcut is not None:
                how, using = shortcut
                if how == _CALL:
                    value = using(obj)
                    if value is not ma.missing:
                        result[key] = value
                    continue
                value = _item(obj, attribute) if indexable else getattr(obj, attribute, ma.missing)
                if value is None:
                    result[key] = None
                    continue
                if how == _COPY:
                    value_type, item_type = using
                    if type(value) is value_type and (item_type is None or _all(value, item_type)):
                        result[key] = value
                        continue
                elif how == _ISO:
                    if type(value) is datetime:
                        result[key] = value.isoformat()
                        continue
                elif type(value) is list:  # _NESTED
                    result[key] = [
                        None if item is None else using._serialize(item) for item in value
                    ]
                    continue
            value = field.serialize(name, obj, accessor=self.get_attribute)
            if value is not ma.missing:
                result[key] = value
        return result


class StoredSpans(ma.fields.List):
    """Spans the engine produced and the database keeps as JSON: documented as a list of
    the nested schema, returned as stored.

    The stored lists are plain JSON already in that shape (the engine's own tests check
    it), so dumping them again field by field would only copy them, at over half the cost
    of a queue page. Anything but a list of dicts is dumped through the nested schema.
    """

    def _serialize(self, value: Any, attr: Any, obj: Any, **kwargs: Any) -> Any:
        if isinstance(value, list) and all(type(item) is dict for item in value):
            return value
        return super()._serialize(value, attr, obj, **kwargs)


def encode_cursor(*values: int) -> str:
    """The cursor for the keyset position after `values`."""
    return ".".join(str(v) for v in values)


# What each part of a cursor may be, as patterns, so that the documented pattern is the whole
# check: an id (bigint: 18 digits always fit), a claim's start or end (code points into a
# body, which is far shorter than 10^9), a flag.
ID_PART = "[0-9]{1,18}"
OFFSET_PART = "[0-9]{1,9}"
FLAG_PART = "[01]"


class Cursor(ma.fields.String):
    """A keyset cursor: deserialises to a tuple of integers, one per part pattern given (by
    default one id), or fails validation.

    A part its pattern refuses was never issued, and may not fit what it is turned back into
    (a time in microseconds past the year 9999 was a 500).
    """

    default_error_messages = {"invalid": "Not a valid cursor; pass back `next_cursor` as given."}

    def __init__(self, *parts: str, **kwargs: Any) -> None:
        self.pattern = "^" + r"\.".join(parts or (ID_PART,)) + "$"
        metadata = {"pattern": self.pattern, **kwargs.pop("metadata", {})}
        super().__init__(metadata=metadata, **kwargs)

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> Any:
        if not isinstance(value, str) or not re.fullmatch(self.pattern, value):
            raise self.make_error("invalid")
        return tuple(int(part) for part in value.split("."))


class PageQuerySchema(ma.Schema):
    cursor = Cursor(metadata={"description": "`next_cursor` from the previous page"})
    limit = ma.fields.Integer(
        load_default=DEFAULT_LIMIT,
        validate=ma.validate.Range(min=1, max=MAX_LIMIT),
        metadata={"description": f"Page size, at most {MAX_LIMIT}"},
    )


class PageSchema(FastDumpSchema):
    next_cursor = ma.fields.String(
        allow_none=True,
        metadata={"description": "Pass as `cursor` for the next page; null on the last page"},
    )


class TextOrSentencesSchema(ma.Schema):
    """A body giving exactly one of `text` (a document) or `sentences` (already split): the
    subclass declares both fields, with its own limits."""

    @ma.validates_schema
    def exactly_one_input(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if ("text" in data) == ("sentences" in data):
            raise ma.ValidationError("Send exactly one of `text` or `sentences`.", "_schema")
