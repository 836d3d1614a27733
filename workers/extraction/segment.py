"""Split article text into sentence segments anchored to exact string offsets.

``split_sentences(text)`` returns :class:`Segment` objects whose ``start``/``end`` are
Python ``str`` indices (Unicode code points) into ``text`` exactly as given; the input is
never normalised, so ``text[s.start:s.end] == s.text`` always holds.  Segment text never
has leading or trailing whitespace, segments never overlap and come in text order.

Rules, applied in this order:

1. **Lines.**  Every line break ends a segment (``\\n``, ``\\r\\n``, ``\\r`` and the other
   separators :meth:`str.splitlines` knows).  News text from our sources has one paragraph,
   headline or byline per line, so a line is never continued on the next one.  Blank and
   whitespace-only lines produce nothing; line-break characters never appear in a segment.

2. **Metadata prefix.**  A line starting with a lowercase key word followed by an ISO date
   (``date 2026-01-19``, ``published: 2026-01-19T08:00Z``) yields a ``"metadata"`` segment
   for that prefix; the rest of the line, if any, is segmented like any other line.

3. **Sentences.**  Inside a line, a sentence ends after a run of ``.``, ``!``, ``?`` or
   ``…`` (``?!``, ``...``) together with any closing quotes or brackets that follow it
   (``He said “Yes.” Then`` ends after ``”``), provided whitespace follows and the next
   non-space character starts a sentence: an uppercase or uncased letter, a digit, an
   opening quote/bracket, a symbol such as an emoji, or a web address (``https://``,
   ``www.``).  Zero-width characters (U+200B, U+200C, U+200D, U+2060, U+FEFF), which
   pasted web text often leaves around punctuation, count as neither text nor space: they
   do not prevent a split and are left between the two sentences.  Dashes never split a
   sentence.

4. **Abbreviations.**  A lone ``.`` does not end a sentence after

   * titles and fixed abbreviations (``Mr.``, ``Dr.``, ``Gen.``, ``Sen.``, ``St.``,
     ``vs.``, ``cf.`` ...);
   * ``No.``, ``Vol.``, ``Art.``, ``p.`` ... when a digit follows;
   * a number of one or two digits that opens the line: a list item (``1. Cut taxes.``);
   * "weak" abbreviations -- dotted acronyms (``U.S.``, ``e.g.``, ``a.m.``), single-letter
     initials (``John F. Kennedy``, ``J. K. Rowling``), ``Inc.``, ``Corp.``, ``etc.``,
     ``Jr.``, month names (``Sept.``) -- unless the next word is a common sentence opener
     (``The``, ``He``, ``But``, ``In`` ...), e.g. ``in the U.S. The next day``.

   Decimals and numbers such as ``3.5`` or ``1.2 million`` never split because no
   whitespace follows the dot.

5. **Kinds.**  Sentences of a line that splits into several sentences are ``"sentence"``.
   A line (or the rest of a line after a metadata prefix) that stays one segment is

   * ``"byline"`` if it starts with ``By``, has at most 12 words, every following word is
     capitalised or a connector such as ``and``/``in``/``of``, and it does not end with
     ``.``, ``!`` or ``?`` (``By Staff, Agencies``, ``By Jane Doe and John Roe``);
   * ``"headline"`` if it has fewer than 20 words and does not end with sentence-final
     punctuation (closing quotes/brackets ignored);
   * ``"sentence"`` otherwise.

6. **Datelines.**  A wire dateline opening a line that ends like a sentence -- a place in
   capitals (three letters or more), maybe a date and an agency, then a dash: ``TEHRAN —``,
   ``WASHINGTON (Reuters) -``, ``LONDON, Jan. 5 (AP) —`` -- is a ``"dateline"`` segment of
   its own (dash included); the line's first sentence starts after it.

7. **Captions and credits.**  Before any of that, a whole line (after a metadata prefix)
   that is page furniture becomes one segment, never split:

   * ``"credit"`` if it has at most 30 words and opens with a credit or a page link:
     ``Reporting by``, ``Editing by``, ``Read more:``, ``Related:``, ``Photo:``,
     ``Source:``, ``©``, ``Copyright``, ``Sign up`` ...;
   * ``"caption"`` if it has at most 60 words and carries a photo or video credit:
     ``(Photo by Jane Doe/AFP)``, ``(AP Photo/John Roe)``, ``REUTERS/Jane Doe``,
     ``Photograph: Jane Doe/Getty Images``, ``via Getty Images``.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

__all__ = ["Segment", "split_sentences"]


@dataclass(frozen=True, slots=True)
class Segment:
    """One sentence or boilerplate line: ``text == source[start:end]``."""

    start: int
    end: int
    text: str
    kind: str


# Quote characters are spelled as escapes so they cannot be confused with each other.
# Closing: straight quotes, right double/single quotes, right guillemets, brackets.
_CLOSERS = "\"'\u201d\u2019\u00bb\u203a)\\]}"
# Opening: straight quotes, left and low-9 double/single quotes, left guillemets, brackets.
_OPENERS = "\"'\u201c\u2018\u201e\u201a\u00ab\u2039(\\[{"
_TERMINALS = ".!?\u2026\u203d"  # plus horizontal ellipsis and interrobang
# Zero-width space, non-joiner, joiner, word joiner and BOM: invisible, yet not whitespace.
_ZERO_WIDTH = "\u200b\u200c\u200d\u2060\ufeff"
_LINE_BREAKS = "\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029"  # exactly what str.splitlines() splits on


def _wordset(words: str) -> frozenset[str]:
    return frozenset(words.split())


_LINE_RE = re.compile(f"[^{_LINE_BREAKS}]+")

# A run of terminal punctuation, optionally followed by closers and more terminals
# (``.”.``).  If whitespace follows (zero-width characters around it are skipped), group 1
# spans the (possibly empty) opening quotes/brackets where the next sentence would start and
# group 2 is the first character after them; otherwise both groups are None.  The run is
# matched possessively and the lookahead is optional, so every run is matched exactly once
# and scanning stays linear even on pathological input such as a million dots.
_BOUNDARY_RE = re.compile(
    f"(?<![{_TERMINALS}])[{_TERMINALS}]++(?:[{_CLOSERS}]++[{_TERMINALS}]*+)*+"
    f"(?:(?=[{_ZERO_WIDTH}]*+\\s[\\s{_ZERO_WIDTH}]*+([{_OPENERS}]*+)(\\S)))?"
)

_METADATA_RE = re.compile(
    r"[a-z][a-z_\-]*(?:[ \t]+[a-z][a-z_\-]*)?:?[ \t]+"
    r"\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+\-]\d{2}:?\d{2})?)?"
    r"(?=\s|$)"
)

# Credits and page furniture, at the start of a line: "Reporting by Jane Doe; Editing by
# Bob Roe", "Read more: ...", "Photo: Reuters", "© 2026 ...".
_CREDIT_RE = re.compile(
    r"(?:(?:Additional\s+)?(?:[Rr]eporting|[Ee]diting|[Ww]riting|[Cc]ompiled|[Ii]llustrations?"
    r"|[Gg]raphics?)\s+by\s"
    r"|(?:Read\s+more|READ\s+MORE|Read\s+also|Related|RELATED|See\s+also|Also\s+read|Watch"
    r"|WATCH|Photos?|PHOTO|Photograph|Picture|Image|Video|Credit|Source|SOURCE)\s?:"
    r"|\u00a9|\([Cc]\)\s|Copyright\s|All\s+rights\s+reserved|Sign\s+up\b|Subscribe\b"
    r"|Follow\s+us\b)"
)
_MAX_CREDIT_WORDS = 30
# A photo or video caption carries its credit: "(Photo by Jane Doe/AFP)", "(AP Photo/John
# Roe)", "REUTERS/Jane Doe", "Photograph: Jane Doe/Getty Images", "... via Getty Images".
_CAPTION_CREDIT_RE = re.compile(
    r"\((?:[A-Z]+\s+)?(?:Photo|Photograph|Picture|Image|Video|File\s+photo)s?\b[^()]*\)"
    r"|\b(?:REUTERS|AFP|AP|EPA|ANADOLU|Getty\s+Images)\s*/\s*[A-Z]"
    r"|\b(?:Photo|Photograph|Picture|Image)(?:\s+credit)?\s*:\s*[A-Z][^.!?]*$"
    r"|\bvia\s+Getty\s+Images\b"
)
# A wire dateline opening a line of prose: a place in capitals (three letters or more, so
# "US - China talks" is not one), maybe a date and an agency, then a dash ("TEHRAN — ",
# "WASHINGTON (Reuters) - ", "LONDON, Jan. 5 (AP) — ").
_DATELINE_RE = re.compile(
    r"(?P<mark>[A-Z][A-Z.'\-]{2,}(?:[ \t]+[A-Z][A-Z.'\-]*){0,3}"
    r"(?:,[ \t]+[A-Z][a-z]{2,8}\.?[ \t]+\d{1,2})?"
    r"(?:[ \t]*\([A-Za-z][\w .&'/-]{0,30}\))?"
    r"[ \t]+(?:\u2014|\u2013|--?))[ \t]+(?=[^\W_]|[\"'\u201c\u2018(])"
)
_MAX_CAPTION_WORDS = 60
# A caption credit holds one of these; a line without any is not searched.
_CAPTION_MARKERS = ("Photo", "photo", "Picture", "Image", "Video", "Getty", "/")
_WORD_RE = re.compile(r"\w+")
_ACRONYM_RE = re.compile(r"(?:[A-Za-z]{1,2}\.)+[A-Za-z]{1,2}")
_BYLINE_RE = re.compile(r"(?:By|BY)\s+(?=[^\W\d_])")
_NAME_WORD_RE = re.compile(r"[^\W\d_]+")
# Lowercase words allowed in a byline: "By Jane Doe and John Roe in Paris".
_BYLINE_CONNECTORS = _wordset("and in for of with at the de van von der da del al bin")

# Never sentence-final when followed by a single ".".
_STRONG_ABBREVIATIONS = _wordset(
    """
    Mr Mrs Ms Mx Messrs Mme Mlle Dr Drs Prof Profs Gen Gens Lt Col Sgt Capt Cpt Cmdr Cdr
    Maj Adm Brig Cpl Pvt Gov Govs Sen Sens Rep Reps Rev Fr Hon Pres Supt Insp Det Atty Amb
    St Ste Mt Ft vs v cf viz approx ca
    """
)
# Not sentence-final before a digit ("No. 5", "Vol. 2").
_NUMBER_ABBREVIATIONS = _wordset("No Nos no nos Vol vol Art art Fig fig pp p Ch ch Sec sec")
# Not sentence-final unless a common sentence opener follows.
_WEAK_ABBREVIATIONS = _wordset(
    """
    Inc Ltd Co Corp Cos Bros Plc LLC etc al Jr Sr Esq Ave Blvd Rd Dept Univ Assn
    Jan Feb Mar Apr Jun Jul Aug Sep Sept Oct Nov Dec
    """
)
_SENTENCE_OPENERS = _wordset(
    """
    The A An He She It They We I You His Her Its Their Our My This That These Those There
    Here But And Or So Yet However Meanwhile In On At As If When While After Before Since
    Although Though Because Then Now Still Also Some Many Most Both Each Another What Who
    Why How Where
    """
)
_TOKEN_LEAD = _OPENERS + "-\u2013\u2014"
_WEB_ADDRESS_STARTS = ("http://", "https://", "www.")


def _dot_ends_sentence(text: str, dot: int, line_start: int, next_char: int) -> bool:
    """Decide whether the lone ``.`` at ``text[dot]`` ends a sentence.

    ``next_char`` indexes the first non-opener character of what follows.
    """
    chunk = text[max(line_start, dot - 24) : dot]
    if not chunk or chunk[-1].isspace():
        return True
    token = chunk.rsplit(None, 1)[-1].lstrip(_TOKEN_LEAD)
    if not token:
        return True
    if token in _STRONG_ABBREVIATIONS:
        return False
    if token in _NUMBER_ABBREVIATIONS:
        return not text[next_char].isdigit()
    if token.isdigit() and len(token) <= 2 and dot - len(token) == line_start:
        return False  # a list item number: "1. Cut taxes."
    initial = len(token) == 1 and token.isupper()
    if not (initial or token in _WEAK_ABBREVIATIONS or _ACRONYM_RE.fullmatch(token)):
        return True
    word = _WORD_RE.match(text, next_char)
    if word is None:
        return True
    following = word.group()
    if initial and len(following) == 1 and text.startswith(".", word.end()):
        return False  # a chain of initials: "J. K. Rowling"
    return following in _SENTENCE_OPENERS


def _is_byline(segment: str) -> bool:
    """``By`` followed by capitalised names, allowing a few lowercase connectors."""
    prefix = _BYLINE_RE.match(segment)
    if prefix is None:
        return False
    names = _NAME_WORD_RE.findall(segment, prefix.end())
    return names[0][0].isupper() and all(
        word[0].isupper() or word in _BYLINE_CONNECTORS for word in names
    )


def _furniture_kind(line: str) -> str | None:
    """``"credit"`` or ``"caption"`` for a line that is page furniture, else None."""
    if _CREDIT_RE.match(line):
        if len(line.split(None, _MAX_CREDIT_WORDS)) <= _MAX_CREDIT_WORDS:
            return "credit"
    elif (
        any(marker in line for marker in _CAPTION_MARKERS)
        and _CAPTION_CREDIT_RE.search(line)
        and len(line.split(None, _MAX_CAPTION_WORDS)) <= _MAX_CAPTION_WORDS
    ):
        return "caption"
    return None


def _line_kind(segment: str) -> str:
    """Classify a line that was not split into several sentences."""
    body = segment.rstrip(_CLOSERS)
    if body and body[-1] in _TERMINALS:
        return "sentence"
    words = len(segment.split(None, 20))
    if words <= 12 and _is_byline(segment):
        return "byline"
    return "headline" if words < 20 else "sentence"


def _split_line(text: str, start: int, end: int, out: list[Segment]) -> None:
    """Append the segments of ``text[start:end]`` (stripped, non-empty) to ``out``."""
    first = len(out)
    seg_start = start
    for match in _BOUNDARY_RE.finditer(text, start, end):
        next_char = match.start(2)
        if next_char < 0:
            continue  # no whitespace after the run: "3.5", "U.S.-led", end of line
        run = match.group()
        next_start = match.start(1)
        char = text[next_char]
        if not (
            match.end(1) > next_start  # an opening quote or bracket
            or char.isdigit()
            or (char.isalpha() and not char.islower())
            or unicodedata.category(char) == "So"  # emoji and other symbols
            or text.startswith(_WEB_ADDRESS_STARTS, next_char)
        ):
            continue
        if run == "." and not _dot_ends_sentence(text, match.start(), start, next_char):
            continue
        seg_end = match.end()
        out.append(Segment(seg_start, seg_end, text[seg_start:seg_end], "sentence"))
        seg_start = next_start
    if len(out) == first:
        segment = text[start:end]
        out.append(Segment(start, end, segment, _line_kind(segment)))
    else:
        out.append(Segment(seg_start, end, text[seg_start:end], "sentence"))


def split_sentences(text: str) -> list[Segment]:
    """Split ``text`` into sentence and boilerplate segments (see the module docstring)."""
    out: list[Segment] = []
    for line in _LINE_RE.finditer(text):
        raw = line.group()
        stripped = raw.strip()
        if not stripped:
            continue
        start = line.start() + (len(raw) - len(raw.lstrip()))
        end = start + len(stripped)
        meta = _METADATA_RE.match(text, start, end)
        if meta is not None:
            out.append(Segment(start, meta.end(), meta.group(), "metadata"))
            rest = text[meta.end() : end]
            stripped_rest = rest.lstrip()
            if not stripped_rest:
                continue
            start = end - len(stripped_rest)
        furniture = _furniture_kind(text[start:end])
        if furniture is not None:  # one segment, never split into sentences or scored
            out.append(Segment(start, end, text[start:end], furniture))
            continue
        dateline = _DATELINE_RE.match(text, start, end)
        if dateline is not None and text[start:end].rstrip(_CLOSERS)[-1:] in _TERMINALS:
            mark_end = dateline.end("mark")
            out.append(Segment(start, mark_end, text[start:mark_end], "dateline"))
            start = dateline.end()
        _split_line(text, start, end, out)
    return out
