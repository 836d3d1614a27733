"""Pieces every list endpoint shares: opaque keyset cursors and the limit."""

from __future__ import annotations

import base64
import binascii
from typing import Any

import marshmallow as ma

MAX_LIMIT = 200
DEFAULT_LIMIT = 50


def encode_cursor(*values: int) -> str:
    """Opaque cursor for the keyset position after `values`."""
    raw = ".".join(str(v) for v in values).encode("ascii")
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


class Cursor(ma.fields.Field):
    """A keyset cursor: deserialises to a tuple of `arity` integers, or fails validation."""

    default_error_messages = {"invalid": "Not a valid cursor; pass back `next_cursor` as given."}

    def __init__(self, arity: int = 1, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.arity = arity

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> tuple[int, ...]:
        if not isinstance(value, str) or len(value) > 200:
            raise self.make_error("invalid")
        try:
            raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode("ascii")
            numbers = tuple(int(part) for part in raw.split("."))
        except (binascii.Error, UnicodeDecodeError, ValueError):
            raise self.make_error("invalid") from None
        if len(numbers) != self.arity or any(n < 0 or n > 2**63 - 1 for n in numbers):
            raise self.make_error("invalid")
        return numbers


class PageQuerySchema(ma.Schema):
    cursor = Cursor(metadata={"description": "`next_cursor` from the previous page"})
    limit = ma.fields.Integer(
        load_default=DEFAULT_LIMIT,
        validate=ma.validate.Range(min=1, max=MAX_LIMIT),
        metadata={"description": f"Page size, at most {MAX_LIMIT}"},
    )


class PageSchema(ma.Schema):
    next_cursor = ma.fields.String(
        allow_none=True,
        metadata={"description": "Pass as `cursor` for the next page; null on the last page"},
    )
