"""Tag a claim with the Full Fact claim types that apply to it.

``classify_types(text)`` returns, in this fixed order, every type whose cues occur:
``"quantity"``, ``"prediction"``, ``"correlation/causation"``, ``"rules/laws"``,
``"personal experience"``, ``"voting"``, ``"support"``, ``"opinion"``; or ``["other"]``
when none does.  ``quantity`` means :func:`find_quantities` found something (pass
``quantities`` when already computed); the others are keyword cues, so a sentence *about*
a ban counts as ``rules/laws`` whatever its stance.  ``dates`` is accepted for callers
that have them: a future year (``by 2030``) is already a prediction cue in the text.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from service.vocabulary import CLAIM_TYPES
from workers.extraction.quantities import find_quantities

__all__ = ["CLAIM_TYPES", "classify_types"]


_LIVED = (
    r"(?:saw|see|lived|live|grew\sup|went|worked|was|were|had|have\sseen|experienced|met|felt|"
    r"watched|heard|lost|spent|visited)"
)
# Each type's cues: a "|"-separated list of alternatives, each starting with a lowercase
# letter, matched as whole words in the lowercased text (see _types_found).
_CUE_PATTERNS: tuple[tuple[str, str], ...] = (
    (
        "prediction",
        (
            r"will|won[\u2019']t|shall|going\sto|is\sset\sto|are\sset\sto|expected\sto|"
            r"expects?\sto|forecasts?|forecasted|predicts?|predicted|projected|projections?|"
            r"likely\sto|on\strack\sto|by\s20[2-9]\d|in\sthe\scoming\s(?:years|months|decades)|"
            r"next\s(?:year|decade)|would\s(?:rise|fall|grow|reach|double|increase|decrease)"
        ),
    ),
    (
        "correlation/causation",
        (
            r"caus(?:e|es|ed|ing)|because|led\sto|leads?\sto|leading\sto|due\sto|linked\sto|"
            r"link\sbetween|results?\sin|resulted\sin|as\sa\sresult|owing\sto|thanks\sto|"
            r"contribut(?:e|es|ed|ing)\sto|driven\sby|triggered|blamed?\s(?:on|for)|"
            r"attribut(?:e|es|ed)\sto|associated\swith|correlat(?:e|es|ed|ion)|responsible\sfor|"
            r"increases?\sthe\srisk|reduces?\sthe\srisk|prevents?|protects?\sagainst"
        ),
    ),
    (
        "rules/laws",
        (
            r"laws?|bills?|illegal|illegally|legal|legislation|regulations?|regulat(?:e|ed|or)|"
            r"bans?|banned|banning|constitution(?:al)?|court\sruled|ruled|ruling|statute|"
            r"sanctions?|treaty|decree|mandatory|mandate[sd]?|prohibit(?:s|ed)?|outlaw(?:ed)?|"
            r"lawful|unlawful|rights?\sto|required\sby|act\sof\sparliament|supreme\scourt"
        ),
    ),
    (
        "personal experience",
        (
            rf"i\s{_LIVED}|we\s{_LIVED}|my\s(?:family|son|daughter|wife|husband|mother|father|"
            r"parents|children|friends?|home|life|own)|"
            r"our\s(?:family|home|village|town|children)|in\smy\sexperience|personally"
        ),
    ),
    (
        "voting",
        (
            r"vot(?:e|es|ed|ing|ers?)|ballots?|elected|re-elected|elections?|electoral|"
            r"referendum|polls?|polling|turnout|constituenc(?:y|ies)|mandate\sfrom"
        ),
    ),
    (
        "support",
        (
            r"supports?|supported|supporting|backs|backed|backing|endorse[sd]?|endorsing|"
            r"endorsement|oppose[sd]?|opposing|opposition\sto|stance|in\sfavou?r\sof|"
            r"against\sthe|welcomed?|rejects?|rejected|condemn(?:s|ed)?|champion(?:s|ed)?"
        ),
    ),
    (
        "opinion",
        (
            r"think|thinks|thought|believes?|believed|feel|feels|in\smy\sview|best|worst|"
            r"should|must|ought|need\sto|needs\sto|better|worse|greatest|terrible|great|"
            r"disastrous|wonderful|excellent|awful|unacceptable|ridiculous|shameful|"
            r"outrageous|fantastic|brilliant|important|necessary|vital|crucial|wrong|right|"
            r"unfair|fair|deserve[sd]?|clearly|obviously|undoubtedly|significant|massive|"
            r"huge|historic|pleased|proud|disappointed|hope|hopes|wish"
        ),
    ),
)


# Fallback for text whose lowercasing would shift offsets or that holds one of the
# non-ASCII letters IGNORECASE folds onto an ASCII one (dotted/dotless i, long s, Kelvin).
_CUES: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (name, re.compile(rf"\b(?:{pattern})\b", re.IGNORECASE)) for name, pattern in _CUE_PATTERNS
)
_CASE_FOLD_TRAPS_RE = re.compile("[\u0130\u0131\u017f\u212a]")


def _alternatives(pattern: str) -> list[str]:
    """The top-level ``|`` alternatives of a regular expression."""
    parts, depth, start, index = [], 0, 0, 0
    while index < len(pattern):
        char = pattern[index]
        if char == "\\":
            index += 1
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == "|" and depth == 0:
            parts.append(pattern[start:index])
            start = index + 1
        index += 1
    parts.append(pattern[start:])
    return parts


def _any_cue_pattern() -> str:
    """Every cue after a non-word character, grouped by first letter for a fast scan."""
    by_letter: dict[str, list[str]] = {}
    for _, pattern in _CUE_PATTERNS:
        for alternative in _alternatives(pattern):
            if not ("a" <= alternative[0] <= "z" and alternative[1:2] not in ("?", "*", "{")):
                raise ValueError(f"cue must start with a lowercase letter: {alternative!r}")
            by_letter.setdefault(alternative[0], []).append(alternative[1:])
    branches = "|".join(
        f"{letter}(?:{'|'.join(rests)})" for letter, rests in sorted(by_letter.items())
    )
    return rf"\W(?:{branches})\b"


# Whether any cue occurs: one scan of " " + the lowercased text, so that each cue follows a
# non-word character.  Sentences with a cue then get the exact scan below from that cue on.
_ANY_CUE_RE = re.compile(_any_cue_pattern())
# All cues in one pass: a lookahead finds the first type's cue at every word start.  A later
# type's cue starting at the same place ("right to" is rules/laws, "right" opinion) is then
# tried on its own, anchored there.
_ALL_CUES_RE = re.compile(
    r"\b(?=(?:"
    + "|".join(rf"(?P<t{i}>(?:{pattern})\b)" for i, (_, pattern) in enumerate(_CUE_PATTERNS))
    + r"))"
)
_ANCHORED_CUES = tuple(re.compile(rf"(?:{pattern})\b") for _, pattern in _CUE_PATTERNS)
_TYPE_NAMES = tuple(name for name, _ in _CUE_PATTERNS)


def _types_found(text: str) -> list[str]:
    """Names of the cue types occurring in ``text``, in taxonomy order."""
    lowered = text.lower()
    if len(lowered) != len(text) or _CASE_FOLD_TRAPS_RE.search(text):
        return [name for name, pattern in _CUES if pattern.search(text)]
    first_cue = _ANY_CUE_RE.search(" " + lowered)
    if first_cue is None:
        return []
    found = [False] * len(_TYPE_NAMES)
    for match in _ALL_CUES_RE.finditer(lowered, first_cue.start()):
        first = int(match.lastgroup[1:])  # type: ignore[index]
        found[first] = True
        position = match.start()
        for later in range(first + 1, len(_TYPE_NAMES)):
            if not found[later] and _ANCHORED_CUES[later].match(lowered, position):
                found[later] = True
    return [name for name, hit in zip(_TYPE_NAMES, found, strict=True) if hit]


def classify_types(
    text: str,
    *,
    quantities: Sequence[dict[str, Any]] | None = None,
    dates: Sequence[dict[str, Any]] | None = None,
) -> list[str]:
    """Full Fact claim types that apply to ``text``, in taxonomy order."""
    if quantities is None:
        quantities = find_quantities(text)
    types = ["quantity"] if quantities else []
    types.extend(_types_found(text))
    return types or ["other"]
