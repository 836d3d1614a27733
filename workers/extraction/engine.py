"""Text in, candidate claims out: the engine's single entry point.

Every segment of a body becomes a candidate claim, anchored by code-point offsets
(`body[start:end] == text`) with W3C TextQuoteSelector context, scored for check-worthiness,
typed, attributed to a speaker, and annotated with the quantities, dates and entities it
rests on (their offsets are into the body too).

Choices:
- Boilerplate (bylines, metadata lines, datelines, photo captions, credits) is kept as a
  non-claim: score 0, never check-worthy.
  Headlines are scored: they often carry the article's main claim.
- A compound sentence ("X rose 5%, but Y fell 3%") stays a claim, and each independent
  clause is offered as its own claim too (kind "clause"), so a reviewer can check either.
- Reported speech ("X said (that) Y", "Y, X said", "According to X, Y", '"Y," X said')
  stays a claim, and what was said, Y, is offered as its own claim too (kind "reported",
  speaker X; see reported.py), so the fact inside the report is a span a reviewer can rate.
  Y is not offered when it is a question, an opinion (its only type), under four words, or
  has no speaker the engine can name. In a compound sentence Y is cut from each clause, with
  the clause's speaker; a Y that is itself compound (a quotation's "A, but B") is offered
  whole, never split again: its clauses are what the sentence's clauses already offer.
- Only English is scored. Other languages are segmented and annotated, with
  `checkworthiness` and `checkworthy` null and `scored` false: never a guessed score.
- Every claim gets its `embedding` from the shipped sentence encoder
  (:mod:`workers.extraction.encoder`); the same vector feeds the check-worthiness model and
  is stored for matching claims against fact-checks. One forward pass per sentence serves
  everything: a clause's or reported span's vector is the mean of its sentence's token
  states over the span's word pieces (with the sentence's [CLS] and [SEP]), not a second
  encoding of its text. So a clause scored by `extract` reads its sentence around it and
  may score differently from the same words sent alone to `score` (MODEL_CARD.md measures
  how much); a sentence gets one vector and one score by any entry point.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import numpy as np

# CLAIM_KINDS: every kind a claim of this engine (or a reviewer's span) can have.
from service.vocabulary import CLAIM_KINDS as CLAIM_KINDS
from service.vocabulary import NON_CLAIM_KINDS
from workers.extraction.checkworthiness import CheckworthinessModel, load_model
from workers.extraction.claimtypes import classify_types
from workers.extraction.compound import split_compound
from workers.extraction.dates import find_dates
from workers.extraction.encoder import SentenceEncoder, load_encoder
from workers.extraction.entities import find_entities
from workers.extraction.language import detect_language, primary_language
from workers.extraction.quantities import find_quantities
from workers.extraction.reported import reported_span
from workers.extraction.segment import Segment, split_sentences
from workers.extraction.speakers import (
    Attribution,
    attribute,
    attribute_speakers,
    clause_attribution,
)

# Characters of context kept either side of a claim, to re-anchor it in a revised body.
CONTEXT_CHARS = 32
SCORED_LANGUAGES = frozenset({"en"})
# Short or ambiguous Latin-script text detects as "und"; it is scored as the default language,
# since only a confident detection of another language should withhold a score.
DEFAULT_LANGUAGE = "en"


class TooManyCandidates(ValueError):
    """The text holds more candidate claims than the engine was allowed to produce."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"more than {limit} candidate claims")
        self.limit = limit


def _language(text: str, declared: str | None) -> str:
    """The declared language's primary subtag ("en-GB" is "en"), else the detected one."""
    if declared:
        return primary_language(declared)
    found = detect_language(text)
    return DEFAULT_LANGUAGE if found == "und" else found


def _shift(items: list[dict[str, Any]], offset: int) -> list[dict[str, Any]]:
    for item in items:
        item["start"] += offset
        item["end"] += offset
    return items


class Engine:
    """The extraction engine with its model and threshold loaded once.

    `max_candidates` bounds the work of one `extract`: past it, TooManyCandidates is raised,
    as soon as segmenting shows it or the clauses and reported spans pass it, before the
    rest is annotated.
    """

    def __init__(
        self,
        model: CheckworthinessModel | None = None,
        threshold: float | None = None,
        max_candidates: int | None = None,
        encoder: SentenceEncoder | None = None,
    ) -> None:
        self.model = model or load_model()
        self.threshold = self.model.threshold if threshold is None else threshold
        self.max_candidates = max_candidates
        self.encoder = encoder or load_encoder()

    def extract(self, body: str, language: str | None = None) -> list[dict[str, Any]]:
        """Every candidate claim of `body`, in text order: each sentence, then its clauses and
        reported spans (a clause before what it reports)."""
        language = _language(body, language)
        segments = split_sentences(body)
        most = self.max_candidates
        if most is not None and len(segments) > most:
            raise TooManyCandidates(most)
        claims: list[dict[str, Any]] = []
        sentence_of: list[int | None] = []  # a clause's or reported span's sentence
        for segment, attribution in zip(segments, attribute(body, segments), strict=True):
            sentence = self._annotate(body, segment, attribution.speaker, language)
            index = len(claims)
            claims.append(sentence)
            sentence_of.append(None)
            if segment.kind == "sentence":
                parts = self._parts(body, segment, attribution, sentence)
                claims.extend(parts)
                sentence_of.extend([index] * len(parts))
            if most is not None and len(claims) > most:
                raise TooManyCandidates(most)
        self._score(claims, in_document=True, sentence_of=sentence_of)
        return claims

    def _parts(
        self, body: str, segment: Segment, attribution: Attribution, sentence: dict[str, Any]
    ) -> list[dict[str, Any]]:
        """The clauses of a sentence, each followed by what it reports its speaker said (or,
        for a sentence that is not compound, what the sentence reports): in text order."""
        parts = []
        for start, end in split_compound(segment.text):
            start += segment.start
            end += segment.start
            clause = Segment(start, end, body[start:end], "clause")
            said = clause_attribution(clause.text, sentence["speaker"])
            parts.append(self._annotate_part(body, clause, sentence, said.speaker))
            parts.extend(self._reported(body, clause, said, sentence))
        if not parts:
            parts.extend(self._reported(body, segment, attribution, sentence))
        return parts

    def _reported(
        self, body: str, source: Segment, said: Attribution, sentence: dict[str, Any]
    ) -> list[dict[str, Any]]:
        """What `source` (a sentence or clause) reports its speaker said: none or one claim."""
        if said.cue is None or said.speaker is None:
            return []
        cut = reported_span(source.text, said.cue)
        if cut is None:
            return []
        start, end = source.start + cut[0], source.start + cut[1]
        span = Segment(start, end, body[start:end], "reported")
        claim = self._annotate_part(body, span, sentence, said.speaker)
        return [] if claim["types"] == ["opinion"] else [claim]

    def annotate_span(
        self, body: str, start: int, end: int, language: str | None = None
    ) -> dict[str, Any]:
        """One claim over an arbitrary span of `body` (a reviewer's), scored and attributed."""
        language = _language(body, language)
        segments = split_sentences(body)
        speakers = attribute_speakers(body, segments)
        speaker = next(
            (
                who
                for seg, who in zip(segments, speakers, strict=True)
                if seg.start <= start < seg.end
            ),
            None,
        )
        claim = self._annotate(
            body, Segment(start, end, body[start:end], "span"), speaker, language
        )
        self._score([claim], in_document=False)
        return claim

    def score_sentences(self, sentences: Sequence[str], language: str | None = None) -> list[dict]:
        """Score standalone sentences (no document): each as a claim over its own text.

        Each sentence's speaker is the one it names itself, as `extract` finds it; "he" or
        "she" name no one without the sentences before. Reported spans are not offered:
        the result is one claim per sentence.
        """
        claims = []
        for sentence in sentences:
            segment = Segment(0, len(sentence), sentence, "sentence")
            lang = _language(sentence, language)
            (speaker,) = attribute_speakers(sentence, [segment])
            claims.append(self._annotate(sentence, segment, speaker, lang))
        self._score(claims, in_document=False)
        return claims

    def _annotate(
        self, body: str, segment: Segment, speaker: str | None, language: str
    ) -> dict[str, Any]:
        text = segment.text
        quantities = _shift(find_quantities(text), segment.start)
        dates = _shift(find_dates(text), segment.start)
        boilerplate = segment.kind in NON_CLAIM_KINDS
        return {
            "text": text,
            "start": segment.start,
            "end": segment.end,
            "kind": segment.kind,
            "checkworthiness": None,
            "checkworthy": None,
            "scored": False,
            "types": []
            if boilerplate
            else classify_types(text, quantities=quantities, dates=dates),
            "speaker": speaker,
            "quantities": quantities,
            "dates": dates,
            "entities": _shift(find_entities(text), segment.start),
            "language": language,
            "prefix": body[max(0, segment.start - CONTEXT_CHARS) : segment.start],
            "suffix": body[segment.end : segment.end + CONTEXT_CHARS],
        }

    def _annotate_part(
        self, body: str, part: Segment, sentence: dict[str, Any], speaker: str | None
    ) -> dict[str, Any]:
        """A clause or reported span of an annotated sentence: the sentence's spans that lie
        inside it.

        The spans were found with the whole sentence as context, which is also what a
        reviewer reads, and finding them again in the clause would double the work.
        """
        inside = {
            key: [
                dict(item)
                for item in sentence[key]
                if part.start <= item["start"] and item["end"] <= part.end
            ]
            for key in ("quantities", "dates", "entities")
        }
        return {
            **sentence,
            **inside,
            "text": part.text,
            "start": part.start,
            "end": part.end,
            "kind": part.kind,
            "types": classify_types(
                part.text, quantities=inside["quantities"], dates=inside["dates"]
            ),
            "speaker": speaker,
            "prefix": body[max(0, part.start - CONTEXT_CHARS) : part.start],
            "suffix": body[part.end : part.end + CONTEXT_CHARS],
        }

    def _score(
        self,
        claims: list[dict[str, Any]],
        *,
        in_document: bool,
        sentence_of: Sequence[int | None] | None = None,
    ) -> None:
        """Fill embeddings and scores in place: one encoder pass per sentence, then one
        batched model call for every scorable claim, on the same vectors.

        A claim whose `sentence_of` is the index of another (a clause or reported span of
        that sentence) is not encoded again: its vector is pooled from its sentence's pass.
        """
        if not claims:
            return
        vectors = self._embeddings(claims, sentence_of or [None] * len(claims))
        scorable = []
        rows = []
        for row, (claim, vector) in enumerate(zip(claims, vectors, strict=True)):
            claim["embedding"] = vector.tolist()
            if claim["language"] not in SCORED_LANGUAGES:
                continue
            if claim["kind"] in NON_CLAIM_KINDS:
                claim.update(checkworthiness=0.0, checkworthy=False, scored=True)
            else:
                scorable.append(claim)
                rows.append(row)
        if not scorable:
            return
        positions = None
        if in_document:  # where the claim sits in its article, 0 (top) to 1 (end)
            length = max(claims[-1]["end"], 1)
            positions = [c["start"] / length for c in scorable]
        scores = self.model.score([c["text"] for c in scorable], positions, vectors[rows])
        for claim, score in zip(scorable, scores, strict=True):
            claim.update(
                checkworthiness=round(float(score), 4),
                checkworthy=bool(score >= self.threshold),
                scored=True,
            )

    def _embeddings(
        self, claims: Sequence[dict[str, Any]], sentence_of: Sequence[int | None]
    ) -> np.ndarray:
        own = [row for row, sentence in enumerate(sentence_of) if sentence is None]
        parts: dict[int, list[int]] = {row: [] for row in own}
        for row, sentence in enumerate(sentence_of):
            if sentence is not None:
                parts[sentence].append(row)
        spans = [
            [
                (
                    claims[part]["start"] - claims[row]["start"],
                    claims[part]["end"] - claims[row]["start"],
                )
                for part in parts[row]
            ]
            for row in own
        ]
        encoded, pooled = self.encoder.encode_with_spans(
            [claims[row]["text"] for row in own], spans
        )
        vectors = np.zeros((len(claims), encoded.shape[1]), dtype=np.float32)
        vectors[own] = encoded
        for row, span_vectors in zip(own, pooled, strict=True):
            vectors[parts[row]] = span_vectors
        return vectors


@lru_cache(maxsize=1)
def default_engine() -> Engine:
    return Engine()


def extract(body: str, language: str | None = None) -> list[dict[str, Any]]:
    """Every candidate claim of `body` with the default model and threshold."""
    return default_engine().extract(body, language)
