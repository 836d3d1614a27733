"""Sentence segmenters compared: ours against blingfire, syntok and pysbd.

Run from the repository root:

    python -m bench.segmenters [--words 1000000] [--repeats 3] [--only ours,pysbd] [--show-failures]

Data is read at run time from ``$FACTCHECK_DATA_DIR`` (default: ``<repo>/../shared/data``).

Accuracy is measured on sentence *end* offsets (code points), after moving every end left
past whitespace and zero-width characters, and leaving out the end of the document, which
every segmenter finds.  Three sources of truth:

* **newsclaims-dev** (828 sentences in 18 articles).  ``sentences.json`` gives each sentence
  with ``start_char`` and an *inclusive* ``end_char`` (``len(sentence) == end_char -
  start_char + 1`` for all of them) but not the article text, so the text is rebuilt by
  placing each sentence at ``start_char``.  The separators are not in the data, so:

  - *layout* (the main figure): a one-character gap is a space, unless the previous sentence
    does not end with ``.``, ``!``, ``?`` or ``:`` (closing quotes ignored) -- a title such as
    "Quick Take" can only have been followed by a line break; longer gaps are that many
    ``\\n`` (the LDC articles separate paragraphs by two or more characters);
  - *flat*: every gap is spaces, so no line breaks help; this isolates punctuation handling.

  The gold segmentation is itself a tool's output (``et.`` / ``al.`` are split apart in the
  reference lists), so no segmenter can reach 1.0.

* **hard cases**: invented sentences in :data:`HARD_CASES`; a case counts as right when the
  predicted ends are exactly the expected ones.

* **the two shared articles**: gold end offsets in :data:`ARTICLE_GOLD_ENDS`, derived by
  reading them (numbers only; the metadata prefix ``date YYYY-MM-DD`` of the first one is
  a unit of its own).

Speed: words/s over the shared articles and the rebuilt newsclaims texts, repeated to at
least ``--words`` words and segmented one document per call, single process, best of
``--repeats`` runs.

Offsets: every library's spans are checked against its own sentence strings
(``text[start:end] == sentence``; for blingfire, which prints sentences with internal line
breaks turned into spaces, after the same replacement).  ``blingfire``'s native API returns
UTF-8 *byte* offsets; its Python wrapper (``text_to_sentences_and_offsets``, 0.1.8) maps them
to code points with a loop over every byte, and that loop is part of its measured speed.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from workers.extraction.segment import split_sentences

REPO = Path(__file__).resolve().parent.parent
DATA_DIR = Path(os.environ.get("FACTCHECK_DATA_DIR", REPO.parent / "shared" / "data"))

# (start, end, sentence as the library reports it); offsets are code points.
Span = tuple[int, int, str]
Segmenter = Callable[[str], list[Span]]

_INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff"
_CLOSING = "\"'\u201d\u2019\u00bb)]" + _INVISIBLE

# --- segmenters under test ----------------------------------------------------------------


def segment_ours(text: str) -> list[Span]:
    # A dateline ("TEHRAN \u2014") is a segment of ours but not a sentence end: the gold and
    # the other segmenters keep it in the first sentence, so it is not scored as a boundary.
    return [(s.start, s.end, s.text) for s in split_sentences(text) if s.kind != "dateline"]


def segment_blingfire(text: str) -> list[Span]:
    import blingfire

    joined, offsets = blingfire.text_to_sentences_and_offsets(text)
    if not offsets:
        return []
    return [
        (start, end, sentence)
        for (start, end), sentence in zip(offsets, joined.split("\n"), strict=True)
    ]


def segment_syntok(text: str) -> list[Span]:
    from syntok import segmenter

    spans: list[Span] = []
    for paragraph in segmenter.analyze(text):
        for sentence in paragraph:
            first, last = sentence[0], sentence[-1]
            body = first.value + "".join(token.spacing + token.value for token in sentence[1:])
            spans.append((first.offset, last.offset + len(last.value), body))
    return spans


def make_pysbd() -> Segmenter:
    import pysbd

    engine = pysbd.Segmenter(language="en", clean=False, char_span=True)

    def segment_pysbd(text: str) -> list[Span]:
        return [(span.start, span.end, span.sent) for span in engine.segment(text)]

    return segment_pysbd


def segmenters() -> dict[str, Segmenter]:
    return {
        "ours": segment_ours,
        "blingfire": segment_blingfire,
        "syntok": segment_syntok,
        "pysbd": make_pysbd(),
    }


def span_errors(name: str, text: str, spans: list[Span]) -> int:
    """Count spans whose text is not the sentence the library itself reports."""
    errors = 0
    for start, end, sentence in spans:
        found = text[start:end]
        if name == "blingfire":
            found = re.sub(r"[\r\n]", " ", found)
        errors += found != sentence
    return errors


# --- gold data -----------------------------------------------------------------------------

# (text, expected sentences in order): each expected sentence is located in the text and its
# end is a gold boundary, so only where sentences end is scored, not where they start.
HARD_CASES: list[tuple[str, list[str]]] = [
    (
        "The U.S. Army said on Monday it would leave. The base closes in May.",
        ["The U.S. Army said on Monday it would leave.", "The base closes in May."],
    ),
    ("Troops from the U.S. arrived on Tuesday.", ["Troops from the U.S. arrived on Tuesday."]),
    (
        "He moved to the U.S. The move surprised nobody.",
        ["He moved to the U.S.", "The move surprised nobody."],
    ),
    (
        "Arrests rose sharply in the U.S. Officials blamed the economy.",
        ["Arrests rose sharply in the U.S.", "Officials blamed the economy."],
    ),
    ("The U.N. Security Council met on Friday.", ["The U.N. Security Council met on Friday."]),
    (
        "Gen. Mark Tolley spoke first. Sen. Ann Orwell replied.",
        ["Gen. Mark Tolley spoke first.", "Sen. Ann Orwell replied."],
    ),
    (
        "The bill, No. 42, passed easily. It now goes to the governor.",
        ["The bill, No. 42, passed easily.", "It now goes to the governor."],
    ),
    (
        "John F. Kennedy was elected in 1960. He served until 1963.",
        ["John F. Kennedy was elected in 1960.", "He served until 1963."],
    ),
    (
        "The novel by J. K. Rowling sold well. Critics were divided.",
        ["The novel by J. K. Rowling sold well.", "Critics were divided."],
    ),
    (
        "The fund grew 3.5 percent to $1.2 billion. Analysts expected 2.9 percent.",
        ["The fund grew 3.5 percent to $1.2 billion.", "Analysts expected 2.9 percent."],
    ),
    (
        'She said, "We are ready." Then she left the room.',
        ['She said, "We are ready."', "Then she left the room."],
    ),
    (
        "He said \u201cwe will not retreat.\u201d The crowd cheered.",
        ["He said \u201cwe will not retreat.\u201d", "The crowd cheered."],
    ),
    (
        "\u201cAre you sure?\u201d she asked. \u201cYes,\u201d he said.",
        ["\u201cAre you sure?\u201d she asked.", "\u201cYes,\u201d he said."],
    ),
    (
        'He asked, "Why now?" Nobody answered.',
        ['He asked, "Why now?"', "Nobody answered."],
    ),
    (
        "Is this the end? No! It is only the beginning?! Perhaps.",
        ["Is this the end?", "No!", "It is only the beginning?!", "Perhaps."],
    ),
    (
        "TEHRAN \u2014 Officials said on Sunday that talks would resume. A date was not set.",
        [
            "TEHRAN \u2014 Officials said on Sunday that talks would resume.",
            "A date was not set.",
        ],
    ),
    (
        "LONDON, Jan. 5 (AP) \u2014 Police arrested two men. They were released later.",
        ["LONDON, Jan. 5 (AP) \u2014 Police arrested two men.", "They were released later."],
    ),
    (
        "WASHINGTON (Reuters) - The Senate passed the bill on Tuesday. It goes to the House.",
        ["WASHINGTON (Reuters) - The Senate passed the bill on Tuesday.", "It goes to the House."],
    ),
    (
        "By Jane Doe and John Roe\nThe council voted on Monday.",
        ["By Jane Doe and John Roe", "The council voted on Monday."],
    ),
    (
        "Council approves new budget\nThe council voted 7-2 on Monday to approve the plan.",
        ["Council approves new budget", "The council voted 7-2 on Monday to approve the plan."],
    ),
    (
        "Flood Warnings Issued Across The Region\nBy Staff, Agencies\n\nRivers rose overnight. "
        "Roads were closed.\n",
        [
            "Flood Warnings Issued Across The Region",
            "By Staff, Agencies",
            "Rivers rose overnight.",
            "Roads were closed.",
        ],
    ),
    (
        "The plan has three parts:\n1. Cut taxes.\n2. Raise spending.\n3. Reform the courts.",
        [
            "The plan has three parts:",
            "1. Cut taxes.",
            "2. Raise spending.",
            "3. Reform the courts.",
        ],
    ),
    (
        "Key findings\n- Prices rose 4%\n- Wages fell\n- Rents were flat",
        ["Key findings", "- Prices rose 4%", "- Wages fell", "- Rents were flat"],
    ),
    (
        "Dr. Ruth Kim, a professor at the Univ. of Leeds, disagreed. She cited new data.",
        ["Dr. Ruth Kim, a professor at the Univ. of Leeds, disagreed.", "She cited new data."],
    ),
    (
        "The meeting ended at 5 p.m. on Friday. Nobody spoke afterwards.",
        ["The meeting ended at 5 p.m. on Friday.", "Nobody spoke afterwards."],
    ),
    (
        "The meeting ended at 5 p.m. The talks resume next week.",
        ["The meeting ended at 5 p.m.", "The talks resume next week."],
    ),
    (
        "Shares of Acme Inc. rose 4 percent. Acme Inc. is based in Ohio.",
        ["Shares of Acme Inc. rose 4 percent.", "Acme Inc. is based in Ohio."],
    ),
    (
        "The treaty was signed on Sept. 12 in Geneva.",
        ["The treaty was signed on Sept. 12 in Geneva."],
    ),
    (
        "He paused... Then he continued.",
        ["He paused...", "Then he continued."],
    ),
    (
        "The results were ... mixed, he said.",
        ["The results were ... mixed, he said."],
    ),
    (
        "The bill passed. (Two members abstained.) Debate continues.",
        ["The bill passed.", "(Two members abstained.)", "Debate continues."],
    ),
    (
        "Prices rose 2.5% in the third quarter. Inflation stayed at 3.1%.",
        ["Prices rose 2.5% in the third quarter.", "Inflation stayed at 3.1%."],
    ),
    (
        "Visit example.com for details. The site launched in 2020.",
        ["Visit example.com for details.", "The site launched in 2020."],
    ),
    (
        "Mr. and Mrs. Smith attended. So did the mayor.",
        ["Mr. and Mrs. Smith attended.", "So did the mayor."],
    ),
    (
        "He cited Smith et al. in his report. The report is long.",
        ["He cited Smith et al. in his report.", "The report is long."],
    ),
    (
        "The J.P. Morgan analyst said rates will hold. Markets rose.",
        ["The J.P. Morgan analyst said rates will hold.", "Markets rose."],
    ),
    (
        "The ministry said 1,200 people were evacuated. 300 remain in shelters.",
        ["The ministry said 1,200 people were evacuated.", "300 remain in shelters."],
    ),
    (
        "The company, based in St. Louis, said profits fell. It blamed costs.",
        ["The company, based in St. Louis, said profits fell.", "It blamed costs."],
    ),
    (
        "Officials in Washington, D.C. said the plan was final. Critics disagreed.",
        ["Officials in Washington, D.C. said the plan was final.", "Critics disagreed."],
    ),
    (
        "She earned a Ph.D. in physics. Later she taught.",
        ["She earned a Ph.D. in physics.", "Later she taught."],
    ),
    (
        "The talks involved the U.K. and the U.S. But no deal emerged.",
        ["The talks involved the U.K. and the U.S.", "But no deal emerged."],
    ),
    (
        "Section 3.2 explains the rule. Section 4 lists exceptions.",
        ["Section 3.2 explains the rule.", "Section 4 lists exceptions."],
    ),
    (
        "The court ruled on Tuesday.\u201d The appeal failed.",
        ["The court ruled on Tuesday.\u201d", "The appeal failed."],
    ),
    (
        "He called it \u201ca historic day\u201d. The vote was close.",
        ["He called it \u201ca historic day\u201d.", "The vote was close."],
    ),
    (
        "Turnout reached 61 pct. in the capital. It was lower elsewhere.",
        ["Turnout reached 61 pct. in the capital.", "It was lower elsewhere."],
    ),
    (
        "It happened in Sept. The inquiry began in October.",
        ["It happened in Sept.", "The inquiry began in October."],
    ),
]

# Gold sentence END offsets (exclusive, code points) of the shared articles, keyed by file
# name; derived by reading the articles.
ARTICLE_GOLD_ENDS: dict[str, list[int]] = {
    "000_dfb115d791d1cf54.txt": [
        16, 82, 102, 296, 553, 729, 855, 1025, 1203, 1356, 1473, 1689, 1933,
    ],
    "001_1c9f022aa12bfb98.txt": [
        76, 341, 615, 757, 912, 972, 1121, 1355, 1505, 1764, 1846, 2020, 2190, 2352, 2551,
        2654, 2893, 3213, 3267, 3493, 3628, 3729, 3865, 4198, 4353, 4543, 4735, 4892, 5000,
        5097, 5201, 5273, 5477,
    ],
}  # fmt: skip


@dataclass(frozen=True)
class GoldDocument:
    name: str
    text: str
    ends: frozenset[int]


def _trim_end(text: str, end: int) -> int:
    while end > 0 and (text[end - 1].isspace() or text[end - 1] in _INVISIBLE):
        end -= 1
    return end


def _boundaries(text: str, ends: Iterator[int] | Sequence[int]) -> frozenset[int]:
    """Normalised sentence ends, without the end of the document."""
    trimmed = {_trim_end(text, end) for end in ends}
    trimmed.discard(_trim_end(text, len(text)))
    trimmed.discard(0)
    return frozenset(trimmed)


def _ends_with_terminal(sentence: str) -> bool:
    return sentence.rstrip(_CLOSING)[-1:] in {".", "!", "?", ":"}


def load_newsclaims(flat: bool) -> list[GoldDocument]:
    """Rebuild each newsclaims-dev article from its sentences (see the module docstring)."""
    path = DATA_DIR / "newsclaims-dev" / "sentences.json"
    with path.open(encoding="utf-8") as handle:
        articles = json.load(handle)
    documents = []
    for article_id, sentences in articles.items():
        ordered = sorted(sentences.values(), key=lambda item: item["start_char"])
        parts: list[str] = []
        cursor = 0
        previous = ""
        for item in ordered:
            start, sentence = item["start_char"], item["sentence"]
            if len(sentence) != item["end_char"] - start + 1 or start < cursor:
                raise ValueError(f"{article_id}: unexpected offsets {item}")
            gap = start - cursor
            if flat or (gap == 1 and _ends_with_terminal(previous)):
                parts.append(" " * gap)
            else:
                parts.append("\n" * gap)
            parts.append(sentence)
            cursor = start + len(sentence)
            previous = sentence
        text = "".join(parts)
        ends = [item["end_char"] + 1 for item in ordered]
        for item in ordered:
            assert text[item["start_char"] : item["end_char"] + 1] == item["sentence"]
        documents.append(GoldDocument(article_id, text, _boundaries(text, ends)))
    return documents


def load_articles() -> list[GoldDocument]:
    documents = []
    for name, ends in ARTICLE_GOLD_ENDS.items():
        with (DATA_DIR / "articles" / name).open(encoding="utf-8", newline="") as handle:
            text = handle.read()
        documents.append(GoldDocument(name, text, _boundaries(text, ends)))
    return documents


def load_hard_cases() -> list[GoldDocument]:
    documents = []
    for number, (text, sentences) in enumerate(HARD_CASES):
        ends, cursor = [], 0
        for sentence in sentences:
            cursor = text.index(sentence, cursor) + len(sentence)
            ends.append(cursor)
        documents.append(GoldDocument(f"case {number}", text, _boundaries(text, ends)))
    return documents


# --- measurement ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Score:
    true_positives: int
    false_positives: int
    false_negatives: int

    @property
    def precision(self) -> float:
        predicted = self.true_positives + self.false_positives
        return self.true_positives / predicted if predicted else 1.0

    @property
    def recall(self) -> float:
        gold = self.true_positives + self.false_negatives
        return self.true_positives / gold if gold else 1.0

    @property
    def f1(self) -> float:
        total = self.precision + self.recall
        return 2 * self.precision * self.recall / total if total else 0.0


@dataclass
class Evaluation:
    score: Score
    exact: int  # documents whose boundaries are all right
    span_errors: int
    failures: list[tuple[GoldDocument, frozenset[int]]]


def evaluate(name: str, segment: Segmenter, documents: list[GoldDocument]) -> Evaluation:
    tp = fp = fn = exact = errors = 0
    failures = []
    for document in documents:
        spans = segment(document.text)
        errors += span_errors(name, document.text, spans)
        predicted = _boundaries(document.text, [end for _, end, _ in spans])
        tp += len(predicted & document.ends)
        fp += len(predicted - document.ends)
        fn += len(document.ends - predicted)
        if predicted == document.ends:
            exact += 1
        else:
            failures.append((document, predicted))
    return Evaluation(Score(tp, fp, fn), exact, errors, failures)


def words_per_second(segment: Segmenter, documents: list[str], repeats: int) -> float:
    words = sum(len(text.split()) for text in documents)
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        for text in documents:
            segment(text)
        best = min(best, time.perf_counter() - started)
    return words / best


def speed_corpus(documents: list[GoldDocument], min_words: int) -> list[str]:
    texts = [document.text for document in documents]
    per_round = sum(len(text.split()) for text in texts)
    rounds = -(-min_words // per_round)
    return texts * rounds


def describe_failure(document: GoldDocument, predicted: frozenset[int]) -> str:
    text = document.text
    lines = [f"--- {document.name}"]
    for label, offsets in (
        ("missed", document.ends - predicted),
        ("extra", predicted - document.ends),
    ):
        for offset in sorted(offsets):
            context = text[max(0, offset - 40) : offset] + " || " + text[offset : offset + 30]
            lines.append(f"  {label:6} @{offset}: {context!r}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--words", type=int, default=1_000_000, help="speed corpus size")
    parser.add_argument("--repeats", type=int, default=3, help="speed runs; the best counts")
    parser.add_argument("--only", default="", help="comma-separated segmenter names")
    parser.add_argument("--show-failures", action="store_true", help="print wrong boundaries")
    args = parser.parse_args(argv)

    newsclaims = load_newsclaims(flat=False)
    newsclaims_flat = load_newsclaims(flat=True)
    articles = load_articles()
    hard = load_hard_cases()
    corpus = speed_corpus(articles + newsclaims, args.words)
    corpus_words = sum(len(text.split()) for text in corpus)
    gold_count = sum(len(document.ends) for document in newsclaims)
    print(
        f"newsclaims-dev: {len(newsclaims)} articles, {gold_count} inner boundaries; "
        f"hard cases: {len(hard)}; shared articles: {len(articles)}; "
        f"speed corpus: {len(corpus)} documents, {corpus_words} words, best of {args.repeats}",
        file=sys.stderr,
    )

    chosen = set(filter(None, args.only.split(",")))
    header = (
        f"{'segmenter':10} {'P':>6} {'R':>6} {'F1':>6} {'F1 flat':>8} {'hard':>7} "
        f"{'art. F1':>8} {'span err':>8} {'words/s':>11}"
    )
    rows = [header, "-" * len(header)]
    for name, segment in segmenters().items():
        if chosen and name not in chosen:
            continue
        layout = evaluate(name, segment, newsclaims)
        flat = evaluate(name, segment, newsclaims_flat)
        cases = evaluate(name, segment, hard)
        shared = evaluate(name, segment, articles)
        speed = words_per_second(segment, corpus, args.repeats)
        errors = layout.span_errors + flat.span_errors + cases.span_errors + shared.span_errors
        score = layout.score
        rows.append(
            f"{name:10} {score.precision:6.3f} {score.recall:6.3f} {score.f1:6.3f} "
            f"{flat.score.f1:8.3f} {cases.exact:>3}/{len(hard):<3} {shared.score.f1:8.3f} "
            f"{errors:8} {speed:11,.0f}"
        )
        print(rows[-1], file=sys.stderr)
        if args.show_failures:
            for label, result in (("newsclaims", layout), ("hard", cases), ("articles", shared)):
                print(f"=== {name} / {label}", file=sys.stderr)
                for document, predicted in result.failures:
                    print(describe_failure(document, predicted), file=sys.stderr)
    print("\n".join(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
