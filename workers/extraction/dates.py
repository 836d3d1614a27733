"""Find date expressions in text, absolute (normalised to ISO) or relative.

``find_dates(text)`` returns dicts ``{"text", "start", "end", "value", "kind"}`` in text
order with ``text[start:end] == item["text"]``.  ``value`` is an ISO 8601 string or a
partial one: ``"2026-01-19"``, ``"2026-01"``, ``"2026"``, ``"--01-19"`` (day and month, no
year), ``"--01"`` (a month), ``"199X"`` (a decade, ISO 8601-2 style); it is ``None`` for
relative expressions (``"last year"``, ``"on Sunday"``, ``"two weeks ago"``), whose meaning
depends on when the text was written.

A bare four-digit number from 1800 to 2099 counts as a year unless it looks like an amount
(a currency sign or a qualifier such as ``over`` before it, ``%``, ``,000`` or a scale word
such as ``million`` after it); :mod:`workers.extraction.quantities` relies on that split.
"""

from __future__ import annotations

import functools
import re
from typing import Any

__all__ = ["date_spans", "find_dates", "year_like_is_amount"]

_MONTHS = {
    "january": 1,
    "february": 2,
    "march": 3,
    "april": 4,
    "may": 5,
    "june": 6,
    "july": 7,
    "august": 8,
    "september": 9,
    "october": 10,
    "november": 11,
    "december": 12,
}
_MONTH_ABBREVIATIONS = {
    "jan": 1,
    "feb": 2,
    "mar": 3,
    "apr": 4,
    "jun": 6,
    "jul": 7,
    "aug": 8,
    "sep": 9,
    "sept": 9,
    "oct": 10,
    "nov": 11,
    "dec": 12,
}
# Full month names, or an abbreviation with its dot ("Jan.") or without ("Jan").
_MONTH = (
    r"(?:January|February|March|April|May|June|July|August|September|October|November|December"
    r"|(?:Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept|Sep|Oct|Nov|Dec)\.?)"
)
_DAY = r"(?:3[01]|[12]\d|0?[1-9])(?:st|nd|rd|th)?"
_YEAR = r"(?:1[89]\d\d|20\d\d)"
_WEEKDAY = r"(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)"
_UNIT = r"(?:days?|weeks?|months?|years?|decades?|centuries|century)"
_PERIOD = (
    rf"(?:day|week|weekend|month|year|decade|century|spring|summer|autumn|fall|winter|{_WEEKDAY})"
)
_COUNT = (
    r"(?:\d+|a|an|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|several|a few|few)"
)

_MONTH_NAME = (
    r"(?:January|February|March|April|June|July|August|September|October|November|December)"
)
# "since September 11" is the day, not the month: the month form leaves it to mdy.
_UNTIL_DAY = rf"(?:since|until|by|from)\s?{_MONTH_NAME}\s{_DAY}\b"

# Alternatives in priority order: the longest, most specific forms first.
_DATE_RE = re.compile(
    rf"""
    (?P<iso>(?<![\w-])(?P<iso_y>{_YEAR})-(?P<iso_m>0[1-9]|1[0-2])-(?P<iso_d>0[1-9]|[12]\d|3[01])
        (?:T\d\d:\d\d(?::\d\d(?:\.\d+)?)?(?:Z|[+-]\d\d:?\d\d)?)?(?![\w-]))
    | (?P<mdy>\b(?P<mdy_m>{_MONTH})\s(?P<mdy_d>{_DAY})\b
        (?:\s?(?:-|\u2013|to)\s?(?:{_DAY})\b)?(?:,?\s(?P<mdy_y>{_YEAR})\b)?)
    | (?P<dmy>\b(?P<dmy_d>{_DAY})(?:\s(?:-|\u2013|to)\s?(?:{_DAY}))?\s(?:of\s)?(?P<dmy_m>{_MONTH})
        (?:,?\s(?P<dmy_y>{_YEAR})\b)?(?!\w))
    | (?P<my>\b(?P<my_m>{_MONTH})(?:,?\s(?P<my_y>{_YEAR})\b)(?!-))
    | (?P<decade>\b(?:the\s)?(?:(?P<dec_c>1[89]|20)(?P<dec_d>\d)0|'(?P<dec_s>\d)0)s\b)
    | (?P<ago>\b{_COUNT}\s{_UNIT}\s(?:ago|earlier|later)\b)
    | (?P<rel>\b(?:(?:earlier|later)\s)?(?:last|next|this|coming|past|previous|following)
        \s(?:{_COUNT}\s)?(?:{_UNIT}|{_PERIOD})\b)
    | (?P<day>\b(?:yesterday|today|tomorrow|tonight)\b)
    | (?P<wd>\b(?:on\s)?{_WEEKDAY}(?:\s(?:morning|afternoon|evening|night))?\b)
    | (?P<month>\b(?!{_UNTIL_DAY})(?:in|since|until|by|from|during|early|late|mid-)\s?
        (?P<month_m>{_MONTH_NAME})\b(?!,?\s{_YEAR}))
    | (?P<year>(?:\bin\s|\b(?P<year_part>mid|early|late)-)?
        (?(year_part)|(?<![\w$\u00a3\u20ac.,-]))(?P<year_y>{_YEAR})(?![\w%]|[.,]\d|-\d))
    """,
    re.VERBOSE | re.IGNORECASE,
)

# Relative and weekday forms are only dates in lowercase ("Last Year" in a headline is
# fine too, but "May" the name and "March" the verb are handled by requiring a day/year).
_AMOUNT_BEFORE_RE = re.compile(
    r"(?:\b(?:over|under|about|around|nearly|almost|roughly|approximately|some|than|"
    r"least|most|many|much|estimated)\s+|[$\u00a3\u20ac\u00a5])$",
    re.IGNORECASE,
)
_AMOUNT_AFTER_RE = re.compile(
    r"\s*(?:%|per\s?cent\b|percent\b|thousand\b|million\b|billion\b|trillion\b|bn\b|"
    r"people\b|soldiers\b|troops\b|dollars\b|euros\b|pounds\b)",
    re.IGNORECASE,
)
_DIGIT_OR_WORD_RE = re.compile(
    r"\d|(?i:\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec|mon|tue|wed|thu|fri|sat|sun"
    r"|yesterday|today|tomorrow|tonight|last|next|this|coming|past|previous|following|ago)[a-z]*\b)"
)


def _first_letter_alternation(entries: list[tuple[str, str]]) -> str:
    """``word + follow`` alternatives branching on the word's first letter: ``re`` rejects a
    branch starting with a literal at once, where it would try every word in turn."""
    by_letter: dict[str, list[str]] = {}
    for word, follow in entries:
        by_letter.setdefault(word[0], []).append(re.escape(word[1:]) + follow)
    return "|".join(f"{letter}(?:{'|'.join(rests)})" for letter, rests in by_letter.items())


# Where a date can start, in " " + the lowercased text: after a non-word character, the
# first word(s) of some alternative of _DATE_RE (or more).  Trying _DATE_RE only there
# finds what its finditer finds, without running the whole alternation at every position.
_MONTH_PREFIXES = (
    "jan",
    "feb",
    "mar",
    "apr",
    "may",
    "jun",
    "jul",
    "aug",
    "sep",
    "oct",
    "nov",
    "dec",
)
_MONTH_START = "|".join(_MONTH_PREFIXES)
_UNIT_START = "day|week|month|year|decade|centur"
# _COUNT's words ("a few" is "afew": _DATE_RE is verbose); "a"/"an" come apart.
_COUNT_WORDS = (
    *("one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"),
    *("eleven", "twelve", "several", "afew", "few"),
)
_RELATIVE_WORDS = ("last", "next", "this", "coming", "past", "previous", "following")
_DATE_STARTS: list[tuple[str, str]] = [
    *((month, r"[a-z]*\.?,?\s\d") for month in _MONTH_PREFIXES),  # mdy, my
    ("the", r"\s(?:1[89]|20|')"),  # decade
    ("a", rf"n?\s(?:{_UNIT_START})"),  # ago
    *((count, rf"\s(?:{_UNIT_START})") for count in _COUNT_WORDS),
    ("earlier", rf"\s(?:{'|'.join(_RELATIVE_WORDS)})\s"),  # rel
    ("later", rf"\s(?:{'|'.join(_RELATIVE_WORDS)})\s"),
    *((word, r"\s") for word in _RELATIVE_WORDS),
    *((word, "") for word in ("yesterday", "today", "tomorrow", "tonight")),  # day
    ("on", r"\s(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)"),  # wd
    *(
        (day, "")
        for day in ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
    ),
    *(
        (word, rf"\s?(?:{_MONTH_START})")  # month
        for word in ("in", "since", "until", "by", "from", "during", "early", "late", "mid-")
    ),
    ("in", r"\s(?:1[89]|20)\d\d"),  # year
    *((word, r"-(?:1[89]|20)\d\d") for word in ("mid", "early", "late")),  # "mid-2020"
]
_CANDIDATE_RE = re.compile(
    # iso, year and decade (four digits); dmy and ago (a day or a count)
    rf"\W(?=\d(?:\d\d\d|\d*(?:st|nd|rd|th)?\s(?:-|\u2013|to|of|{_MONTH_START}|{_UNIT_START}))"
    rf"|{_first_letter_alternation(_DATE_STARTS)})"
)
# _DIGIT_OR_WORD_RE's words, in " " + the lowercased text.
_TRIGGER_WORD_RE = re.compile(
    r"\W(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec|mon|tue|wed|thu|fri|sat|sun"
    r"|yesterday|today|tomorrow|tonight|last|next|this|coming|past|previous|following|ago)"
    r"[a-z]*\b"
)
_DIGIT_RE = re.compile(r"\d")
# "'90s" right after a word character is a decade too (``\b'``).
_APOSTROPHE_DECADE_RE = re.compile(r"(?<=\w)'\d0s")
# Non-ASCII letters that IGNORECASE matches to an ASCII letter but str.lower() does not
# turn into one (dotted and dotless i, long s, Kelvin sign).
_CASE_FOLD_TRAPS_RE = re.compile("[\u0130\u0131\u017f\u212a]")


def year_like_is_amount(text: str, start: int, end: int) -> bool:
    """True when the four-digit number at ``text[start:end]`` reads as an amount, not a year."""
    before = text[max(0, start - 16) : start]
    return bool(_AMOUNT_BEFORE_RE.search(before) or _AMOUNT_AFTER_RE.match(text, end))


def _month_number(name: str) -> int:
    key = name.lower().rstrip(".")
    return _MONTHS.get(key) or _MONTH_ABBREVIATIONS[key]


def _iso(year: str | None, month: int, day: str | None) -> str:
    """ISO date or partial date from the pieces present."""
    prefix = year if year else "-"
    if day is None:
        return f"{prefix}-{month:02d}"
    return f"{prefix}-{month:02d}-{int(day.rstrip('stndrh')):02d}"


def _value(match: re.Match[str]) -> tuple[str | None, str] | None:
    """(value, kind) for a match, or None when the match is not a date after all."""
    group = match.lastgroup
    if group == "iso":
        return f"{match['iso_y']}-{match['iso_m']}-{match['iso_d']}", "absolute"
    if group == "mdy":
        if match["mdy_m"][0].islower():
            return None
        return _iso(match["mdy_y"], _month_number(match["mdy_m"]), match["mdy_d"]), "absolute"
    if group == "dmy":
        if match["dmy_m"][0].islower():
            return None
        return _iso(match["dmy_y"], _month_number(match["dmy_m"]), match["dmy_d"]), "absolute"
    if group == "my":
        if match["my_m"][0].islower():
            return None
        return f"{match['my_y']}-{_month_number(match['my_m']):02d}", "absolute"
    if group == "month":
        if match["month_m"][0].islower():
            return None
        return f"--{_month_number(match['month_m']):02d}", "absolute"
    if group == "decade":
        if match["dec_s"] is not None:
            return None, "relative"  # "the '90s": century unknown
        return f"{match['dec_c']}{match['dec_d']}X", "absolute"
    if group == "year":
        if year_like_is_amount(match.string, match.start("year_y"), match.end()):
            return None
        return match["year_y"], "absolute"
    return None, "relative"


def _date_matches(text: str) -> list[re.Match[str]]:
    """What ``_DATE_RE.finditer(text)`` yields, trying only where a date can start."""
    lowered = text.lower()
    if len(lowered) != len(text) or _CASE_FOLD_TRAPS_RE.search(text):
        if not _DIGIT_OR_WORD_RE.search(text):
            return []
        return list(_DATE_RE.finditer(text))
    padded = " " + lowered
    if not _DIGIT_RE.search(text) and not _TRIGGER_WORD_RE.search(padded):
        return []  # what _DIGIT_OR_WORD_RE decides, on the lowercased text
    starts = [match.start() for match in _CANDIDATE_RE.finditer(padded)]
    if "'" in text:
        extra = [match.start() for match in _APOSTROPHE_DECADE_RE.finditer(lowered)]
        if extra:
            starts = sorted(set(starts).union(extra))
    matches: list[re.Match[str]] = []
    end = 0
    for start in starts:
        if start < end:
            continue
        match = _DATE_RE.match(text, start)
        if match is not None:
            matches.append(match)
            end = match.end()
    return matches


@functools.lru_cache(maxsize=4)
def _found(text: str) -> tuple[tuple[int, int, str | None, str], ...]:
    """(start, end, value, kind) of each date in ``text``.

    Cached for the last few texts: the engine asks for a sentence's dates right after
    :mod:`workers.extraction.quantities` has asked for the same sentence's date spans.
    """
    found = []
    for match in _date_matches(text):
        parsed = _value(match)
        if parsed is not None:
            found.append((*match.span(), *parsed))
    return tuple(found)


def find_dates(text: str) -> list[dict[str, Any]]:
    """Date expressions in ``text`` with their ISO value (see the module docstring)."""
    return [
        {"text": text[start:end], "start": start, "end": end, "value": value, "kind": kind}
        for start, end, value, kind in _found(text)
    ]


def date_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each date :func:`find_dates` finds in ``text``."""
    return [(start, end) for start, end, _, _ in _found(text)]
