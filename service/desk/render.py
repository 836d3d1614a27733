"""An article's body as HTML with its claims marked, and nothing else changed: the text of
the element is the body itself, code point for code point, so that a selection made in it
maps back to the offsets claims use (the desk's script counts code points from its start).

Claims may overlap (a reported clause inside its sentence): the body is cut at every claim
boundary, and each piece is marked with the claims that cover it, linked to the shortest.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from itertools import pairwise

from markupsafe import Markup, escape


@dataclass(frozen=True)
class Mark:
    claim_id: int
    start: int
    end: int
    checkworthy: bool | None


def marked_body(
    body: str,
    marks: Iterable[Mark],
    *,
    current: int | None,
    claim_url: Callable[[int], str],
) -> Markup:
    """`body` as HTML, each claim's text marked: the `current` claim as <mark>, the others
    as links to their pages."""
    spans = sorted(
        (m for m in marks if 0 <= m.start < m.end <= len(body)), key=lambda m: (m.start, m.end)
    )
    cuts = sorted({0, len(body), *(m.start for m in spans), *(m.end for m in spans)})
    pieces: list[str] = []
    covering: list[Mark] = []  # the claims over the piece at hand (cuts include every end)
    following = 0
    for left, right in pairwise(cuts):
        # A CR is written as a reference: the HTML parser folds a literal CR LF into LF,
        # which would shift every offset after it.
        text = str(escape(body[left:right])).replace("\r", "&#13;")
        covering = [m for m in covering if m.end > left]
        while following < len(spans) and spans[following].start <= left:
            covering.append(spans[following])
            following += 1
        if not covering:
            pieces.append(text)
            continue
        ids = " ".join(str(m.claim_id) for m in covering)
        if current is not None and any(m.claim_id == current for m in covering):
            pieces.append(f'<mark class="claim current" data-claims="{ids}">{text}</mark>')
            continue
        shortest = min(covering, key=lambda m: m.end - m.start)
        kind = "claim checkworthy" if shortest.checkworthy else "claim"
        pieces.append(
            f'<a class="{kind}" href="{escape(claim_url(shortest.claim_id))}" '
            f'data-claims="{ids}">{text}</a>'
        )
    # Every piece of text was escaped above, and every attribute value is an id or an
    # escaped URL.
    return Markup("".join(pieces))  # noqa: S704
