"""Evaluate the shipped check-worthiness model on every labelled set in the shared data folder.

``python -m workers.extraction.evaluate [--data DIR] [--model PATH]`` prints precision,
recall and F1 of the positive class and average precision for ClaimBuster groundtruth,
CheckThat! 2024 dev-test and newsclaims-dev (plus recall of labelled claims and the share of
sentences flagged), next to the published reference figures from each set's SOURCE.txt.
On newsclaims-dev it also prints claimer accuracy and how closely the engine's candidate
spans cover the labelled claim spans, with and without its reported-speech spans.

The data loaders and metrics here are also what :mod:`workers.extraction.train` uses, so
training and evaluation read the files the same way.
"""

from __future__ import annotations

import argparse
import csv
import importlib
import json
import os
import sys
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from workers.extraction.checkworthiness import (
    BASELINE_MODEL_PATH,
    CheckworthinessModel,
    load_model,
)
from workers.extraction.engine import Engine

DATA_DIR_ENV = "FACTCHECK_DATA_DIR"
REPO_ROOT = Path(__file__).resolve().parents[2]

# Published reference figures, quoted from each set's SOURCE.txt in the shared data folder.
# checkthat2024/SOURCE.txt: best English system of CheckThat! 2024 (FactFinders, fine-tuned
# open LLMs) reported F1 ~0.80 of the Yes class -- on the task's *test* split, not dev-test.
REFERENCE_CHECKTHAT_F1 = 0.80
# newsclaims-dev/SOURCE.txt: ClaimBuster reached recall 0.865 at precision 0.13 on the
# NewsClaims *test* split (sentence-level claim detection).
REFERENCE_NEWSCLAIMS_RECALL = 0.865
REFERENCE_NEWSCLAIMS_PRECISION = 0.13
# claimbuster/SOURCE.txt quotes no figure for groundtruth.csv.


@dataclass(frozen=True)
class LabelledSentence:
    """One sentence with its binary label and where it comes from."""

    text: str
    label: bool
    # Debate file or article id: sentences of one document never straddle a split.
    document: str
    # Relative position in its document, 0..1, or None when unknown.
    position: float | None = None


@dataclass(frozen=True)
class BinaryMetrics:
    """Positive-class metrics at one threshold, plus threshold-free average precision."""

    precision: float
    recall: float
    f1: float
    average_precision: float
    flagged_fraction: float
    n: int
    n_positive: int


def data_dir(override: str | os.PathLike[str] | None = None) -> Path:
    """The shared data folder: `override`, else $FACTCHECK_DATA_DIR, else <repo>/../shared/data."""
    if override:
        return Path(override)
    if os.environ.get(DATA_DIR_ENV):
        return Path(os.environ[DATA_DIR_ENV])
    return REPO_ROOT.parent / "shared" / "data"


def load_claimbuster(directory: Path, name: str) -> list[LabelledSentence]:
    """ClaimBuster `name` ("crowdsourced" or "groundtruth"): Verdict 1 (CFS) is positive.

    Positions are Line_number divided by the largest line number seen for the same debate in
    either ClaimBuster file (only line numbers are shared between the files, never labels).
    """
    last_line: dict[str, int] = {}
    for other in ("crowdsourced", "groundtruth"):
        path = directory / "claimbuster" / f"{other}.csv"
        if path.is_file():
            for row in _read_csv(path):
                debate, line = row["File_id"], int(row["Line_number"])
                last_line[debate] = max(last_line.get(debate, 0), line)
    return [
        LabelledSentence(
            text=row["Text"],
            label=row["Verdict"] == "1",
            document=row["File_id"],
            position=int(row["Line_number"]) / max(last_line[row["File_id"]], 1),
        )
        for row in _read_csv(directory / "claimbuster" / f"{name}.csv")
    ]


def load_checkthat(directory: Path) -> list[LabelledSentence]:
    """CheckThat! 2024 English dev-test: class_label Yes is positive; position unknown."""
    path = directory / "checkthat2024" / "CT24_checkworthy_english_dev-test.tsv"
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE))
    return [
        LabelledSentence(
            text=row["Text"].strip().strip('"'),
            label=row["class_label"].strip() == "Yes",
            document="checkthat2024-dev-test",
        )
        for row in rows
    ]


def load_checkthat_debates(directory: Path) -> list[LabelledSentence]:
    """CheckThat! 2019 task 1 and 2020 task 5 debates and speeches: label 1 is positive.

    The editions share documents: a (document, line) in both keeps the 2020 (v2) label, the
    later relabelling. Rows whose text is also in ClaimBuster (`in_claimbuster`) are left out,
    since ClaimBuster is trained on, or evaluated on, as it is. Positions are the line over the
    document's last line.
    """
    path = directory / "checkthat-debates" / "checkthat_debates_en.tsv"
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE))
    kept: dict[tuple[str, int], dict[str, str]] = {}
    for row in sorted(rows, key=lambda r: r["source_set"].startswith("ct2020")):
        kept[(row["document"], int(row["line"]))] = row  # 2020 rows come last and win
    last_line: dict[str, int] = {}
    for document, line in kept:
        last_line[document] = max(last_line.get(document, 0), line)
    return [
        LabelledSentence(
            text=row["text"],
            label=row["label"] == "1",
            document=f"checkthat-debates:{document}",
            position=line / max(last_line[document], 1),
        )
        for (document, line), row in sorted(kept.items())
        if row["in_claimbuster"] != "1" and row["text"].strip()
    ]


def normalised_text(text: str) -> str:
    """Text as the shared sets' SOURCE.txt files match it: NFKC, lower case, punctuation as
    spaces, whitespace collapsed."""
    folded = unicodedata.normalize("NFKC", text).lower()
    return " ".join(
        "".join(" " if unicodedata.category(c)[0] in "PS" else c for c in folded).split()
    )


def _bare_claim(text: str) -> str:
    """A PolitiFact claim as a sentence: without the quotes around the whole of it, and
    without the "Says ..." PolitiFact writes when it paraphrases (its speaker left out: no
    sentence of a news article or debate reads like that)."""
    text = text.strip()
    for _ in range(2):  # either may wrap the other
        if text.startswith(("Says ", "Said ")) and len(text) > 5:
            text = text[5].upper() + text[6:]
        if len(text) >= 2 and text[0] in '"“' and text[-1] in '"”' and text.count('"') <= 2:
            text = text[1:-1].strip()
    return text


def load_fact_checked_claims(directory: Path) -> list[LabelledSentence]:
    """Claims PolitiFact checked (../fact-checked-claims): every one positive, check-worthy by
    construction, whatever its rating. Surrounding quotes are taken off; a claim whose
    normalised text was already read (LIAR repeats most of the CheckThat! 2022 collection) is
    left out. Each claim is a document of its own; position unknown."""
    path = directory / "fact-checked-claims" / "fact_checked_claims.tsv"
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE))
    seen: set[str] = set()
    claims: list[LabelledSentence] = []
    for row in rows:
        text = _bare_claim(row["claim"])
        key = normalised_text(text)
        if not key or key in seen:
            continue
        seen.add(key)
        claims.append(LabelledSentence(text=text, label=True, document=row["claim_id"]))
    return claims


def load_subjectivity(directory: Path) -> list[LabelledSentence]:
    """CheckThat! subjectivity in news (../subjectivity-news), train and dev: SUBJ (the
    author's opinion) is positive here, OBJ negative. Each sentence is a document of its own."""
    path = directory / "subjectivity-news" / "subjectivity_en.tsv"
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE))
    return [
        LabelledSentence(
            text=row["sentence"].strip(),
            label=row["label"] == "SUBJ",
            document=f"subjectivity:{row['sentence_id']}",
        )
        for row in rows
        if row["sentence"].strip()
    ]


def load_news_text(directory: Path, split: str | None = None) -> list[LabelledSentence]:
    """The team's labels of ../shared/data/news-text (workers/extraction/labels), every
    segment of the articles of `split` ("train", "dev", None for both) that has a label."""
    from workers.extraction import news_labels  # it imports this module

    labels = {label.key: label.label for label in news_labels.read_labels(news_labels.FIRST_PASS)}
    sentences: list[LabelledSentence] = []
    for article in news_labels.load_articles(directory):
        if split is not None and news_labels.split_of(article["id"]) != split:
            continue
        length = max(len(article["body"]), 1)
        sentences.extend(
            LabelledSentence(
                text=segment.text,
                label=labels[segment.key],
                document=f"news-text:{article['id']}",
                position=segment.start / length,
            )
            for segment in news_labels.article_segments(article)
            if segment.key in labels
        )
    return sentences


def load_newsclaims_articles(directory: Path) -> dict[str, list[tuple[str, str]]]:
    """newsclaims-dev articles as {article id: [(sentence id, sentence), ...]} in text order."""
    with (directory / "newsclaims-dev" / "sentences.json").open(encoding="utf-8") as handle:
        raw = json.load(handle)
    return {
        article: [
            (sentence_id, fields["sentence"])
            for sentence_id, fields in sorted(sentences.items(), key=lambda i: i[1]["start_char"])
        ]
        for article, sentences in raw.items()
    }


def load_newsclaims_claims(directory: Path) -> dict[str, dict[str, dict]]:
    """newsclaims-dev labelled claims: {article id: {sentence id: annotation}}."""
    with (directory / "newsclaims-dev" / "claims.json").open(encoding="utf-8") as handle:
        return json.load(handle)


def load_newsclaims(directory: Path) -> list[LabelledSentence]:
    """Every newsclaims-dev sentence; positive when its id is a labelled claim."""
    claims = load_newsclaims_claims(directory)
    labelled: list[LabelledSentence] = []
    for article, sentences in load_newsclaims_articles(directory).items():
        claim_ids = claims.get(article, {})
        last = max(len(sentences) - 1, 1)
        labelled.extend(
            LabelledSentence(
                text=text, label=sentence_id in claim_ids, document=article, position=i / last
            )
            for i, (sentence_id, text) in enumerate(sentences)
        )
    return labelled


def _read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def average_precision(labels: ArrayLike, scores: ArrayLike) -> float:
    """Area under the precision-recall curve as a step function (as scikit-learn computes it)."""
    labels = np.asarray(labels, dtype=bool)
    n_positive = int(labels.sum())
    if n_positive == 0:
        return float("nan")
    order = np.argsort(-np.asarray(scores, dtype=np.float64), kind="mergesort")
    sorted_scores = np.asarray(scores, dtype=np.float64)[order]
    true_positives = np.cumsum(labels[order])
    # Tied scores form one step: only the last index of each run of equal scores counts.
    last_of_tie = np.r_[np.diff(sorted_scores) != 0, True]
    tp = true_positives[last_of_tie]
    flagged = (np.arange(1, len(labels) + 1))[last_of_tie]
    precision = tp / flagged
    recall_gain = np.diff(np.r_[0, tp]) / n_positive
    return float(np.sum(precision * recall_gain))


def binary_metrics(labels: ArrayLike, scores: ArrayLike, threshold: float) -> BinaryMetrics:
    """Precision, recall and F1 of the positive class for `scores >= threshold`."""
    label_array = np.asarray(labels, dtype=bool)
    score_array = np.asarray(scores, dtype=np.float64)
    flagged = score_array >= threshold
    true_positives = int(np.sum(flagged & label_array))
    precision = true_positives / max(int(flagged.sum()), 1)
    recall = true_positives / max(int(label_array.sum()), 1)
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return BinaryMetrics(
        precision=precision,
        recall=recall,
        f1=f1,
        average_precision=average_precision(label_array, score_array),
        flagged_fraction=float(flagged.mean()) if len(flagged) else 0.0,
        n=len(label_array),
        n_positive=int(label_array.sum()),
    )


def calibration_errors(labels: ArrayLike, probabilities: ArrayLike) -> tuple[float, float]:
    """(Brier score, expected calibration error over 10 equal-width bins)."""
    label_array = np.asarray(labels, dtype=np.float64)
    probability_array = np.asarray(probabilities, dtype=np.float64)
    brier = float(np.mean((probability_array - label_array) ** 2))
    bins = np.minimum((probability_array * 10).astype(int), 9)
    ece = 0.0
    for b in range(10):
        in_bin = bins == b
        if in_bin.any():
            gap = abs(probability_array[in_bin].mean() - label_array[in_bin].mean())
            ece += in_bin.mean() * gap
    return brier, float(ece)


def score_sentences(
    model: CheckworthinessModel, sentences: Sequence[LabelledSentence]
) -> list[float]:
    """Model probabilities for labelled sentences, passing positions when they are known."""
    texts = [s.text for s in sentences]
    if all(s.position is not None for s in sentences):
        return model.score(texts, positions=[s.position for s in sentences])
    return model.score(texts)


def _same_claimer(expected: str, predicted: str | None) -> bool:
    """Case-insensitively, the same claimer, or one name inside the other ("Fauci")."""
    expected, got = expected.strip().lower(), (predicted or "").strip().lower()
    return bool(got) and (got in expected or expected in got)


def claimer_accuracy(
    attribute: Callable[[list[str]], list[str | None]],
    articles: dict[str, list[tuple[str, str]]],
    claims: dict[str, dict[str, dict]],
) -> tuple[float, int]:
    """Share of labelled claims whose speaker `attribute` names correctly, and their number.

    `attribute(article_sentences)` returns one speaker (or None) per sentence of an article.
    A prediction counts as correct when, case-insensitively, it equals the annotated claimer
    or one contains the other ("Fauci" for "Dr. Anthony Fauci"). Claims annotated without a
    claimer count as correct when the prediction is None.
    """
    correct = 0
    total = 0
    for article, sentences in articles.items():
        speakers = attribute([text for _, text in sentences])
        by_id = dict(zip((sentence_id for sentence_id, _ in sentences), speakers, strict=True))
        for sentence_id, annotation in claims.get(article, {}).items():
            if sentence_id not in by_id:
                continue
            total += 1
            expected = (annotation.get("claimer") or "").strip()
            if not expected:
                correct += not (by_id[sentence_id] or "").strip()
            else:
                correct += _same_claimer(expected, by_id[sentence_id])
    return (correct / total if total else float("nan")), total


def _load_speaker_attribution() -> Callable[[list[str]], list[str | None]] | None:
    """Speaker attribution over an article's sentences, or None while it is unavailable.

    The speakers module works on a body and its segments; the article is rebuilt as its
    sentences joined by single spaces (newsclaims-dev keeps no paragraph breaks).
    """
    try:
        speakers = importlib.import_module("workers.extraction.speakers")
        segment_module = importlib.import_module("workers.extraction.segment")
        attribute_speakers = speakers.attribute_speakers
        segment_class = segment_module.Segment
    except (ImportError, AttributeError):
        return None

    def attribute(article_sentences: list[str]) -> list[str | None]:
        body, starts = _joined(article_sentences)
        segments = [
            segment_class(start, start + len(sentence), sentence, "sentence")
            for start, sentence in zip(starts, article_sentences, strict=True)
        ]
        return attribute_speakers(body, segments)

    return attribute


def _joined(article_sentences: Sequence[str]) -> tuple[str, list[int]]:
    """An article rebuilt as its sentences joined by single spaces, and where each starts
    (newsclaims-dev keeps no paragraph breaks)."""
    starts, position = [], 0
    for sentence in article_sentences:
        starts.append(position)
        position += len(sentence) + 1
    return " ".join(article_sentences), starts


@dataclass(frozen=True)
class SpanMatch:
    """How closely candidate spans cover labelled claim spans (character IoU of the best)."""

    n: int  # labelled claims with a claim span
    mean_without: float  # mean best IoU over candidates other than reported spans
    mean_with: float  # mean best IoU over every candidate
    improved: int  # claims a reported span covers better than any other candidate
    improved_speaker_correct: int  # of those, how many the span's speaker names the claimer
    reported: int  # reported spans over the whole set


def _overlap(a: tuple[int, int], b: tuple[int, int]) -> float:
    inside = min(a[1], b[1]) - max(a[0], b[0])
    return max(inside, 0) / (max(a[1], b[1]) - min(a[0], b[0]))


def span_match(
    extract: Callable[[str], list[dict[str, Any]]],
    articles: dict[str, list[tuple[str, str]]],
    claims: dict[str, dict[str, dict]],
) -> SpanMatch:
    """Best character IoU between each labelled `claim_span` and the candidates `extract`
    makes of its article, with and without the candidates of kind "reported".

    newsclaims-dev's `claim_span` is [first, last] character of the sentence, both included
    (read as half-open, every span loses its last character).
    """
    without: list[float] = []
    with_reported: list[float] = []
    improved = speaker_correct = reported = 0
    for article, sentences in articles.items():
        body, starts = _joined([text for _, text in sentences])
        candidates = extract(body)
        reported += sum(c["kind"] == "reported" for c in candidates)
        offsets = {sentence_id: starts[i] for i, (sentence_id, _) in enumerate(sentences)}
        for sentence_id, annotation in claims.get(article, {}).items():
            if "claim_span" not in annotation or sentence_id not in offsets:
                continue
            first, last = annotation["claim_span"]
            gold = (offsets[sentence_id] + first, offsets[sentence_id] + last + 1)
            best_other, best_reported, best_span = 0.0, 0.0, None
            for candidate in candidates:
                score = _overlap(gold, (candidate["start"], candidate["end"]))
                if candidate["kind"] != "reported":
                    best_other = max(best_other, score)
                elif score > best_reported:
                    best_reported, best_span = score, candidate
            without.append(best_other)
            with_reported.append(max(best_other, best_reported))
            if best_span is not None and best_reported > best_other:
                improved += 1
                speaker_correct += _same_claimer(
                    annotation.get("claimer") or "", best_span["speaker"]
                )
    return SpanMatch(
        n=len(without),
        mean_without=float(np.mean(without)) if without else float("nan"),
        mean_with=float(np.mean(with_reported)) if with_reported else float("nan"),
        improved=improved,
        improved_speaker_correct=speaker_correct,
        reported=reported,
    )


def recall_at_flagged_fraction(labels: np.ndarray, scores: np.ndarray, fraction: float) -> float:
    """Recall when the top `fraction` of sentences by score are flagged."""
    n_flagged = int(np.floor(fraction * len(scores)))
    top = np.argsort(-scores, kind="mergesort")[:n_flagged]
    return float(labels[top].sum() / max(labels.sum(), 1))


def flagged_fraction_for_recall(labels: np.ndarray, scores: np.ndarray, recall: float) -> float:
    """Smallest share of sentences, taken by descending score, that reaches `recall`."""
    found = np.cumsum(labels[np.argsort(-scores, kind="mergesort")])
    needed = int(np.ceil(recall * labels.sum()))
    return float((np.searchsorted(found, needed) + 1) / len(scores))


def report_set(
    name: str, sentences: Sequence[LabelledSentence], model: CheckworthinessModel
) -> tuple[np.ndarray, np.ndarray, BinaryMetrics]:
    """Print the metrics and calibration of `model` on one labelled set, and return them."""
    labels = np.array([s.label for s in sentences], dtype=bool)
    scores = np.array(score_sentences(model, sentences))
    metrics = binary_metrics(labels, scores, model.threshold)
    brier, ece = calibration_errors(labels, scores)
    print(f"{name}: {_format_metrics(metrics)}")
    print(f"  calibration: Brier {brier:.4f}  ECE {ece:.4f}")
    return labels, scores, metrics


def _format_metrics(metrics: BinaryMetrics) -> str:
    return (
        f"precision {metrics.precision:.3f}  recall {metrics.recall:.3f}  "
        f"F1 {metrics.f1:.3f}  AP {metrics.average_precision:.3f}  "
        f"(n={metrics.n}, positives={metrics.n_positive})"
    )


def report_news(
    name: str, sentences: Sequence[LabelledSentence], model: CheckworthinessModel, note: str
) -> None:
    """A news set's metrics, with recall, share flagged and the ranking at 40% flagged."""
    labels, scores, metrics = report_set(name, sentences, model)
    print(
        f"  recall of labelled claims {metrics.recall:.3f}, "
        f"sentences flagged {metrics.flagged_fraction:.3f}{note}"
    )
    print(
        f"  ranking: recall {recall_at_flagged_fraction(labels, scores, 0.40):.3f} when the top "
        f"40% are flagged; {flagged_fraction_for_recall(labels, scores, 0.90):.3f} of "
        f"sentences must be flagged for recall 0.90"
    )


def report_model(directory: Path, model: CheckworthinessModel) -> None:
    """Every labelled set that is present, scored by `model`."""
    print(f"model {model.version}, threshold {model.threshold:.3f}")
    report_set("ClaimBuster groundtruth", load_claimbuster(directory, "groundtruth"), model)
    print("  reference: none quoted in claimbuster/SOURCE.txt")
    report_set("CheckThat! 2024 dev-test", load_checkthat(directory), model)
    print(f"  reference: best 2024 system F1 {REFERENCE_CHECKTHAT_F1:.2f} (on the test split)")
    report_news(
        "newsclaims-dev",
        load_newsclaims(directory),
        model,
        " (precision is a lower bound: only four COVID-19 topics were labelled)",
    )
    print(
        f"  reference: ClaimBuster recall {REFERENCE_NEWSCLAIMS_RECALL:.3f} at precision "
        f"{REFERENCE_NEWSCLAIMS_PRECISION:.2f} (on the test split)"
    )
    if (directory / "news-text").is_dir():
        report_news(
            "news-text dev (this team's labels, 11 articles)",
            load_news_text(directory, "dev"),
            model,
            "",
        )


def main(argv: Sequence[str] | None = None) -> int:
    """Print the metrics of the models on every labelled set that is present."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data", help=f"shared data folder (default: ${DATA_DIR_ENV} or ../shared/data)"
    )
    parser.add_argument(
        "--model", help="model file (default: the shipped model, next to the linear baseline)"
    )
    args = parser.parse_args(argv)
    directory = data_dir(args.data)
    if not directory.is_dir():
        print(f"data folder {directory} not found", file=sys.stderr)
        return 2
    if args.model:
        models = [("model", load_model(args.model))]
    else:
        models = [
            ("shipped model (hashed features + sentence embedding)", load_model()),
            ("baseline: the linear model of hashed features only", load_model(BASELINE_MODEL_PATH)),
        ]
    for title, model in models:
        print(f"== {title}")
        report_model(directory, model)
    attribute = _load_speaker_attribution()
    if attribute is None:
        print("claimer accuracy (newsclaims-dev): n/a (speakers module unavailable)")
    else:
        accuracy, n_claims = claimer_accuracy(
            attribute, load_newsclaims_articles(directory), load_newsclaims_claims(directory)
        )
        print(f"claimer accuracy (newsclaims-dev): {accuracy:.3f} over {n_claims} labelled claims")
    engine = Engine(model=models[0][1])
    match = span_match(
        lambda body: engine.extract(body, "en"),
        load_newsclaims_articles(directory),
        load_newsclaims_claims(directory),
    )
    print(
        f"claim spans (newsclaims-dev): mean best IoU {match.mean_with:.3f} over {match.n} "
        f"labelled spans "
        f"({match.mean_without:.3f} without reported spans); {match.reported} reported spans "
        f"made, closer than any other candidate for {match.improved} labelled claims "
        f"(their speaker the claimer for {match.improved_speaker_correct})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
