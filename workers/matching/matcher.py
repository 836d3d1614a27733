"""Match claims against fact-checks by words and by meaning, verify, and say how sure.

`FactCheckIndex(records)` keeps two views of a fact-check collection: a BM25 index (the
`bm25s` library) over each claim with its headline, and sentence embeddings of the claim and
of the headline (workers.extraction.encoder, cached by content under the model cache).
`index.match(queries, top=K)`:

1. candidates: the `candidates` best of each view, merged (a paraphrase with few words in
   common still comes from the embeddings, a rare name or number from the words);
2. features per candidate (FEATURES): cosine to the claim, to the headline, the larger of
   the two and how far it falls short of the query's best candidate, and BM25 divided by the
   query's best BM25;
3. `confidence`: a logistic model of those features (confidence.json, fitted by
   `python -m workers.matching.calibrate` on CLEF-2020 CheckThat! train qrels only) giving the
   probability that the fact-check reviews the same claim; candidates are ranked by it;
4. the guards of workers.matching.verification read the `top` best, and a `decision` follows:
   "refused" when a guard found a disagreement, else "match" at or above
   MatchSettings.match_threshold, "suggest" at or above suggest_threshold, else "none".

Every match carries its `reason`: the disagreement when refused, else what agrees.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import bm25s
import numpy as np

from workers.extraction.encoder import SentenceEncoder, load_encoder
from workers.matching.embeddings import encode_cached
from workers.matching.records import FactCheck
from workers.matching.verification import Details, Verification, details, verify

__all__ = [
    "CONFIDENCE_MODEL",
    "FEATURES",
    "ConfidenceModel",
    "FactCheckIndex",
    "Match",
    "MatchSettings",
    "bm25_scores",
    "bm25_tokens",
    "candidate_features",
    "decide",
    "rank",
]

CONFIDENCE_MODEL = Path(__file__).resolve().parent / "models" / "confidence.json"
# The guards are not features: fitted as such on CLEF-2020 train they took weights near zero
# or above it (tweets and Snopes claims word dates and numbers differently even when they
# match), so a disagreement decides the decision ("refused") and leaves the confidence alone.
# "cosine" is the larger of the two, "cosine_margin" how far it falls short of the query's best
# candidate: measured on CLEF-2020 dev (fitted on train), the margin added 0.02 MAP@5 there
# and 0.05 on CheckThat! 2022 2B dev, which the model never saw.
FEATURES = ("cosine_claim", "cosine_headline", "cosine", "cosine_margin", "bm25")
# The first-stage score orders the merged candidates before the model ranks them (it breaks
# ties and is what `first_stage` returns): cosine plus this share of the normalised BM25.
FIRST_STAGE_BM25_WEIGHT = 0.3
# BM25 parameters of the CLEF reference runs (SOURCE.txt of claim-retrieval-clef2020).
BM25_K1 = 1.2
BM25_B = 0.75


@dataclass(frozen=True)
class MatchSettings:
    """Thresholds and sizes of matching; every one can be set from the environment.

    - suggest_threshold (FACTCHECK_MATCH_SUGGEST_THRESHOLD, default 0.5): a reviewer is shown
      the match, as more likely the same claim than not;
    - match_threshold (FACTCHECK_MATCH_THRESHOLD, default 0.9): the match is taken as the
      same claim without a reviewer (still shown, and open to rejection);
    - candidates (FACTCHECK_MATCH_CANDIDATES, default 100): taken from each of BM25 and the
      embeddings before re-ranking.
    """

    suggest_threshold: float = 0.5
    match_threshold: float = 0.9
    candidates: int = 100

    def __post_init__(self) -> None:
        if not 0.0 <= self.suggest_threshold <= self.match_threshold <= 1.0:
            raise ValueError(
                "matching thresholds must satisfy 0 <= suggest <= match <= 1, got "
                f"suggest {self.suggest_threshold} and match {self.match_threshold}"
            )
        if self.candidates < 1:
            raise ValueError(f"FACTCHECK_MATCH_CANDIDATES must be >= 1, got {self.candidates}")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> MatchSettings:
        """The settings named in the environment, defaults for those unset."""
        env = os.environ if env is None else env
        names = {
            "suggest_threshold": ("FACTCHECK_MATCH_SUGGEST_THRESHOLD", float),
            "match_threshold": ("FACTCHECK_MATCH_THRESHOLD", float),
            "candidates": ("FACTCHECK_MATCH_CANDIDATES", int),
        }
        values: dict[str, Any] = {}
        for name, (variable, kind) in names.items():
            raw = env.get(variable, "").strip()
            if raw:
                try:
                    values[name] = kind(raw)
                except ValueError:
                    raise ValueError(f"{variable} must be a number, got {raw!r}") from None
        return cls(**values)


@dataclass(frozen=True)
class ConfidenceModel:
    """Logistic regression over FEATURES: confidence = sigmoid(coef . features + intercept)."""

    coef: tuple[float, ...]
    intercept: float
    fitted_on: str = ""

    @classmethod
    def load(cls, path: Path = CONFIDENCE_MODEL) -> ConfidenceModel:
        """The model written by workers.matching.calibrate."""
        data = json.loads(path.read_text(encoding="utf-8"))
        if tuple(data["features"]) != FEATURES:
            raise ValueError(f"{path} was fitted on features {data['features']}, not {FEATURES}")
        return cls(
            coef=tuple(float(c) for c in data["coef"]),
            intercept=float(data["intercept"]),
            fitted_on=str(data.get("fitted_on", "")),
        )

    def confidence(self, features: np.ndarray) -> np.ndarray:
        """Probabilities (0..1) for rows of features in FEATURES order."""
        logits = np.asarray(features, dtype=np.float64) @ np.asarray(self.coef) + self.intercept
        return 1.0 / (1.0 + np.exp(-logits))


@dataclass(frozen=True)
class Match:
    """A fact-check found for a query, how sure, and why."""

    factcheck: FactCheck
    confidence: float
    decision: str
    reason: str
    agrees: tuple[str, ...] = ()
    disagrees: tuple[str, ...] = ()
    scores: Mapping[str, float] = field(default_factory=dict)
    # The guards that disagreed ("number", "date", ...), one a reason of `disagrees`.
    refused_by: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """The match as the CLI and API print it."""
        record = self.factcheck
        return {
            "url": record.url,
            "key": record.key,
            "claim": record.claim,
            "confidence": round(self.confidence, 4),
            "decision": self.decision,
            "reason": self.reason,
            "agrees": list(self.agrees),
            "disagrees": list(self.disagrees),
            "refused_by": list(self.refused_by),
            "rating": record.rating,
            "publisher": record.publisher,
            "licence": record.licence,
            "date": record.date,
            "scores": {name: round(value, 4) for name, value in self.scores.items()},
        }


def bm25_tokens(texts: Sequence[str]) -> list[list[str]]:
    """Lower-cased word tokens of two characters or more, no stop words removed."""
    tokens = bm25s.tokenize(list(texts), stopwords=None, show_progress=False, return_ids=False)
    return [list(t) for t in tokens]


def _bm25_index(texts: Sequence[str]) -> bm25s.BM25:
    index = bm25s.BM25(k1=BM25_K1, b=BM25_B)
    index.index(bm25_tokens(texts), show_progress=False)
    return index


def bm25_scores(index: bm25s.BM25, query: str) -> np.ndarray:
    """BM25 of `query` against every document of `index` (zeros when it has no known word)."""
    return np.asarray(index.get_scores(bm25_tokens([query])[0]), dtype=np.float64)


class FactCheckIndex:
    """A fact-check collection searchable by words and by meaning."""

    def __init__(
        self,
        records: Sequence[FactCheck],
        encoder: SentenceEncoder | None = None,
        model: ConfidenceModel | None = None,
        settings: MatchSettings | None = None,
    ) -> None:
        if not records:
            raise ValueError("no fact-checks to match against")
        self.records = list(records)
        self.settings = MatchSettings.from_env() if settings is None else settings
        self.model = ConfidenceModel.load() if model is None else model
        self.encoder = load_encoder() if encoder is None else encoder
        self.bm25 = _bm25_index([_document(r) for r in self.records])
        self.claim_vectors = encode_cached([r.claim for r in self.records], self.encoder)
        # A record without a headline is matched on its claim twice: its vector is reused.
        self.headline_vectors = self.claim_vectors.copy()
        headlined = [row for row, record in enumerate(self.records) if record.headline]
        if headlined:
            self.headline_vectors[headlined] = encode_cached(
                [self.records[row].headline or "" for row in headlined], self.encoder
            )
        self._details: dict[int, Details] = {}

    def first_stage(self, query: str, vector: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Candidate rows, best first by the first-stage score, and their rows of FEATURES."""
        words = bm25_scores(self.bm25, query)
        best = float(words.max()) if len(words) else 0.0
        words = words / best if best > 0 else words
        claim = self.claim_vectors @ vector
        headline = self.headline_vectors @ vector
        count = min(self.settings.candidates, len(self.records))
        rows = np.union1d(_top(words, count), _top(np.maximum(claim, headline), count))
        order, features = candidate_features(claim[rows], headline[rows], words[rows])
        return rows[order], features

    def verify_row(self, query: Details, row: int) -> Verification:
        """The guards' findings between a query and the fact-check at `row`."""
        if row not in self._details:
            self._details[row] = details(self.records[row].claim)
        return verify(query, self._details[row])

    def candidates(self, query: str, vector: np.ndarray, top: int) -> list[Match]:
        """Up to `top` matches of one query, best first."""
        rows, features = self.first_stage(query, vector)
        query_details = details(query)
        return rank(
            features,
            self.model,
            self.settings,
            top,
            record=lambda i: self.records[int(rows[i])],
            verification=lambda i: self.verify_row(query_details, int(rows[i])),
        )

    def match(self, queries: Sequence[str], top: int = 10) -> list[list[Match]]:
        """Up to `top` matches of each query, best first, weak ones included."""
        if top < 1:
            raise ValueError("top must be at least 1")
        vectors = self.encoder.encode(list(queries))
        return [self.candidates(q, v, top) for q, v in zip(queries, vectors, strict=True)]


def candidate_features(
    claim: np.ndarray, headline: np.ndarray, words: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """One query's candidates in first-stage order and their rows of FEATURES.

    `claim` and `headline` are the cosines of the query to each candidate's claim and
    headline, `words` its word score divided by the best any fact-check got (0..1). The
    first-stage score is the nearer cosine plus FIRST_STAGE_BM25_WEIGHT of the words.
    """
    meaning = np.maximum(claim, headline)
    if not len(meaning):
        return np.arange(0), np.zeros((0, len(FEATURES)))
    order = np.argsort(-(meaning + FIRST_STAGE_BM25_WEIGHT * words), kind="stable")
    features = np.column_stack([claim, headline, meaning, meaning - meaning.max(), words])
    return order, features[order]


def rank(
    features: np.ndarray,
    model: ConfidenceModel,
    settings: MatchSettings,
    top: int,
    *,
    record: Callable[[int], FactCheck],
    verification: Callable[[int], Verification],
) -> list[Match]:
    """The `top` candidates by confidence, each verified and decided.

    `features` are the candidates' rows of FEATURES (candidate_features); `record(i)` and
    `verification(i)` give candidate i's fact-check and the guards' findings on it, asked
    only of the `top` kept.
    """
    confidence = model.confidence(features)
    order = np.argsort(-confidence, kind="stable")[:top]
    return [
        decide(record(int(i)), float(confidence[i]), features[i], verification(int(i)), settings)
        for i in order
    ]


def decide(
    record: FactCheck,
    confidence: float,
    features: np.ndarray,
    finding: Verification,
    settings: MatchSettings,
) -> Match:
    """The match of one candidate: refused when a guard disagrees, else by the thresholds."""
    scores = dict(zip(FEATURES, features, strict=True))
    if finding.refused:
        decision = "refused"
        reason = str(finding.reason)
    else:
        if confidence >= settings.match_threshold:
            decision = "match"
        elif confidence >= settings.suggest_threshold:
            decision = "suggest"
        else:
            decision = "none"
        reason = f"meaning {scores['cosine']:.2f}, words {scores['bm25']:.2f}"
        if finding.agreements:
            reason += "; agrees on " + ", ".join(finding.agreements)
    return Match(
        factcheck=record,
        confidence=confidence,
        decision=decision,
        reason=reason,
        agrees=tuple(finding.agreements),
        disagrees=tuple(d.reason for d in finding.disagreements),
        scores={name: float(value) for name, value in scores.items()},
        refused_by=tuple(d.guard for d in finding.disagreements),
    )


def _document(record: FactCheck) -> str:
    return f"{record.claim} {record.headline}" if record.headline else record.claim


def _top(values: np.ndarray, count: int) -> np.ndarray:
    if count >= len(values):
        return np.arange(len(values))
    return np.argpartition(-values, count - 1)[:count]
