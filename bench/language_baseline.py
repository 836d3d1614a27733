"""The engine's former hand-written language detector: the baseline of bench.language.

Kept only so that ``python -m bench.language`` can measure the replacement against it in the
same run; nothing in the service imports it.

It guesses from script and frequent words.  ``detect_language(text)`` returns an ISO 639-1
code, or ``"und"`` when the text is too short or too mixed to tell, reading only the first
:data:`SAMPLE_CHARS` characters.

1. **Script.**  Letters are counted per Unicode script.  If most are not Latin, the script
   decides: Cyrillic is ``ru`` (``uk`` when Ukrainian-only letters appear), Greek ``el``,
   Hebrew ``he``, Devanagari ``hi``, Hangul ``ko``, Han ``zh`` unless kana make up a tenth
   of the CJK letters (``ja``), and the Arabic script is ``ar``, or ``fa`` when the Persian
   letters پ چ ژ گ ک ی outnumber the Arabic-only ي ك ة, or ``ur`` when Urdu-only letters
   ٹ ڈ ڑ ں ے appear.
2. **Words.**  Latin-script text is scored against short lists of the commonest function
   words of ``en``, ``fr``, ``de``, ``es``, ``it``, ``pt``, ``nl``, ``sv`` and ``pl``; a
   word on several lists counts for each of them in equal shares, so ``de`` or ``la`` weigh
   less than ``the`` or ``und``.  The best language must have enough evidence and a clear
   lead over the runner-up.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from operator import itemgetter

__all__ = ["SAMPLE_CHARS", "detect_language", "is_english"]

UNDETERMINED = "und"
SAMPLE_CHARS = 2000

# Fewest letters of a non-Latin script, and least weighted function-word evidence for a
# Latin-script language, below which the answer is "und".
_MIN_SCRIPT_LETTERS = 4
_MIN_WORD_SCORE = 2.0
# The best language must outscore the runner-up by this factor.
_MIN_LEAD = 1.5
# Kana share of the CJK letters from which Han text is read as Japanese.
_MIN_KANA_SHARE = 0.1

# Function words, written for this module: articles, pronouns, prepositions, conjunctions
# and auxiliaries, roughly the 30-40 most frequent words of news text in each language.
_FUNCTION_WORDS: dict[str, str] = {
    "en": """the of and to in is that for it was on with as by at from he his be are this
        have has not but an they which or were been said will their who would its had we
        after there""",
    "fr": """le la les de des du et en un une est que qui dans pour pas sur au aux avec il elle
        ce cette par plus sont ont été mais nous vous ne se son sa ses leur être à a""",
    "de": """der die das und ist nicht mit den dem des ein eine einer zu auf für sich von im
        auch es sie er wird wurde sind hat haben dass bei nach aus noch wie oder aber nur""",
    "es": """el la los las de del y en que un una es por con para se no lo al su sus como más
        pero fue ha han este esta entre sobre también muy hay sin porque""",
    "it": """il lo la gli le di del della dei che è un una per con non sono da nel nella al
        alla si ha anche come più ma questo questa essere stato degli delle sul""",
    "pt": """o a os as de do da dos das em no na nos nas um uma que para com não por se é são
        foi mais mas ao pelo pela também seu sua está muito entre""",
    "nl": """de het een en van in is dat op te met voor niet zijn er aan die ook als bij maar
        om door naar wordt werd uit heeft hebben nog over dan deze wel geen""",
    "sv": """och att det som en är på för med av den till inte har de om ett var men från så
        kan vi eller sig efter när hade också""",
    "pl": """i w na z się nie do to że jest o jak po co ale od za tak przez dla już są jego
        oraz być który także tylko może""",
}


def _word_weights() -> dict[str, tuple[tuple[str, float], ...]]:
    """Map each function word to the languages it belongs to, sharing one point among them."""
    owners: dict[str, list[str]] = {}
    for language, words in _FUNCTION_WORDS.items():
        for word in words.split():
            owners.setdefault(word, []).append(language)
    return {
        word: tuple((language, 1 / len(languages)) for language in languages)
        for word, languages in owners.items()
    }


_WORD_WEIGHTS = _word_weights()
_WORD_RE = re.compile(r"[^\W\d_]+")

# One alternative per script, matching runs of its letters; the group name is the script.
_SCRIPT_RE = re.compile(
    "|".join(
        f"(?P<{name}>[{ranges}]+)"
        for name, ranges in (
            ("latin", "A-Za-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u024f\u1e00-\u1eff"),
            ("cyrillic", "\u0400-\u052f"),
            ("greek", "\u0370-\u03ff\u1f00-\u1fff"),
            ("hebrew", "\u0591-\u05f4"),
            (
                "arabic",
                "\u0620-\u064a\u066e-\u06d3\u06fa-\u06ff\u0750-\u077f\ufb50-\ufdff\ufe70-\ufefc",
            ),
            ("devanagari", "\u0900-\u097f"),
            ("hangul", "\u1100-\u11ff\u3130-\u318f\uac00-\ud7af"),
            ("kana", "\u3040-\u30ff\u31f0-\u31ff\uff66-\uff9f"),
            ("han", "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"),
        )
    )
)
# Anything outside Latin letters, punctuation and common symbols: only then are scripts counted.
_NON_LATIN_RE = re.compile("[^\x00-\u024f\u1e00-\u1eff\u2000-\u2bff]")
_SCRIPT_LANGUAGES = {
    "greek": "el",
    "hebrew": "he",
    "devanagari": "hi",
    "hangul": "ko",
}

# Ukrainian-only Cyrillic letters: ye, byelorussian-ukrainian i, yi, ghe with upturn.
_UKRAINIAN_LETTERS = re.compile("[\u0404\u0406\u0407\u0490\u0454\u0456\u0457\u0491]")
_PERSIAN_LETTERS = re.compile("[\u067e\u0686\u0698\u06af\u06a9\u06cc]")  # پ چ ژ گ ک ی
_ARABIC_ONLY_LETTERS = re.compile("[\u064a\u0643\u0629]")  # ي ك ة
# Urdu-only letters: tteh, ddal, rreh, noon ghunna, yeh barree.
_URDU_LETTERS = re.compile("[\u0679\u0688\u0691\u06ba\u06d2]")


def detect_language(text: str) -> str:
    """ISO 639-1 code of the language of ``text``, or ``"und"`` if it cannot be told."""
    sample = text[:SAMPLE_CHARS]
    if sample.isascii() or not _NON_LATIN_RE.search(sample):
        return _language_from_words(sample)
    letters: Counter[str] = Counter()
    for run in _SCRIPT_RE.finditer(sample):
        letters[run.lastgroup or ""] += run.end() - run.start()
    if not letters:
        return UNDETERMINED
    script, count = letters.most_common(1)[0]
    # Japanese mixes Han and kana: together they are one writing system.
    cjk = letters["han"] + letters["kana"]
    if cjk >= count:
        script, count = "cjk", cjk
    if script == "latin":
        return _language_from_words(sample)
    if count < _MIN_SCRIPT_LETTERS:
        return UNDETERMINED
    if script == "cjk":
        return "ja" if letters["kana"] >= _MIN_KANA_SHARE * cjk else "zh"
    if script == "cyrillic":
        return "uk" if _UKRAINIAN_LETTERS.search(sample) else "ru"
    if script == "arabic":
        return _arabic_script_language(sample)
    return _SCRIPT_LANGUAGES.get(script, UNDETERMINED)


def is_english(text: str) -> bool:
    """Whether ``text`` is detected as English."""
    return detect_language(text) == "en"


def _arabic_script_language(sample: str) -> str:
    if _URDU_LETTERS.search(sample):
        return "ur"
    persian = len(_PERSIAN_LETTERS.findall(sample))
    arabic = len(_ARABIC_ONLY_LETTERS.findall(sample))
    return "fa" if persian > arabic else "ar"


def _language_from_words(sample: str) -> str:
    scores: defaultdict[str, float] = defaultdict(float)
    for word in _WORD_RE.findall(sample.lower()):
        for language, weight in _WORD_WEIGHTS.get(word, ()):
            scores[language] += weight
    ranked = sorted(scores.items(), key=itemgetter(1), reverse=True)[:2]
    if not ranked or ranked[0][1] < _MIN_WORD_SCORE:
        return UNDETERMINED
    best_language, best = ranked[0]
    runner_up = ranked[1][1] if len(ranked) > 1 else 0.0
    return best_language if best >= _MIN_LEAD * runner_up else UNDETERMINED
