"""Attribute each sentence of an article to the person or body that made the claim.

``attribute_speakers(body, segments)`` returns one entry per segment: the speaker's name as
written in the article, or ``None`` when the sentence is the writer's own statement.

Cues, tried in this order on each sentence:

1. attribution next to a closing quote: ``"...," Araghchi stated`` / ``"..." said Dr. Helen
   Marsh, who ...``;
2. attribution before an opening quote: ``He said: "..."``, ``X told reporters: "..."``;
3. reported speech: ``X said (that) ...``, ``X, for his part, emphasized ...``,
   ``..., X said.``, ``..., says X, a microbiologist``;
4. ``according to X``;
5. a sentence whose subject is named and which goes on ``..., noting/saying/adding that``.

A trailing attribution whose subject is a common noun phrase (``..., the statistics office
said.``, ``..., said the ministry.``) counts too, after the quotes and before reported speech.

Titles and nationality words are dropped from the front of a name
(``"Iraqi Foreign Minister Fuad Hussein"`` -> ``"Fuad Hussein"``).  ``he``/``she`` resolve
to the last named person speaker, ``the minister`` to the last person seen with that
title (else the phrase itself).  A quotation running over several sentences gets the
speaker named where it opens or closes for all its sentences, and a quote that follows
an attributed quote in the same paragraph keeps its speaker.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from workers.extraction.entities import (
    COMMON_WORDS,
    DEMONYMS,
    SPEECH_VERBS,
    TITLE_HEADS,
    TITLE_WORDS,
)
from workers.extraction.segment import Segment

__all__ = [
    "PARTICIPLE_RE",
    "Attribution",
    "Cue",
    "attribute",
    "attribute_speakers",
    "clause_attribution",
    "clause_speaker",
    "find_cue",
]

_VERB = "|".join(sorted(SPEECH_VERBS, key=len, reverse=True))
_PARTICIPLE = (
    r"(?:noting|saying|adding|stressing|emphasizing|emphasising|arguing|insisting|warning|"
    r"declaring|explaining|stating|claiming|asserting|suggesting|underlining|affirming)"
)
_ADVERBS = (
    r"(?:(?:also|has|have|had|later|then|recently|further|previously|repeatedly|again|"
    r"publicly|reportedly|once|first|separately|earlier|today|yesterday|last\s+week|"
    r"on\s+\w+day)\s+){0,2}"
)
_NAME_WORD = r"[A-Z][\w\u2019'\-]*(?:\.(?=\s+[A-Z]))?"
_NAME = (
    rf"{_NAME_WORD}(?:\s+(?:(?:al|bin|ibn|van|von|de|del|da|der|la|le|of|for)\s+)?"
    rf"{_NAME_WORD}){{0,6}}"
)
_GROUP_NOUNS = (
    r"(?:officials|experts|scientists|researchers|critics|analysts|authorities|doctors|"
    r"ministers|sources|residents|activists|observers|lawmakers|witnesses|studies|study|"
    r"report|survey|data|police|government|ministry|spokesman|spokeswoman|spokesperson|"
    r"minister|president|official|leaders|diplomats|economists|medics|engineers|"
    r"epidemiologists|health\s+officials|military|army|statement|article|paper|media|press|"
    r"mayor|governor|company|firm|council|agency|office|department|committee|commission|"
    r"prosecutors|investigators|university|hospital|institute|board|bank)"
)
# Words that join clauses, never modifiers of a group noun ("..., but officials said");
# "and", "or" and "nor" may join two nouns ("experts and officials"), but never open one.
_CONJUNCTIONS = r"(?:but|so|yet|while|whereas|as|because|since|though|although|when|if|that)"
_GROUP = (
    rf"(?!(?:and|or|nor)\s)"
    rf"(?:(?:[Bb]oth|[Mm]any|[Ss]ome|[Mm]ost|[Ss]everal|[Tt]he|[Oo]ther|[Ss]enior|"
    rf"[Tt]op|[Ll]ocal|(?!{_CONJUNCTIONS}\b)[a-z]+|(?:[A-Z]\.){{2,}}|{_NAME_WORD})\s+){{0,3}}"
    rf"{_GROUP_NOUNS}\b"
    rf"|(?:Officials|Experts|Scientists|Researchers|Critics|Analysts|Authorities|Doctors)\b"
)
_SUBJECT = rf"(?:\b(?:[Hh]e|[Ss]he)\b|{_NAME}(?:\s+and\s+{_NAME})?|{_GROUP})"
_GROUP_NOUN_RE = re.compile(_GROUP_NOUNS, re.IGNORECASE)
_OPEN_Q = '\u201c"'
_CLOSE_Q = '\u201d"'

# ", the country's chief epidemiologist," / ", who leads the programme," / " (NYSE: LLY)" /
# " in Paris"
_APPOSITIVE = (
    rf"(?:,\s(?:who|the|a|an|for|in|at|his|her|its|their|known|speaking|writing|also|however"
    rf"|meanwhile|[A-Z]|[a-z]+(?:\s[a-z]+)?\s(?:of|at|for|in|with)\s)[^,{_OPEN_Q}\u201d]{{0,150}},"
    rf"|\s\([^)]{{1,40}}\)|,"
    # " in Paris" / " at the UN" / " from Kyiv": where the subject is, not who it is
    rf"|\s(?:in|at|from)\s(?:the\s)?{_NAME})?"
)
_QUOTE_AFTER_RE = re.compile(
    rf"[{_CLOSE_Q}]\s*[,\u2014\u2013-]?\s*(?:(?P<s1>{_SUBJECT}){_APPOSITIVE}\s+{_ADVERBS}"
    rf"(?:{_VERB})\b"
    rf"|(?:{_VERB})\s+(?:[a-z]+\s+){{0,3}}?(?P<s2>{_NAME}))"
)
_QUOTE_BEFORE_RE = re.compile(
    rf"(?P<s>{_SUBJECT}){_APPOSITIVE}\s+{_ADVERBS}(?P<v>{_VERB})\b"
    rf"[^{_OPEN_Q}]{{0,60}}?[,:]?\s*[{_OPEN_Q}]"
)
_REPORTED_RE = re.compile(
    rf"(?<![\w\u2019'.])(?P<s>{_SUBJECT}){_APPOSITIVE}\s+{_ADVERBS}"
    rf"(?P<v>{_VERB})\b"
)
# "..., the statistics office said." / "..., said the ministry": a noun phrase, not a name
_THE_PHRASE = (
    r"(?:[Tt]he|[Aa]n?|[Ii]ts|[Tt]heir|[Hh]is|[Hh]er)\s+(?:[\w\u2019'.&-]+\s+){0,4}?[\w\u2019'&-]+"
)
# What may follow the verb of an attribution that closes its sentence: a time or place
# ("on Monday", "in a statement"), then perhaps ", adding ..." / ", who ...", then the end.
_TRAILING_TAIL = (
    r"(?:\s+(?:on|in|at|during|after|before|from|last|this|yesterday|today|tonight|earlier|"
    r"later|recently|late|early|\w+day)\b(?:(?!\bthat\b)[^,;:\"\u201c\u201d]){0,60}?)?"
    r"(?:,\s+(?:[a-z]+ing|who|which|citing|according)\b.*)?"
    r"\s*[.!\u2026]*[\"\u201d\u2019)\]]*\s*$"
)
_TRAILING_TAIL_RE = re.compile(_TRAILING_TAIL)
# Who the speaker of a closing "..., says X" is: ", a microbiologist at ...", ", who ...".
_APPOSITION_RE = re.compile(r",\s+(?:a|an|the|who|which|whose|his|her|its|their|[A-Z])")
_TRAILING_RE = re.compile(
    rf",\s+(?P<s>{_THE_PHRASE})\s+{_ADVERBS}(?P<v>{_VERB})\b(?={_TRAILING_TAIL})"
)
_SAYS_NAME_RE = re.compile(
    rf",\s*(?:says|said|according\s+to)\s+(?P<s>{_NAME}"
    rf"|the\s+(?:[\w\u2019'-]+\s+){{0,3}}?[\w\u2019'-]+(?=\s*(?:[,.!;]|$)|\s+(?:in|on|at)\s))"
)
_ACCORDING_RE = re.compile(
    rf"\b[Aa]ccording\s+to\s+(?P<s>{_NAME}|(?:the\s+)?{_GROUP}|the\s+[\w\s]{{1,40}}?(?=[,.]))"
)
_INITIAL_SUBJECT_RE = re.compile(
    rf"(?:(?:But|And|However|Meanwhile|Later|Earlier),?\s+)?(?P<s>{_NAME})\s+(?!{_VERB}\b)[a-z]"
)
PARTICIPLE_RE = re.compile(rf",\s+(?P<v>{_PARTICIPLE})\b")
_TITLED_NAME_RE = re.compile(
    r"\b(?P<title>Minister|President|Secretary|Spokesman|Spokeswoman|Ambassador|Governor|"
    rf"Chancellor|Director|Mayor|Senator|General)\s+(?P<name>{_NAME})"
)
_THE_TITLE_RE = re.compile(
    r"\A[Tt]he\s+(?:[\w\-]+\s+){0,2}?(?P<title>minister|president|secretary|spokesman|"
    r"spokeswoman|ambassador|governor|chancellor|director|mayor|senator|general)\Z",
    re.IGNORECASE,
)
_PRONOUNS = frozenset(("he", "she"))


def _by_first_letter(words: frozenset[str]) -> str:
    """An alternation of ``words`` branching on the first letter, which ``re`` scans fast."""
    by_letter: dict[str, list[str]] = {}
    for word in sorted(words, key=len, reverse=True):
        by_letter.setdefault(word[0], []).append(re.escape(word[1:]))
    return "|".join(f"{first}(?:{'|'.join(rests)})" for first, rests in sorted(by_letter.items()))


# A speech verb after whitespace: every cue above but "according to" and the participle
# needs one, so sentences without one skip those patterns.
_SPOKEN_RE = re.compile(rf"\s(?:{_by_first_letter(SPEECH_VERBS)})\b")
# Characters that cannot occur in a subject, in the adverbs before a verb or in the
# lead-in of an appositive (see _earliest_subject).
_BARRIER_RE = re.compile(r"[^\w\s\u2019'.-]")
_APPOSITIVE_BODY = 150  # the longest run _APPOSITIVE allows after its lead-in


def _clean_name(subject: str) -> str:
    """Drop sentence adverbs, titles and nationality words from the front of a name."""
    words = subject.rstrip(".,").split()
    while len(words) > 1 and words[0].rstrip(",") in COMMON_WORDS and words[1][0].isupper():
        words.pop(0)
    if len(words) == 1 and words[0] in COMMON_WORDS and not _GROUP_NOUN_RE.fullmatch(words[0]):
        return ""  # "Even", "However": a sentence opener, not a name
    if words and words[0][0].isupper():
        heads = [i for i, w in enumerate(words[:-1]) if w.rstrip(".") in TITLE_HEADS]
        kept = words[heads[-1] + 1 :] if heads else list(words)
        while kept and (kept[0].rstrip(".") in TITLE_WORDS or kept[0] in DEMONYMS):
            kept.pop(0)
        if kept and kept[0][0].isupper():
            words = kept
    return " ".join(words)


class _Resolver:
    """Turns a matched subject into a speaker, remembering who spoke last."""

    def __init__(self) -> None:
        self.last_person: str | None = None
        self.by_title: dict[str, str] = {}

    def learn_titles(self, sentence: str) -> None:
        for match in _TITLED_NAME_RE.finditer(sentence):
            self.by_title[match["title"].lower()] = _clean_name(match["name"])

    def resolve(self, subject: str) -> str | None:
        raw = subject.strip()
        if raw.lower() in _PRONOUNS:
            return self.last_person
        title = _THE_TITLE_RE.match(raw)
        if title is not None:
            return self.by_title.get(title["title"].lower(), raw)
        name = _clean_name(raw)
        if not name:
            return None
        if (name[0].isupper() and " " not in name) or _looks_personal(name):
            self.last_person = name
        return name


def _looks_personal(name: str) -> bool:
    """A capitalised multi-word name that is not an organisation or a group."""
    words = name.split()
    return all(w[0].isupper() for w in words) and not name.isupper()


def _outside_quotes(sentence: str, position: int) -> bool:
    """Whether ``position`` is outside any quotation opened within ``sentence``."""
    before = sentence[:position]
    curly_open = before.count("\u201c") > before.count("\u201d")
    return not curly_open and before.count('"') % 2 == 0


def _earliest_subject(sentence: str, verb_start: int) -> int:
    """A position no subject of a speech verb at ``verb_start`` or later starts before.

    Between a subject's start and its verb only the appositive holds barrier characters:
    its opening comma, and anything within the last ``_APPOSITIVE_BODY`` + 1 characters
    before the barrier ending it.  So the subject starts after the second-last barrier
    that precedes that stretch.
    """
    barriers = [match.start() for match in _BARRIER_RE.finditer(sentence, 0, verb_start)]
    if not barriers:
        return 0
    limit = barriers[-1] - _APPOSITIVE_BODY
    earlier = [position for position in barriers if position < limit]
    return earlier[-2] + 1 if len(earlier) >= 2 else 0


@dataclass(frozen=True, slots=True)
class Cue:
    """The words of a sentence that say who is speaking, as one of the patterns found them.

    ``pattern`` is ``"quote_after"``, ``"quote_before"``, ``"says_name"``, ``"trailing"``,
    ``"reported"``, ``"according"`` or ``"participle"``.  ``start``/``end`` span the
    attribution in the sentence: for ``quote_after`` from the closing quote, for
    ``quote_before`` to just after the opening quote, for ``says_name`` and ``trailing``
    from the comma before it, for ``participle`` the ``", noting"`` alone.  ``verb`` is the
    speech verb or participle as written ("" for ``says_name``, ``according`` and
    ``quote_after``) and ``verb_end`` where it ends.  ``closing`` is true when the
    attribution ends its sentence ("..., X said."), so what was said comes before it.
    """

    pattern: str
    subject: str
    quoting: bool
    start: int
    end: int
    verb: str = ""
    verb_end: int = 0
    closing: bool = False


@dataclass(frozen=True, slots=True)
class Attribution:
    """A segment's speaker, and the cue it was read from (None when it came from context:
    an open quotation, or no speaker at all)."""

    speaker: str | None
    cue: Cue | None


def _verb_cue(pattern: str, sentence: str, match: re.Match[str], quoting: bool) -> Cue:
    start, verb_end = match.start("s"), match.end("v")
    closing = pattern == "trailing" or (
        sentence[:start].rstrip().endswith(",")
        and _TRAILING_TAIL_RE.match(sentence, verb_end) is not None
    )
    return Cue(pattern, match["s"], quoting, start, match.end(), match["v"], verb_end, closing)


def find_cue(sentence: str) -> Cue | None:
    """The attribution of a sentence, tried in the module docstring's order, or None."""
    verbs = [(match.start() + 1, match.end()) for match in _SPOKEN_RE.finditer(sentence)]
    match = _QUOTE_AFTER_RE.search(sentence)
    if match is not None:
        subject = match["s1"] or match["s2"]
        return Cue("quote_after", subject, True, match.start(), match.end(), "", match.end())
    if verbs:
        window = _earliest_subject(sentence, verbs[0][0])
        last_open = max(sentence.rfind('"'), sentence.rfind("\u201c"))
        if last_open > verbs[0][0]:
            match = _QUOTE_BEFORE_RE.search(sentence, window, last_open + 1)
            if match is not None and _outside_quotes(sentence, match.start()):
                return _verb_cue("quote_before", sentence, match, True)
    match = _SAYS_NAME_RE.search(sentence)
    if match is not None and _outside_quotes(sentence, match.start()):
        end = match.end()
        closing = bool(
            _TRAILING_TAIL_RE.match(sentence, end) or _APPOSITION_RE.match(sentence, end)
        )
        return Cue("says_name", match["s"], False, match.start(), end, "", end, closing)
    if verbs:
        # A trailing subject holds no comma: it starts at the last one before its verb.
        for verb_start, _ in reversed(verbs):
            comma = sentence.rfind(",", 0, verb_start)
            match = _TRAILING_RE.match(sentence, comma) if comma >= 0 else None
            if match is not None and _outside_quotes(sentence, match.start()):
                return _verb_cue("trailing", sentence, match, False)
        for match in _REPORTED_RE.finditer(sentence, window, verbs[-1][1]):
            if _outside_quotes(sentence, match.start()):
                return _verb_cue("reported", sentence, match, False)
    if "ccording" in sentence:
        match = _ACCORDING_RE.search(sentence)
        if match is not None and _outside_quotes(sentence, match.start()):
            closing = sentence[: match.start()].rstrip().endswith(",")
            return Cue("according", match["s"], False, match.start(), match.end(), "",
                       match.end(), closing)  # fmt: skip
    match = _INITIAL_SUBJECT_RE.match(sentence)
    if match is not None:
        participle = PARTICIPLE_RE.search(sentence)
        if participle is not None:
            return Cue("participle", match["s"], False, participle.start(), participle.end(),
                       participle["v"], participle.end())  # fmt: skip
    return None


def _find_subject(sentence: str) -> tuple[str | None, bool]:
    """The attribution subject of a sentence and whether it introduces a quotation."""
    cue = find_cue(sentence)
    return (None, False) if cue is None else (cue.subject, cue.quoting)


def clause_attribution(clause: str, sentence_speaker: str | None) -> Attribution:
    """The speaker of one clause of a compound sentence: who the clause itself names as
    saying it ("..., but American media later admitted that ..."), else the sentence's.

    The cue is kept when the clause has one that yields a speaker."""
    cue = find_cue(clause)
    if cue is None:
        return Attribution(sentence_speaker, None)
    raw = cue.subject.strip()
    if raw.lower() in _PRONOUNS or _THE_TITLE_RE.match(raw):
        speaker = sentence_speaker  # "he"/"the minister" refer to whoever the sentence named
    else:
        speaker = _clean_name(raw) or sentence_speaker
    return Attribution(speaker, cue if speaker is not None else None)


def clause_speaker(clause: str, sentence_speaker: str | None) -> str | None:
    """The speaker of one clause of a compound sentence (see clause_attribution)."""
    return clause_attribution(clause, sentence_speaker).speaker


def _quote_balance(sentence: str, open_before: bool) -> bool:
    """Whether a quotation is still open at the end of ``sentence``."""
    opens, closes = sentence.count("\u201c"), sentence.count("\u201d")
    if opens or closes:
        return opens > closes or (open_before and opens == closes and opens == 0)
    if sentence.count('"') % 2:
        return not open_before
    return open_before


def attribute(body: str, segments: Sequence[Segment]) -> list[Attribution]:
    """Each segment's speaker as written in ``body`` (None for the writer's own), with the
    cue of the segment that named it."""
    resolver = _Resolver()
    found: list[Attribution] = [Attribution(None, None)] * len(segments)
    pending: list[int] = []  # sentences of an open quotation still waiting for a speaker
    quote_speaker: str | None = None  # speaker of the quotation open or just closed
    open_quote = False
    previous_end = 0
    for index, segment in enumerate(segments):
        sentence = segment.text
        new_paragraph = (
            "\n" in body[previous_end : segment.start] or "\r" in body[previous_end : segment.start]
        )
        previous_end = segment.end
        if new_paragraph:
            pending, quote_speaker, open_quote = [], None, False
        if segment.kind != "sentence":
            continue
        cue = find_cue(sentence)
        speaker = resolver.resolve(cue.subject) if cue is not None else None
        named = cue if speaker is not None else None
        resolver.learn_titles(sentence)
        starts_in_quote = open_quote or sentence.lstrip()[:1] in _OPEN_Q
        open_quote = _quote_balance(sentence, open_quote)
        if speaker is None and starts_in_quote:
            if quote_speaker is not None:
                speaker = quote_speaker
            elif open_quote:
                pending.append(index)
                continue
        if speaker is not None:
            for waiting in pending:
                found[waiting] = Attribution(speaker, None)
            pending = []
            if (cue is not None and cue.quoting) or starts_in_quote:
                quote_speaker = speaker
        found[index] = Attribution(speaker, named)
    return found


def attribute_speakers(body: str, segments: Sequence[Segment]) -> list[str | None]:
    """The speaker of each segment as written in ``body``, or None for the writer's own."""
    return [attribution.speaker for attribution in attribute(body, segments)]
