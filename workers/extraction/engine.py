"""Text in, candidate claims out: the engine's single entry point.

This first version anchors every sentence of the body as a candidate claim with its W3C
TextQuoteSelector context; scoring, typing and attribution fill the remaining fields
(left empty, never guessed, until they are computed).
"""

from __future__ import annotations

from typing import Any

from workers.extraction.segment import split_sentences

# Characters of context kept either side of a claim, to re-anchor it in a revised body.
CONTEXT_CHARS = 32


def extract(body: str) -> list[dict[str, Any]]:
    """Every segment of `body` as a claim dict; `body[start:end] == text` for each."""
    claims = []
    for segment in split_sentences(body):
        claims.append(
            {
                "start": segment.start,
                "end": segment.end,
                "text": segment.text,
                "prefix": body[max(0, segment.start - CONTEXT_CHARS) : segment.start],
                "suffix": body[segment.end : segment.end + CONTEXT_CHARS],
                "kind": segment.kind,
                "checkworthiness": None,
                "checkworthy": None,
                "types": [],
                "speaker": None,
                "quantities": [],
                "dates": [],
                "entities": [],
                "language": None,
            }
        )
    return claims
