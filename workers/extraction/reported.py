"""Cut what a speaker said out of the sentence that reports it: the fact a reviewer rates.

``reported_span(sentence, cue)`` takes a sentence and the attribution cue that
:func:`workers.extraction.speakers.find_cue` found in it, and returns the ``(start, end)``
span of what was said (Y), or ``None``:

- ``X said (that) Y``, ``X told reporters (that) Y``, ``X said on Monday that Y``,
  ``X pointed out that Y``;
- ``Y, X said.``, ``Y, the statistics office said on Tuesday.``, ``Y, said X.``,
  ``Y, according to X.``;
- ``According to X, Y``;
- ``X echoed the view, noting that Y`` (a participle after the cue);
- direct quotations: ``"Y," X said`` and ``X said: "Y"`` give the words inside the quote
  marks.  A partial quotation, opened mid-sentence after the writer's own words, is not the
  whole of what was said: ``The plan is "a disaster," X said`` gives ``The plan is
  "a disaster,"`` and ``X said the plan was "a disaster"`` everything after the verb.

Y runs to the end of its sentence or clause and keeps its final punctuation, as a clause
does; commas and quote marks around it are left out.  ``None`` when

- Y is a question, or under four words (``X said no``, ``X said so``);
- the verb reports no statement (``denied``, ``believes``, ``described``, ``urged`` ...),
  or a verb that may take a plain object (``noted``, ``announced`` ...) has neither ``that``
  nor a clause after it (``He stressed the principle of non-interference``);
- the words after the verb are not what was said (``what X said was``, ``X said nothing``);
- the attribution sits inside the sentence (``The plan, X said, will cost more``): no one
  span holds Y.

Only the outermost report is cut: in ``X said the CDC said Y``, Y is ``the CDC said Y``.
Opinions are left to the caller, which has the span's types.
"""

from __future__ import annotations

import re

from workers.extraction.compound import WORD_RE, is_clause
from workers.extraction.speakers import PARTICIPLE_RE, Cue

__all__ = ["MIN_WORDS", "reported_span"]

MIN_WORDS = 4


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Verbs after which the words are a statement even without "that" ("X said the rate rose").
_STATEMENT_VERBS = _words(
    """
    said says say told tells stated states added adds claimed claims insisted insists argued
    argues asserted asserts contended maintained maintains declared declares
    """
)
# Verbs whose object is not a statement of the speaker's: a denial, a belief, a judgement,
# an appeal, a description.
_NO_STATEMENT_VERBS = _words(
    """
    denied denies believes believed thinks thought described describes welcomed contrasted
    accused blamed praised criticized criticised condemned rejected dismissed vowed pledged
    promised promoted advises advised recommends recommended urged urges continued
    highlighted highlights underlined underscored echoed
    """
)
# First words that show the verb introduces no statement: "what X said was ...",
# "X said nothing", "X said in 2019", "X said whether ...".
_NOT_A_STATEMENT = _words(
    """
    was were is are has have had nothing anything something little much so no yes not of
    about for to with on in at by from against into whether if goodbye hello thanks sorry
    """
)
_OPEN_QUOTES = '\u201c"'
_CLOSING = {"\u201c": "\u201d", '"': '"'}
# Who a speaker tells: "told reporters", "told the BBC", "told Science", "told him".
_OBJECT = (
    r"\s+(?:reporters|journalists|lawmakers|parliament|him|her|them|us|me"
    r"|(?:[Tt]he\s+)?[A-Z][\w.\u2019'&-]*(?:\s+[A-Z][\w.\u2019'&-]*){0,4}|the\s+[\w\u2019'-]+)"
)
# A time, place or manner between the verb and "that": "said in a statement on Monday that".
_LEAD_IN = (
    r"(?:\s*,?\s+(?:on|in|at|during|after|before|from|to|with|via|through|over|last|this|"
    r"earlier|later|yesterday|today|recently|also|again|repeatedly|publicly|privately|however|"
    r"\w+day)"
    r"\b[^,;:\"\u201c\u201d]{0,60}?\s*,?)?"
)
_OBJECT_RE = re.compile(_OBJECT)
_THAT_RE = re.compile(rf"{_LEAD_IN}\s+that\s+")
_OBJECT_THAT_RE = re.compile(rf"{_OBJECT}{_LEAD_IN}\s+that\s+")
# Without "that", only a time may come between the verb and what was said.
_TIME_RE = re.compile(
    r"\s*,?\s+(?:on\s+\w+day|last\s+\w+|this\s+\w+|yesterday|today|earlier|later|"
    r"recently)\b\s*,?"
)
_COLON_RE = re.compile(r"\s*:")
_OUT_RE = re.compile(r"\s+out\b")
_ACCORDING_TO_RE = re.compile(r",\s+according\s+to\s")
_TRIM_END = " \t,;:\u2014\u2013-"
_TRIM_START = " \t,;:\u2014\u2013-"
_CLOSERS = '"\u201d\u2019)]'


def _after_verb(sentence: str, position: int, verb: str) -> tuple[int, bool] | None:
    """Where what was said starts after the verb ending at ``position``, and whether
    "that" introduced it; None when the verb is not followed by a statement."""
    verb = verb.lower()
    if verb in _NO_STATEMENT_VERBS:
        return None
    if verb.startswith("point"):  # "pointed out that"; "pointed to" names no statement
        out = _OUT_RE.match(sentence, position)
        if out is None:
            return None
        position = out.end()
    if verb in ("told", "tells", "tell"):
        that = _OBJECT_THAT_RE.match(sentence, position)
        if that is not None:
            return that.end(), True
        told = _OBJECT_RE.match(sentence, position)
        if told is None:
            return None
        position = told.end()
    that = _THAT_RE.match(sentence, position)
    if that is not None:
        return that.end(), True
    for skip in (_COLON_RE, _TIME_RE):
        found = skip.match(sentence, position)
        if found is not None:
            position = found.end()
    if sentence[position:].lstrip()[:1] in (",", ";", ")", "\u2014", "\u2013"):
        return None  # "The plan, X said, will cost ...": the verb ends an aside
    return position, False


def _forward(sentence: str, position: int, verb: str) -> tuple[int, int] | None:
    """What was said after the verb ending at ``position``, to the end of the sentence."""
    found = _after_verb(sentence, position, verb)
    if found is None:
        return None
    start, introduced = found
    end = len(sentence)
    according = _ACCORDING_TO_RE.search(sentence, start)
    if according is not None:  # "..., according to the survey": the sentence's own source
        end = according.start()
    if (
        not introduced
        and verb.lower() not in _STATEMENT_VERBS
        and not is_clause(sentence[start:end])
    ):
        return None
    return start, end


def _quotation(sentence: str, opening: int) -> tuple[int, int]:
    """The words inside the quotation opened at ``opening``, to its close or the end."""
    close = sentence.find(_CLOSING[sentence[opening]], opening + 1)
    return opening + 1, len(sentence) if close < 0 else close


def _quoted_before(sentence: str, close: int) -> tuple[int, int]:
    """What a quotation closing at ``close`` holds: a whole quotation's words, or for a
    partial one (opened after the writer's words) the sentence up to the close."""
    opening = sentence.rfind("\u201c" if sentence[close] == "\u201d" else '"', 0, close)
    if opening < 0:  # opened in an earlier sentence
        return 0, close
    if sentence[:opening].strip():
        return 0, close + 1
    return opening + 1, close


def _direct_quote(sentence: str, cue: Cue) -> bool:
    """Whether the quotation after a quote_before cue is what was said, whole: the verb is
    followed only by punctuation or whom it was told, and the quotation opens a sentence."""
    opening = cue.end - 1
    gap = sentence[cue.verb_end : opening].strip()
    inside = sentence[opening + 1 : opening + 2]
    return (not gap or gap[-1] in ",:") and (inside.isupper() or inside.isdigit())


# What may stand before an "According to X," that opens its sentence.
_OPENERS = frozenset(("", "But", "And", "Yet", "However,"))


def _cut(sentence: str, cue: Cue) -> tuple[int, int] | None:
    if cue.pattern == "quote_after":
        return _quoted_before(sentence, cue.start)
    if cue.closing:
        return 0, cue.start
    if cue.pattern == "quote_before":
        if _direct_quote(sentence, cue):
            return _quotation(sentence, cue.end - 1)
        return _forward(sentence, cue.verb_end, cue.verb)
    if cue.pattern == "according":
        comma = sentence.find(",", cue.end)
        if comma < 0 or sentence[: cue.start].strip() not in _OPENERS:
            return None
        return comma + 1, len(sentence)
    if cue.pattern == "says_name":
        return None  # ", says X" inside the sentence: what X says lies on both sides
    if cue.pattern == "participle":
        return _after_participle(sentence, cue.verb_end, cue.verb)
    span = _forward(sentence, cue.verb_end, cue.verb)
    if span is None:
        # "X welcomed ..., emphasizing that Y": the participle carries the statement.
        participle = PARTICIPLE_RE.search(sentence, cue.end)
        if participle is not None:
            return _after_participle(sentence, participle.end(), participle["v"])
    return span


def _after_participle(sentence: str, position: int, participle: str) -> tuple[int, int] | None:
    """After ", noting": a quotation it opens (", declaring, "We ...""), else a statement."""
    rest = sentence[position:].lstrip(" ,:")
    if rest[:1] in _OPEN_QUOTES and (rest[1:2].isupper() or rest[1:2].isdigit()):
        return _quotation(sentence, len(sentence) - len(rest))
    return _forward(sentence, position, participle)


def reported_span(sentence: str, cue: Cue) -> tuple[int, int] | None:
    """The span of ``sentence`` holding what ``cue``'s speaker said, or None (see above)."""
    cut = _cut(sentence, cue)
    if cut is None:
        return None
    start, end = cut
    while end > start and sentence[end - 1] in _TRIM_END:
        end -= 1
    while start < end and sentence[start] in _TRIM_START:
        start += 1
    text = sentence[start:end]
    words = WORD_RE.findall(text)
    if len(words) < MIN_WORDS or words[0].lower() in _NOT_A_STATEMENT:
        return None
    if text.rstrip(_CLOSERS).endswith("?"):
        return None
    return start, end
