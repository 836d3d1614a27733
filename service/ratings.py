"""The verdict rating scale: data, not code. The default, or JSON from FACTCHECK_RATING_SCALE."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Rating:
    """One rating: its key (stored), label (ClaimReview alternateName), numeric value or None."""

    key: str
    label: str
    value: int | None


DEFAULT_SCALE = (
    Rating("true", "True", 5),
    Rating("mostly-true", "Mostly true", 4),
    Rating("mixed", "Mixed", 3),
    Rating("mostly-false", "Mostly false", 2),
    Rating("false", "False", 1),
    Rating("misleading", "Misleading", None),
    Rating("unverifiable", "Unverifiable", None),
)


class ScaleError(ValueError):
    """The configured rating scale is malformed."""


def parse_scale(raw: str) -> tuple[Rating, ...]:
    """A scale from JSON text (or `@path` to a JSON file): [{"key", "label", "value"}, ...]."""
    if raw.startswith("@"):
        raw = Path(raw[1:]).read_text(encoding="utf-8")
    try:
        items = json.loads(raw)
    except json.JSONDecodeError as error:
        raise ScaleError(f"not valid JSON: {error}") from None
    if not isinstance(items, list) or not items:
        raise ScaleError("must be a non-empty JSON list of ratings")
    scale = []
    for item in items:
        if not isinstance(item, dict) or not {"key", "label"} <= set(item):
            raise ScaleError(f"each rating needs a key and a label: {item!r}")
        value = item.get("value")
        if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
            raise ScaleError(f"rating {item['key']!r}: value must be an integer or null")
        scale.append(Rating(str(item["key"]), str(item["label"]), value))
    if len({r.key for r in scale}) != len(scale):
        raise ScaleError("rating keys must be unique")
    return tuple(scale)
