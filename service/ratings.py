"""The verdict rating scale: data, not code. The default, or JSON from FACTCHECK_RATING_SCALE."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
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


# Ratings as fact-checkers publish them, normalised (lower case, words joined by "-"), that
# mean a key of the default scale under another name: PolitiFact's Truth-O-Meter ("barely
# true" is shown as "Mostly False", "pants on fire" is false), Snopes' and common ClaimReview
# alternateNames.
RATING_ALIASES = {
    "pants-fire": "false",
    "pants-on-fire": "false",
    "barely-true": "mostly-false",
    "half-true": "mixed",
    "mixture": "mixed",
    "half-flip": "mixed",
    "fake": "false",
    "incorrect": "false",
    "wrong": "false",
    "correct": "true",
    "accurate": "true",
    "mostly-accurate": "mostly-true",
    "mostly-correct": "mostly-true",
    "mostly-inaccurate": "mostly-false",
    "misattributed": "false",
    "miscaptioned": "misleading",
    "missing-context": "misleading",
    "needs-context": "misleading",
    "out-of-context": "misleading",
    "exaggerated": "misleading",
    "distorts-the-facts": "misleading",
    "unproven": "unverifiable",
    "unsupported": "unverifiable",
    "no-evidence": "unverifiable",
}


def scale_key(rating: str | None, scale: Sequence[Rating]) -> str | None:
    """The key on `scale` of a published rating ("Mostly False", "pants-fire"), or None.

    A rating matches a key or label of the scale, or an alias of RATING_ALIASES that names a
    key of the scale; anything else (a Flip-O-Meter's "full-flop") maps to nothing.
    """
    if not rating:
        return None
    normal = re.sub(r"[\s_]+", "-", rating.strip().lower())
    by_name = {r.key: r.key for r in scale} | {
        re.sub(r"[\s_]+", "-", r.label.lower()): r.key for r in scale
    }
    if normal in by_name:
        return by_name[normal]
    alias = RATING_ALIASES.get(normal)
    return alias if alias in by_name.values() else None
