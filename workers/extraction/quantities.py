"""Find numeric quantities -- amounts, percentages, counts with units -- in text.

``find_quantities(text)`` returns dicts ``{"text", "start", "end", "value", "unit",
"approximate"}`` in text order with ``text[start:end] == item["text"]``:

* ``value`` is the number normalised to a float (``"$3bn"`` -> ``3e9``, ``"80%"`` -> ``80.0``,
  ``"two-thirds"`` -> ``0.667``), the lower bound of a range (``"between 5 and 10"`` -> ``5.0``),
  or ``None`` for vague plurals (``"thousands of"``, ``"dozens"``);
* ``unit`` is ``"%"``, a currency code (``"USD"``, ``"GBP"``, ``"EUR"``, ``"JPY"``),
  ``"percentage points"``, a unit glued to the number (``"10km"``, ``"2GW"``, ``"300kWh"``), a
  temperature (``"45°C"`` -> ``"°C"``; ``"104F"`` only when the sentence speaks of
  temperature, heat, climate or the like, so "Flat 4F" is not one), or the counted noun that
  follows (``"soldiers"``, ``"km"``), with one adjective skipped (``"19 military bases"`` ->
  ``"bases"``); else ``None``;
* ``approximate`` is the qualifier before the number (``"over"``, ``"more than"``,
  ``"up to"``), ``"between"`` for a range, or ``None``.

Years and dates are not quantities: numbers inside a span found by
:func:`workers.extraction.dates.find_dates` are dropped, as are ordinals (``"19th"``) and
numbers glued to words (``"COVID-19"``).  A lone ``"one"`` is not counted (``"one of the"``).
"""

from __future__ import annotations

import re
from bisect import bisect_right
from typing import Any

from workers.extraction.dates import date_spans

__all__ = ["find_quantities"]

_SMALL = {
    "zero": 0,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "thirteen": 13,
    "fourteen": 14,
    "fifteen": 15,
    "sixteen": 16,
    "seventeen": 17,
    "eighteen": 18,
    "nineteen": 19,
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "fifty": 50,
    "sixty": 60,
    "seventy": 70,
    "eighty": 80,
    "ninety": 90,
    "a": 1,
    "an": 1,
}
_SCALES = {
    "hundred": 1e2,
    "thousand": 1e3,
    "k": 1e3,
    "million": 1e6,
    "mn": 1e6,
    "mln": 1e6,
    "m": 1e6,
    "billion": 1e9,
    "bn": 1e9,
    "b": 1e9,
    "trillion": 1e12,
    "tn": 1e12,
    "dozen": 12,
}
_FRACTIONS = {
    "half": 2,
    "halves": 2,
    "third": 3,
    "thirds": 3,
    "quarter": 4,
    "quarters": 4,
    "fourth": 4,
    "fourths": 4,
    "fifth": 5,
    "fifths": 5,
    "tenth": 10,
    "tenths": 10,
}
_CURRENCIES = {
    "$": "USD",
    "us$": "USD",
    "usd": "USD",
    "dollar": "USD",
    "dollars": "USD",
    "\u00a3": "GBP",
    "gbp": "GBP",
    "pound": "GBP",
    "pounds": "GBP",
    "\u20ac": "EUR",
    "eur": "EUR",
    "euro": "EUR",
    "euros": "EUR",
    "\u00a5": "JPY",
    "yen": "JPY",
}

_TENS = "twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety"
_UNITS = "one|two|three|four|five|six|seven|eight|nine"
_WORD_NUMBER = (
    rf"(?:(?:{_TENS})(?:-(?:{_UNITS}))?|ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen"
    rf"|seventeen|eighteen|nineteen|{_UNITS}|zero)"
)
_DIGITS = r"(?:\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+)"
_SCALE = r"(?:hundred|thousand|million|billion|trillion|mln|mn|bn|tn)"
_CURRENCY_BEFORE = r"(?:(?:US\$|\$|\u00a3|\u20ac|\u00a5|USD|GBP|EUR)\s?)"
# One number: digits or words, optionally with scale words ("1.2 million", "two hundred
# thousand", "3bn").  "a"/"an" only count before a scale word ("a million", "a dozen").
_NUMBER = (
    rf"(?:{_DIGITS}(?:(?:[ \u00a0]?{_SCALE}|[kmb])\b(?:\s{_SCALE}\b)?)?"
    rf"|(?i:\b(?:{_WORD_NUMBER}|an?(?=\s(?:{_SCALE}|dozen)\b))"
    rf"(?:[\s-](?:{_SCALE}|dozen)\b)*))"
)
_PERCENT = r"(?:\s?%|\s(?i:per\s?cent|percent|percentage\spoints?)\b)"
_APPROX = (
    r"(?i:more\sthan|less\sthan|fewer\sthan|greater\sthan|over|under|about|around|nearly"
    r"|almost|roughly|approximately|approx\.|some|up\sto|at\sleast|at\smost|as\smany\sas"
    r"|as\smuch\sas|as\sfew\sas|close\sto|in\sexcess\sof|upwards\sof|just\sover|just\sunder"
    r"|an\sestimated|estimated|below|above|only|between)"
)

_QUANTITY_RE = re.compile(
    rf"""
    (?:\b(?P<approx>{_APPROX})\s)?
    (?:
      (?P<frac>(?i:\b(?:(?:{_UNITS}|a|one)[\s-])?(?:half|halves|thirds?|quarters?|fourths?
        |fifths?|tenths?)\b|(?:{_UNITS}|ten)[\s-]in[\s-](?:ten|five|four|three|a\shundred)\b))
      | (?P<vague>(?i:\b(?:dozens|hundreds|thousands|millions|billions|tens\sof\sthousands)
        (?=\sof\b)))
      | (?<![\w.,/:-])(?<![\w]-)
        (?P<cur>{_CURRENCY_BEFORE})?(?P<num>{_NUMBER})
        (?:\s?(?P<sep>-|\u2013|to|(?(approx)and|(?!)))\s?(?P<num2>{_NUMBER})(?P<pct2>{_PERCENT})?
          |(?P<pct>{_PERCENT})
          |(?P<glued>km|kg|cm|mm|mph|kph|ha|lbs?|ft|mi|g|t|[kMGT]Wh?)\b
          |(?P<temp>[ \u00a0]?\u00b0[ \u00a0]?[CF]|[CF])\b
          |(?P<cur_after>\s(?i:dollars|euros|pounds|yen|USD|GBP|EUR)\b)
        )?
    )
    (?!\w|[.,]\d|:\d|\s?(?i:a\.?m\b|p\.?m\b))
    """,
    re.VERBOSE,
)

# The counted noun after a number: an optional adjective, then a word.  Hyphenated
# compounds count as one word ("17-year-old").
_UNIT_RE = re.compile(
    r"(?:-(?P<hyphen>[a-z]+(?:-[a-z]+)*)|\s(?:of\s)?(?:(?P<adj>[A-Za-z]+)\s)?(?P<noun>[a-z]+)\b)"
)
_ADJECTIVE_ENDINGS = ("al", "ic", "an", "ese", "ish", "ive", "ary", "ful", "ous", "ed", "ing", "i")
_NOT_UNITS = frozenset(
    [
        "a",
        "an",
        "the",
        "and",
        "or",
        "but",
        "nor",
        "of",
        "to",
        "in",
        "on",
        "at",
        "for",
        "by",
        "with",
        "from",
        "into",
        "onto",
        "than",
        "that",
        "which",
        "who",
        "whom",
        "whose",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "being",
        "has",
        "have",
        "had",
        "will",
        "would",
        "shall",
        "should",
        "can",
        "could",
        "may",
        "might",
        "must",
        "do",
        "does",
        "did",
        "not",
        "no",
        "so",
        "as",
        "per",
        "if",
        "when",
        "while",
        "where",
        "it",
        "its",
        "this",
        "these",
        "those",
        "he",
        "she",
        "they",
        "we",
        "you",
        "i",
        "his",
        "her",
        "their",
        "our",
        "my",
        "your",
        "them",
        "us",
        "him",
        "me",
        "more",
        "most",
        "less",
        "least",
        "percent",
        "cent",
        "times",
        "ago",
        "later",
        "earlier",
        "each",
        "every",
    ]
)
_DETERMINERS = frozenset(
    ["the", "its", "their", "his", "her", "our", "your", "these", "those", "such"]
)
_QUICK_RE = re.compile(
    r"\d|(?i:\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|"
    r"thirty|forty|fifty|sixty|seventy|eighty|ninety|hundred|thousand|million|billion|dozen|"
    r"half|third|quarter|fifth|tenth)"
    r")"
)

# Where a quantity can start, in " " + the lowercased text: after a non-word character (all
# of _QUANTITY_RE's branches but one need one there), the first word of a branch (or
# more).  Trying _QUANTITY_RE only there finds what its finditer finds.
_FRACTION_START = "half|halves|third|quarter|fourth|fifth|tenth"
# Each a regular expression starting with a lowercase letter.
_WORD_STARTS = [
    *("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"),
    *("eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen"),
    *("eighteen", "nineteen", "twenty", "thirty", "forty", "fifty", "sixty", "seventy"),
    *("eighty", "ninety", "dozens", "hundreds", "thousands", "millions", "billions"),
    *("usd", "gbp", "eur", r"us\$", r"tens\sof"),
    rf"an?[\s-](?:hundred|thousand|million|billion|trillion|mln|mn|bn|tn|dozen|{_FRACTION_START})",
    *_FRACTION_START.split("|"),
]


def _first_letter_alternation(patterns: list[str]) -> str:
    """The alternation of ``patterns`` branching on their first letter: ``re`` rejects a
    branch starting with a literal at once, where it would try every pattern in turn."""
    by_letter: dict[str, list[str]] = {}
    for pattern in patterns:
        by_letter.setdefault(pattern[0], []).append(pattern[1:])
    return "|".join(f"{letter}(?:{'|'.join(rests)})" for letter, rests in by_letter.items())


_QUANTITY_START = rf"[\d$\u00a3\u20ac\u00a5]|\.\d|{_first_letter_alternation(_WORD_STARTS)}"
_APPROX_WORDS = _APPROX.lower().removeprefix("(?i:").removesuffix(")").split("|")
_CANDIDATE_RE = re.compile(
    rf"\W(?={_QUANTITY_START}|(?:{_first_letter_alternation(_APPROX_WORDS)})\s(?:{_QUANTITY_START}))"
)
# _QUICK_RE's words, in " " + the lowercased text.
_QUICK_WORD_RE = re.compile(
    r"\W(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|forty|"
    r"fifty|sixty|seventy|eighty|ninety|hundred|thousand|million|billion|dozen|half|third|"
    r"quarter|fifth|tenth)"
)
_DIGIT_RE = re.compile(r"\d")
# "three in ten" has no word boundary before it, so it can start inside a word ("done in
# four"): those starts come from the " in " after it.
_IN_NUMERATORS = ("one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")
_IN_RE = re.compile(r"in[\s-](?:ten|five|four|three|a\shundred)")
# Non-ASCII letters that IGNORECASE matches to an ASCII letter but str.lower() does not
# turn into one (dotted and dotless i, long s, Kelvin sign).
_CASE_FOLD_TRAPS_RE = re.compile("[\u0130\u0131\u017f\u212a]")


def _is_joiner(char: str) -> bool:
    """Whether ``char`` is what ``[\\s-]`` matches."""
    return char == "-" or char.isspace()


def _quantity_matches(text: str) -> list[re.Match[str]]:
    """What ``_QUANTITY_RE.finditer(text)`` yields when ``_QUICK_RE`` finds a cue, else []."""
    lowered = text.lower()
    if len(lowered) != len(text) or _CASE_FOLD_TRAPS_RE.search(text):
        if not _QUICK_RE.search(text):
            return []
        return list(_QUANTITY_RE.finditer(text))
    padded = " " + lowered
    if not _DIGIT_RE.search(text) and not _QUICK_WORD_RE.search(padded):
        return []
    starts = [candidate.start() for candidate in _CANDIDATE_RE.finditer(padded)]
    inside_words = [
        joiner - len(word)
        for found in _IN_RE.finditer(lowered)
        if _is_joiner(lowered[(joiner := found.start() - 1) : found.start()])
        for word in _IN_NUMERATORS
        if lowered.endswith(word, 0, joiner)
    ]
    if inside_words:
        starts = sorted(set(starts).union(inside_words))
    matches: list[re.Match[str]] = []
    end = 0
    for start in starts:
        if start < end:
            continue
        match = _QUANTITY_RE.match(text, start)
        if match is not None:
            matches.append(match)
            end = match.end()
    return matches


# What makes "45C" or "104F" a temperature when no degree sign says so.
_TEMPERATURE_RE = re.compile(
    r"(?i)\b(?:temperatures?|degrees?|celsius|fahrenheit|heat(?:wave)?s?|warm(?:ing|er|est)?"
    r"|hott?(?:er|est)?|cold(?:er|est)?|cool(?:er|ing)?|climate|weather|fever|freezing"
    r"|thermometers?|highs?|lows?)\b"
)
_NUMBER_PARTS_RE = re.compile(r"[\s\u00a0-]+|(?<=\d)(?=[a-z])")
_FRACTION_PARTS_RE = re.compile(r"[\s-]+")


def _parse_number(raw: str) -> float | None:
    """Float value of a number written in digits and/or words, scale words included."""
    value: float | None = None
    for part in _NUMBER_PARTS_RE.split(raw.lower()):
        if not part:
            continue
        if part[0].isdigit() or part[0] == ".":
            value = float(part.replace(",", ""))
        elif part in _SCALES:
            value = (value if value is not None else 1.0) * _SCALES[part]
        elif part in _SMALL:
            value = (value or 0.0) + _SMALL[part]
    return value


def _parse_fraction(raw: str) -> float:
    """Value of "two-thirds", "a quarter", "half", "three in ten"."""
    words = _FRACTION_PARTS_RE.split(raw.lower())
    if "in" in words:
        numerator, denominator = words[0], words[-1]
        if denominator == "hundred":
            return _SMALL[numerator] / 100
        return _SMALL[numerator] / _SMALL[denominator]
    numerator = _SMALL.get(words[0], 1) if len(words) > 1 else 1
    return numerator / _FRACTIONS[words[-1]]


def _unit_after(text: str, end: int) -> tuple[str | None, int]:
    """The counted noun right after ``end`` (``"soldiers"``) and where it ends."""
    match = _UNIT_RE.match(text, end)
    if match is None:
        return None, end
    if match["hyphen"]:
        return match["hyphen"], match.end()
    noun, first = match["noun"], match["adj"]
    if first is None:
        return (None, end) if noun in _NOT_UNITS else (noun, match.end())
    lowered = first.lower()
    noun_ok = noun not in _NOT_UNITS
    if lowered in _DETERMINERS or (lowered.endswith(_ADJECTIVE_ENDINGS) and first[0].isupper()):
        return (noun, match.end()) if noun_ok else (None, end)
    if lowered in _NOT_UNITS:
        return None, end
    if lowered.endswith(_ADJECTIVE_ENDINGS) and noun_ok:
        return noun, match.end()
    return first, match.start("adj") + len(first)


def _describe(match: re.Match[str]) -> tuple[float | None, str | None, bool]:
    """(value, explicit unit, takes a following noun) for one quantity match."""
    if match["frac"]:
        return _parse_fraction(match["frac"]), None, False
    if match["vague"]:
        return None, None, True
    value = _parse_number(match["num"])
    currency = match["cur"] or match["cur_after"]
    if match["pct"] or match["pct2"]:
        percent = match["pct"] or match["pct2"]
        unit = "percentage points" if "point" in percent else "%"
        return value, unit, False
    if currency:
        return value, _CURRENCIES[currency.strip().lower()], False
    if match["glued"]:
        return value, match["glued"], False
    if match["temp"]:
        return value, "\u00b0" + match["temp"][-1], False
    return value, None, True


def _is_bare_word_one(match: re.Match[str]) -> bool:
    """A lone "one"/"a" is almost always a determiner or pronoun, not a count."""
    num = match["num"]
    return num is not None and match["num2"] is None and num.lower() in ("one", "a", "an")


def find_quantities(text: str) -> list[dict[str, Any]]:
    """Numbers with their units and qualifiers (see the module docstring)."""
    spans: list[tuple[int, int]] | None = None
    date_ends: list[int] = []
    found: list[dict[str, Any]] = []
    for match in _quantity_matches(text):
        if _is_bare_word_one(match):
            continue
        if match["temp"] and "\u00b0" not in match["temp"] and not _TEMPERATURE_RE.search(text):
            continue  # "Flat 4F", "Room 101C": a C or F without a degree sign needs a cue
        start, end = match.span()
        approximate = match["approx"]
        num_start = match.start("num")
        if num_start >= 0 and text[num_start].isdigit():
            if spans is None:
                spans = date_spans(text)
                date_ends = [e for _, e in spans]
            # The dates are in text order and do not overlap: the first ending after the
            # number is the only one that can hold it. Scanning all of them for each number
            # made a long sentence quadratic (200,000 characters without a full stop took
            # 13.6 s to extract, with the lookup in entities._keep_sentence_initial; 0.56 s).
            i = bisect_right(date_ends, num_start)
            if i < len(spans) and spans[i][0] < match.end("num"):
                continue
        value, unit, takes_noun = _describe(match)
        if takes_noun:
            unit, end = _unit_after(text, end)
            if match["vague"] and unit is None:
                continue
        if approximate is not None and approximate.lower() == "between":
            approximate = "between" if match["num2"] else None
        elif match["num2"] and approximate is None:
            approximate = "between"
        found.append(
            {
                "text": text[start:end],
                "start": start,
                "end": end,
                "value": value,
                "unit": unit,
                "approximate": approximate.lower() if approximate else None,
            }
        )
    return found
