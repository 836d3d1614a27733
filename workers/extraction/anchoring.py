"""Re-anchoring a quoted span in a changed text (W3C TextQuoteSelector semantics).

The exact text must occur in the new body. When it occurs more than once, the occurrence
whose surroundings best match the recorded prefix and suffix wins, and then the one nearest
the old position.
"""

from __future__ import annotations


def _common_suffix(a: str, b: str) -> int:
    n = 0
    for x, y in zip(reversed(a), reversed(b), strict=False):
        if x != y:
            break
        n += 1
    return n


def _common_prefix(a: str, b: str) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


def anchor(body: str, exact: str, prefix: str = "", suffix: str = "", near: int = 0) -> int | None:
    """Start offset of `exact` in `body` best matching the context, or None if it is gone."""
    if not exact:
        return None
    best: tuple[int, int] | None = None
    best_start = None
    start = body.find(exact)
    while start != -1:
        end = start + len(exact)
        context = _common_suffix(body[max(0, start - len(prefix)) : start], prefix)
        context += _common_prefix(body[end : end + len(suffix)], suffix)
        rank = (context, -abs(start - near))
        if best is None or rank > best:
            best, best_start = rank, start
        start = body.find(exact, start + 1)
    return best_start
