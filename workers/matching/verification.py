"""Does a fact-check say what the claim says? Guards that refuse a close match with a reason.

Two sentences can be near in meaning and still be different claims: "4 million" is not
"4 billion", "rose" is not "did not rise". Each guard compares one kind of detail found by the
extraction engine's own finders (workers.extraction.quantities, dates, entities) and reports a
disagreement only when both texts state that kind of detail and none of the claim's agrees:
a fact-check that leaves a detail out is not contradicting it.

- number: a quantity's value (2% relative tolerance, 10% when either side says "about",
  "over" or the like) that differs from the other's quantities of the same unit or counted
  kind, when no quantity of the two agrees;
- unit: the same value in different measurement units ("5%" and "5 percentage points",
  "$5" and "£5", "10 km" and "10 miles"); a counted noun ("soldiers") is not a unit;
- date: an absolute date or year of the claim compatible with none of the fact-check's
  (compared at the coarser precision: "2019" agrees with "2019-10-22"), where a date of the
  fact-check stands between the same words ("in March 2017" against "in March 2007");
- entity: the claim names a person, place or organisation the fact-check does not, and the
  fact-check names another of the same kind beside the same content word (a substitution, not an
  omission);
- negation: one side negates ("not", "never", "no", "n't", ...) and the other does not, in
  texts that share most of their content words (NEGATION_OVERLAP).

Dates, names and negation are gated so because a tweet or a debate sentence words the same
claim loosely: ungated, these guards refused 77% of the relevant CLEF-2020 test matches.

`verify` returns the disagreements (each with its `reason`) and the details that agree.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from workers.extraction.dates import find_dates
from workers.extraction.entities import COMMON_WORDS, find_entities
from workers.extraction.quantities import find_quantities

__all__ = ["Disagreement", "Verification", "details", "verify"]

RELATIVE_TOLERANCE = 0.02
APPROXIMATE_TOLERANCE = 0.10
# Units of measure (besides "%", currencies and units glued to a number, which the quantity
# finder reports as such): a different one of these beside the same value is a different claim.
_MEASURE_WORDS = frozenset(
    (
        *("percent", "km", "kilometres", "kilometers", "miles", "mile", "metres", "meters"),
        *("feet", "foot", "inches", "kg", "kilograms", "kilos", "grams", "tonnes", "tons"),
        *("pounds", "lbs", "ounces", "litres", "liters", "gallons", "barrels", "acres"),
        *("hectares", "hours", "hour", "minutes", "minute", "seconds", "days", "day", "weeks"),
        *("week", "months", "month", "years", "year", "decades", "mph", "kph", "degrees"),
        *("watts", "kilowatts", "megawatts", "gigawatts", "kwh", "mwh", "gwh"),
    )
)
_NEGATION = re.compile(
    r"\b(?:not|never|no|none|nobody|nothing|neither|nor|cannot|without)\b|n[\u2019']t\b",
    re.IGNORECASE,
)
# Labels compared with each other: a name without a title or speech verb is labelled OTHER,
# and is most often a person's ("Barack Obama"), so PERSON and OTHER are one kind here.
_KINDS = {"PERSON": "person", "OTHER": "person", "PLACE": "place", "ORG": "organisation"}
_WORD = re.compile(r"\w+")
_FUNCTION_WORDS = frozenset(word.lower() for word in COMMON_WORDS) | {"n", "t", "s"}
# A negation disagrees only between texts this close: the share of the shorter text's content
# words (function words and negation cues left out) that the other text has too. Two texts
# that merely share a topic word their claims differently, "not" included.
NEGATION_OVERLAP = 0.6


@dataclass(frozen=True)
class Disagreement:
    """One guard's finding: which guard, and why in words a reviewer reads."""

    guard: str
    reason: str


@dataclass
class Verification:
    """The disagreements found (empty when none) and the details both texts share."""

    disagreements: list[Disagreement] = field(default_factory=list)
    agreements: list[str] = field(default_factory=list)

    @property
    def refused(self) -> bool:
        return bool(self.disagreements)

    @property
    def reason(self) -> str | None:
        """Every disagreement's reason, joined; None when the texts agree."""
        if not self.disagreements:
            return None
        return "; ".join(d.reason for d in self.disagreements)


@dataclass(frozen=True)
class Details:
    """What the guards compare, found once per text."""

    quantities: tuple[tuple[float, str | None, bool, str], ...]
    # (ISO value, text, the words either side)
    dates: tuple[tuple[str, str, frozenset[str]], ...]
    # (kind, text, its words lower-cased, the words either side)
    entities: tuple[tuple[str, str, frozenset[str], frozenset[str]], ...]
    negation: str | None
    words: frozenset[str]
    content: frozenset[str]


def details(text: str) -> Details:
    """The quantities, absolute dates, people and places and first negation cue of `text`."""
    quantities = tuple(
        (float(q["value"]), _unit(q["unit"]), q["approximate"] is not None, q["text"])
        for q in find_quantities(text)
        if q["value"] is not None
    )
    dates = tuple(
        (str(d["value"]), d["text"], _neighbours(text, d["start"], d["end"]))
        for d in find_dates(text)
        if d["value"] and d["value"][:1].isdigit()
    )
    entities = tuple(
        (
            _KINDS[e["label"]],
            e["text"],
            frozenset(w.lower() for w in _WORD.findall(e["text"])),
            _neighbours(text, e["start"], e["end"]),
        )
        for e in find_entities(text)
        if e["label"] in _KINDS
    )
    negation = _NEGATION.search(text)
    words = frozenset(w.lower() for w in _WORD.findall(text))
    return Details(
        quantities=quantities,
        dates=dates,
        entities=entities,
        negation=negation.group() if negation else None,
        words=words,
        content=frozenset(w for w in words if w not in _FUNCTION_WORDS and not w.isdigit()),
    )


def _neighbours(text: str, start: int, end: int) -> frozenset[str]:
    """The word just before `start` and the word just after `end`, lower-cased."""
    before = _WORD.findall(text[max(0, start - 40) : start])
    after = _WORD.findall(text[end : end + 40])
    return frozenset(w.lower() for w in before[-1:] + after[:1])


def verify(claim: str | Details, factcheck: str | Details) -> Verification:
    """Compare a claim with a fact-check's claim: what disagrees (with reasons) and what agrees."""
    ours = details(claim) if isinstance(claim, str) else claim
    theirs = details(factcheck) if isinstance(factcheck, str) else factcheck
    found = Verification()
    _compare_quantities(ours, theirs, found)
    _compare_dates(ours, theirs, found)
    _compare_entities(ours, theirs, found)
    _compare_negation(ours, theirs, found)
    return found


def _unit(unit: Any) -> str | None:
    if not isinstance(unit, str):
        return None
    lowered = unit.lower()
    if lowered in ("%", "percent", "per cent"):
        return "%"
    if lowered in ("percentage points", "points"):
        return "percentage points"
    if unit.isupper() or unit.startswith("°") or lowered in _MEASURE_WORDS:
        return lowered
    if any(c.isdigit() for c in unit):
        return lowered
    # A unit glued to the number ("10km", "2GW") comes back as the unit alone.
    if len(unit) <= 3 and unit.isalpha():
        return lowered
    return None


def _same_value(
    a: tuple[float, str | None, bool, str], b: tuple[float, str | None, bool, str]
) -> bool:
    tolerance = APPROXIMATE_TOLERANCE if a[2] or b[2] else RELATIVE_TOLERANCE
    largest = max(abs(a[0]), abs(b[0]))
    return largest == 0 or abs(a[0] - b[0]) <= tolerance * largest


def _compare_quantities(ours: Details, theirs: Details, found: Verification) -> None:
    if not ours.quantities or not theirs.quantities:
        return
    numbers: list[Disagreement] = []
    units: list[Disagreement] = []
    agreed = False
    for quantity in ours.quantities:
        same = [other for other in theirs.quantities if _same_value(quantity, other)]
        if not same:
            # Only a quantity of the same kind can contradict: "four years" says nothing
            # against "$4,000", "4 billion dollars" does against "4 million dollars".
            alike = [other for other in theirs.quantities if other[1] == quantity[1]]
            if alike:
                nearest = min(alike, key=lambda other: abs(other[0] - quantity[0]))
                numbers.append(
                    Disagreement(
                        "number",
                        f"number: the claim says {quantity[3]!r}, the fact-check {nearest[3]!r}",
                    )
                )
            continue
        kinds = {other[1] for other in same}
        if quantity[1] is not None and quantity[1] not in kinds and None not in kinds:
            units.append(
                Disagreement(
                    "unit", f"unit: the claim says {quantity[3]!r}, the fact-check {same[0][3]!r}"
                )
            )
            continue
        found.agreements.append(f"number {quantity[3]!r}")
        agreed = True
    # A claim that gives a number the fact-check also gives is the same claim told with more
    # detail ("$500 billion with China, $75 billion with Japan"): its other numbers do not
    # contradict. A unit changed is a different claim whatever else agrees.
    if not agreed:
        found.disagreements.extend(numbers[:1])
    found.disagreements.extend(units[:1])


def _dates_compatible(a: str, b: str) -> bool:
    shorter = min(len(a), len(b))
    return a[:shorter] == b[:shorter]


def _compare_dates(ours: Details, theirs: Details, found: Verification) -> None:
    if not ours.dates or not theirs.dates:
        return
    for value, text, context in ours.dates:
        if any(_dates_compatible(value, other[0]) for other in theirs.dates):
            found.agreements.append(f"date {text!r}")
            continue
        # Only a date in the same place disagrees ("in March 2017" for "in March 2007"); a
        # date elsewhere, such as when a post was written, is about something else.
        aligned = [other for other in theirs.dates if other[2] & context]
        if aligned:
            found.disagreements.append(
                Disagreement(
                    "date", f"date: the claim says {text!r}, the fact-check {aligned[0][1]!r}"
                )
            )


def _compare_entities(ours: Details, theirs: Details, found: Verification) -> None:
    for kind in dict.fromkeys(_KINDS.values()):
        mine = [e for e in ours.entities if e[0] == kind]
        others = [e for e in theirs.entities if e[0] == kind]
        if not mine or not others:
            continue
        # A name agrees when any of its words appears in the other text ("Obama" in
        # "President Barack Obama"), named as an entity there or not.
        missing = [e for e in mine if not e[2] & theirs.words]
        extra = [e for e in others if not e[2] & ours.words]
        found.agreements.extend(f"{kind} {e[1]!r}" for e in mine if e[2] & theirs.words)
        # A substitution: a name missing from the other text where the other has its own name
        # beside the same word ("Donald Trump opened" for "Barack Obama opened").
        # Function words ("in", "of") are no evidence of the same place in the sentence.
        swapped = [(a, b) for a in missing for b in extra if (a[3] & b[3]) - _FUNCTION_WORDS]
        if swapped:
            a, b = swapped[0]
            found.disagreements.append(
                Disagreement("entity", f"entity: the claim names {a[1]!r}, the fact-check {b[1]!r}")
            )


def _compare_negation(ours: Details, theirs: Details, found: Verification) -> None:
    if (ours.negation is None) == (theirs.negation is None):
        if ours.negation is not None:
            found.agreements.append("negation")
        return
    shorter = min(len(ours.content), len(theirs.content))
    if not shorter or len(ours.content & theirs.content) / shorter < NEGATION_OVERLAP:
        return
    if ours.negation is not None:
        reason = f"negation: the claim negates ({ours.negation!r}), the fact-check does not"
    else:
        reason = f"negation: the fact-check negates ({theirs.negation!r}), the claim does not"
    found.disagreements.append(Disagreement("negation", reason))
