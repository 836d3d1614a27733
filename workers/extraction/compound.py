"""Split a sentence that makes several independent claims into its clauses.

``split_compound(text)`` returns ``(start, end)`` spans into ``text``, one per clause, when
the sentence joins two or more independent clauses with ``", but"``, ``"; "``,
``", and"``, ``", while"``, ``", whereas"`` or ``", yet"``; it returns ``[]`` when the
sentence is not compound.  Each span is stripped of the joining word, surrounding
whitespace and the joining comma or semicolon; the last one keeps the sentence's final
punctuation.  The test is deliberately conservative: every part needs at least four words
and a finite verb (an auxiliary or common verb, or an ``-ed``/``-s`` word after a noun),
and a joiner inside quotes or brackets is never used.
"""

from __future__ import annotations

import re

__all__ = ["WORD_RE", "is_clause", "split_compound"]

_JOINER_RE = re.compile(r"\s*;\s+|,\s+(?:but|and|while|whereas|yet)\s+")
WORD_RE = re.compile(r"[\w\u2019'-]+")
_FINITE_VERBS = frozenset(
    [
        "is",
        "are",
        "was",
        "were",
        "am",
        "be",
        "been",
        "has",
        "have",
        "had",
        "do",
        "does",
        "did",
        "will",
        "would",
        "shall",
        "should",
        "can",
        "could",
        "may",
        "might",
        "must",
        "isn't",
        "aren't",
        "wasn't",
        "weren't",
        "hasn't",
        "haven't",
        "hadn't",
        "doesn't",
        "didn't",
        "won't",
        "wouldn't",
        "can't",
        "couldn't",
        "shouldn't",
        "says",
        "said",
        "say",
        "claims",
        "claimed",
        "shows",
        "showed",
        "show",
        "found",
        "finds",
        "rose",
        "fell",
        "grew",
        "remains",
        "remained",
        "became",
        "becomes",
        "makes",
        "made",
        "gives",
        "gave",
        "takes",
        "took",
        "knows",
        "knew",
        "thinks",
        "thought",
        "believes",
        "believed",
        "wants",
        "wanted",
        "needs",
        "needed",
        "gets",
        "got",
        "goes",
        "went",
        "comes",
        "came",
        "runs",
        "ran",
        "costs",
        "cost",
        "spends",
        "spent",
        "killed",
        "lost",
        "won",
        "leads",
        "led",
        "holds",
        "held",
        "continues",
        "continued",
        "stands",
        "stood",
        "means",
        "meant",
        "seems",
        "seemed",
        "appears",
        "appeared",
        "reached",
        "increased",
        "decreased",
        "doubled",
        "dropped",
    ]
)
_NOT_FINITE_AFTER = frozenset(["to", "the", "a", "an", "of"])
_PAIRS = {"\u201c": "\u201d", "(": ")", "[": "]", "\u2018": "\u2019"}
_STRIP = " \t,;"


def _protected(text: str) -> list[tuple[int, int]]:
    """Spans inside quotes or brackets, where no split may happen."""
    spans = []
    for opener, closer in _PAIRS.items():
        start = text.find(opener)
        while start >= 0:
            end = text.find(closer, start + 1)
            if end < 0:
                end = len(text)
            spans.append((start, end))
            start = text.find(opener, end + 1)
    straight = [m.start() for m in re.finditer('"', text)] + [len(text)]
    spans.extend((straight[i], straight[i + 1]) for i in range(0, len(straight) - 1, 2))
    return spans


def _is_clause(words: list[str]) -> bool:
    """At least four words, one of them a finite verb (after a possible subject)."""
    if len(words) < 4:
        return False
    for index, word in enumerate(words[1:], start=1):
        lowered = word.lower()
        if lowered in _FINITE_VERBS:
            return True
        previous = words[index - 1].lower()
        if (
            lowered.endswith("ed")
            and len(lowered) > 4
            and previous not in _NOT_FINITE_AFTER
            and not previous.endswith("ly")
        ):
            return True
    return False


def is_clause(text: str) -> bool:
    """Whether ``text`` reads as a clause: four words or more, one a finite verb."""
    return _is_clause(WORD_RE.findall(text))


def split_compound(text: str) -> list[tuple[int, int]]:
    """Clause spans of a compound sentence, or ``[]`` (see the module docstring)."""
    if ";" not in text and "," not in text:
        return []
    protected = None
    cuts: list[tuple[int, int]] = []
    for joiner in _JOINER_RE.finditer(text):
        if protected is None:
            protected = _protected(text)
        if any(s < joiner.start() < e for s, e in protected):
            continue
        cuts.append(joiner.span())
    if not cuts:
        return []
    parts: list[tuple[int, int]] = []
    start = 0
    for cut_start, cut_end in [*cuts, (len(text), len(text))]:
        end = cut_start
        while end > start and text[end - 1] in _STRIP:
            end -= 1
        while start < end and text[start] in _STRIP:
            start += 1
        parts.append((start, end))
        start = cut_end
    if not all(_is_clause(WORD_RE.findall(text, s, e)) for s, e in parts):
        return []
    return parts
