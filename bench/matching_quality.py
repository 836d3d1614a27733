"""Matching quality of the service's PostgreSQL path beside the offline matcher (issue 16).

    python -m bench.matching_quality [--database URL] [--data DIR] [--sets clef2020:test,...]
                                     [--model PATH]
    python -m bench.matching_quality --fit [--output PATH] [--database URL] [--data DIR]

The service matches in PostgreSQL (service.domain.matching.match_vector): candidates from
full-text search and from the LSH band keys, the word feature `ts_rank_cd` divided by the
best candidate's. The offline matcher (workers.matching.matcher.FactCheckIndex) takes BM25
divided by the corpus' best and exact cosine over every embedding. Both rank with the same
confidence model, fitted on the offline features; this measures what that costs the service.

Each set's corpus is imported into a scratch database through
service.domain.factchecks.import_factchecks (the vectors FactCheckIndex cached, so nothing is
encoded twice), and every query goes through match_vector with every candidate returned. For
each path: MAP@5, MRR and S@10 (top 30, as workers.matching.evaluate), the share of queries
with a relevant fact-check among the candidates, the Brier score and ECE of the confidence on
each query's first-stage 30 best candidates (the rows workers.matching.calibrate fits and
checks on), and how often the top match is relevant when its confidence reaches the
suggest threshold (shown to a reviewer) or the match threshold (taken without one), guards
aside. The database path is measured with the shipped offline model (confidence.json), and
with the model at `--model PATH` too when one is given.

`--fit` fits a model of the database path the way workers.matching.calibrate fits
confidence.json, on its candidates for CLEF-2020 train (checked on dev; no test split is
read), prints it and writes it to `--output` if given (confidence.json's layout).

The database: --database, else TEST_DATABASE_URL, else DATABASE_URL names a server on which a
`factcheck_matchq_<random>` database is created, migrated and dropped at the end; with none
set, embedded Postgres runs in a temporary folder. When no server answers, one line says so
and the command exits 0 (`make eval` goes on).
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import json
import os
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from unittest import mock

import numpy as np
from sqlalchemy import create_engine
from sqlalchemy import text as sql_text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from bench.ingest import run_main, scratch_database
from service.config import redact_url
from service.db import make_engine, make_session_factory, psycopg2_url, session_scope
from service.domain import matching as matching_module
from service.domain.factchecks import IMPORT_BATCH, import_factchecks
from service.domain.matching import Matching, match_vector
from service.ratings import DEFAULT_SCALE
from workers.extraction.encoder import SentenceEncoder
from workers.extraction.evaluate import calibration_errors
from workers.matching.calibrate import CANDIDATES, fit_model, model_file
from workers.matching.clef import RetrievalSet, load_retrieval_set
from workers.matching.embeddings import encode_cached
from workers.matching.matcher import (
    FEATURES,
    FIRST_STAGE_BM25_WEIGHT,
    ConfidenceModel,
    FactCheckIndex,
    MatchSettings,
)
from workers.matching.metrics import RankingScores, score_rankings
from workers.matching.verification import details

__all__ = ["Candidate", "KnownVectors", "PathScores", "first_stage_order", "main", "score_path"]

DEFAULT_SETS = (("clef2020", "test"), ("clef2020", "dev"), ("clef2022-2b", "dev"))
FIT_SET = ("clef2020", "train")
CHECK_SET = ("clef2020", "dev")
# Ranked matches read per query, as workers.matching.evaluate.
RANKED = 30
# Every candidate match_vector finds (it reads at most a few thousand rows a query).
ALL_CANDIDATES = 1_000_000


@dataclass(frozen=True)
class Candidate:
    """One candidate of a query: its fact-check's key, features (FEATURES order), relevance."""

    key: str
    features: np.ndarray
    relevant: bool


@dataclass(frozen=True)
class PathScores:
    """One path's measures on one set, with one confidence model."""

    ranking: RankingScores
    found: float  # share of queries with a relevant fact-check among the candidates
    candidates: float  # mean candidates a query
    brier: float
    ece: float
    suggested: tuple[int, int]  # (top matches at or above suggest_threshold, of them relevant)
    matched: tuple[int, int]  # the same at match_threshold

    def rows(self) -> list[str]:
        return [
            f"{self.ranking.row()}  relevant among the candidates {self.found:.3f} "
            f"({self.candidates:.0f} a query)",
            f"Brier {self.brier:.4f}  ECE {self.ece:.4f}  top match relevant when suggested "
            f"{_share(*self.suggested)}, matched {_share(*self.matched)}",
        ]


def _share(total: int, relevant: int) -> str:
    return f"{relevant}/{total}" + (f" ({relevant / total:.2f})" if total else "")


class KnownVectors:
    """An encoder that answers from vectors encoded before (a FactCheckIndex's, cached by
    workers.matching.embeddings) and encodes only the texts it has not seen."""

    def __init__(self, encoder: SentenceEncoder, texts: Sequence[str], vectors: np.ndarray):
        self.encoder = encoder
        self.vectors = dict(zip(texts, vectors, strict=True))

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        missing = sorted({t for t in texts if t not in self.vectors})
        if missing:
            self.vectors.update(zip(missing, self.encoder.encode(missing), strict=True))
        return np.stack([self.vectors[t] for t in texts])


def first_stage_order(candidates: Sequence[Candidate]) -> list[Candidate]:
    """One query's candidates best first by the first-stage score (candidate_features')."""
    if not candidates:
        return []
    features = np.stack([c.features for c in candidates])
    score = (
        features[:, FEATURES.index("cosine")]
        + FIRST_STAGE_BM25_WEIGHT * features[:, FEATURES.index("bm25")]
    )
    return [candidates[int(i)] for i in np.argsort(-score, kind="stable")]


def calibration_rows(per_query: Sequence[Sequence[Candidate]]) -> tuple[np.ndarray, np.ndarray]:
    """Features and 0/1 labels of each query's CANDIDATES first-stage best (calibrate's rows)."""
    rows = [c for found in per_query for c in first_stage_order(found)[:CANDIDATES]]
    return np.stack([c.features for c in rows]), np.array([c.relevant for c in rows], dtype=float)


def score_path(
    per_query: Sequence[Sequence[Candidate]],
    relevant: Sequence[set[str]],
    model: ConfidenceModel,
    settings: MatchSettings,
) -> PathScores:
    """The measures of one path's candidates (each query's, in any order) under `model`:
    ranked as `rank` ranks them, by confidence with ties in first-stage order."""
    rankings: list[list[str]] = []
    suggested = [0, 0]
    matched = [0, 0]
    for found in per_query:
        ordered = first_stage_order(found)
        if not ordered:
            rankings.append([])
            continue
        confidence = model.confidence(np.stack([c.features for c in ordered]))
        order = np.argsort(-confidence, kind="stable")
        rankings.append([ordered[int(i)].key for i in order[:RANKED]])
        best, best_confidence = ordered[int(order[0])], float(confidence[order[0]])
        for counts, threshold in (
            (suggested, settings.suggest_threshold),
            (matched, settings.match_threshold),
        ):
            if best_confidence >= threshold:
                counts[0] += 1
                counts[1] += int(best.relevant)
    features, labels = calibration_rows(per_query)
    brier, ece = calibration_errors(labels, model.confidence(features))
    return PathScores(
        ranking=score_rankings(rankings, relevant),
        found=float(np.mean([any(c.relevant for c in found) for found in per_query])),
        candidates=float(np.mean([len(found) for found in per_query])),
        brier=brier,
        ece=ece,
        suggested=(suggested[0], suggested[1]),
        matched=(matched[0], matched[1]),
    )


# ---- the two paths --------------------------------------------------------------------------


def offline_candidates(
    index: FactCheckIndex, data: RetrievalSet, vectors: np.ndarray
) -> list[list[Candidate]]:
    """FactCheckIndex's first-stage candidates of every query of `data`."""
    per_query = []
    for (query_id, text), vector in zip(data.queries, vectors, strict=True):
        rows, features = index.first_stage(text, vector)
        keys = [index.records[int(row)].key for row in rows]
        wanted = data.relevant[query_id]
        per_query.append(
            [Candidate(k, f, k in wanted) for k, f in zip(keys, features, strict=True)]
        )
    return per_query


def database_candidates(
    sessions: sessionmaker[Session], data: RetrievalSet, vectors: np.ndarray, matching: Matching
) -> list[list[Candidate]]:
    """match_vector's candidates of every query of `data`, every one, with its features."""
    per_query = []
    # Every candidate is verified (top = all), some 2,000 a query: the guards' reading of a
    # fact-check (`details`, a pure function of its text) is kept across queries, or it
    # would take two thirds of the run.
    with (
        mock.patch.object(matching_module, "details", functools.cache(details)),
        session_scope(sessions) as session,
    ):
        for (query_id, text), vector in zip(data.queries, vectors, strict=True):
            wanted = data.relevant[query_id]
            found = match_vector(session, text, vector, matching, top=ALL_CANDIDATES)
            per_query.append(
                [
                    Candidate(
                        m.match.factcheck.key,
                        np.array([m.match.scores[name] for name in FEATURES]),
                        m.match.factcheck.key in wanted,
                    )
                    for m in found
                ]
            )
    return per_query


def import_corpus(sessions: sessionmaker[Session], index: FactCheckIndex) -> float:
    """Replace the stored fact-checks with the corpus of `index`, as the CLI imports (a
    transaction a batch); the seconds it took."""
    started = time.perf_counter()
    records = index.records
    encoder = KnownVectors(
        index.encoder,
        [r.claim for r in records] + [r.headline or r.claim for r in records],
        np.concatenate([index.claim_vectors, index.headline_vectors]),
    )
    with session_scope(sessions) as session:
        session.execute(sql_text("TRUNCATE factchecks CASCADE"))
    for start in range(0, len(records), IMPORT_BATCH):
        with session_scope(sessions) as session:
            import_factchecks(
                session,
                records[start : start + IMPORT_BATCH],
                encoder,  # type: ignore[arg-type]  # all import_factchecks asks of it is encode
                actor="bench.matching_quality",
                user_id=None,
                scale=DEFAULT_SCALE,
            )
    # The planner's row estimate sizes each query's key lookups (keys_to_look_up), as it
    # is once autovacuum has analysed the table.
    with session_scope(sessions) as session:
        session.execute(sql_text("ANALYZE factchecks"))
    matching_module.forget_collection_stats()
    return time.perf_counter() - started


# ---- running it -----------------------------------------------------------------------------


def database_base(explicit: str | None) -> str | None:
    """The server to create the scratch database on (None: embedded Postgres)."""
    return explicit or os.environ.get("TEST_DATABASE_URL") or os.environ.get("DATABASE_URL")


def unreachable(base: str | None) -> str | None:
    """Why no scratch database can be made on `base`, or None when one can."""
    if base is None:
        try:
            import pgserver  # noqa: F401
        except ImportError:
            return "no database URL set and embedded Postgres (pgserver) is not installed"
        return None
    engine = create_engine(psycopg2_url(base), connect_args={"connect_timeout": 5})
    try:
        with engine.connect() as connection:
            may_create = connection.scalar(
                sql_text(
                    "SELECT rolcreatedb OR rolsuper FROM pg_roles WHERE rolname = current_user"
                )
            )
    except DBAPIError as error:
        return f"no database reachable at {redact_url(base)} ({type(error).__name__})"
    finally:
        engine.dispose()
    if not may_create:
        return f"the role of {redact_url(base)} may not create a scratch database"
    return None


@contextlib.contextmanager
def scratch_sessions(base: str | None) -> Iterator[tuple[sessionmaker[Session], str]]:
    """Sessions on a fresh migrated database (dropped at the end), and what it is."""
    with (
        tempfile.TemporaryDirectory(prefix="factcheck-matchq-") as workdir,
        scratch_database(base, Path(workdir), prefix="factcheck_matchq") as (url, what),
    ):
        engine = make_engine(url, pool_size=1)
        try:
            yield make_session_factory(engine), what
        finally:
            engine.dispose()


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def evaluate(
    sessions: sessionmaker[Session],
    sets: Sequence[tuple[str, str]],
    root: Path | None,
    other_model: Path | None = None,
) -> str:
    """Both paths' measures on each set, a table; the database path's under `other_model`
    too when given."""
    shipped = Matching.default()
    models = [("confidence.json", shipped)]
    if other_model is not None:
        models.append(
            (str(other_model), Matching(shipped.settings, ConfidenceModel.load(other_model)))
        )
    index: FactCheckIndex | None = None
    lines = [f"{'set':<18} {'queries':>7}  path, model"]
    for name, split in sets:
        started = time.perf_counter()
        data = load_retrieval_set(name, split, root=root)
        if index is None or index.records != data.corpus:
            index = FactCheckIndex(data.corpus, model=shipped.model, settings=shipped.settings)
            seconds = import_corpus(sessions, index)
            progress(f"{name}: {len(index.records)} fact-checks imported in {seconds:.0f} s")
        vectors = encode_cached([text for _, text in data.queries], index.encoder)
        relevant = [data.relevant[query_id] for query_id, _ in data.queries]
        offline = offline_candidates(index, data, vectors)
        stored = database_candidates(sessions, data, vectors, shipped)
        results = [("offline, confidence.json", score_path(offline, relevant, *_of(shipped)))]
        results += [
            (f"postgres, {label}", score_path(stored, relevant, *_of(matching)))
            for label, matching in models
        ]
        for i, (path, scores) in enumerate(results):
            head = (f"{name}:{split}", str(len(relevant))) if i == 0 else ("", "")
            lines.append(f"{head[0]:<18} {head[1]:>7}  {path}")
            for row in scores.rows():
                lines.append(f"{'':<28}{row}")
        progress(f"{name}:{split}: {time.perf_counter() - started:.0f} s")
    return "\n".join(lines)


def _of(matching: Matching) -> tuple[ConfidenceModel, MatchSettings]:
    return matching.model, matching.settings


def fit(sessions: sessionmaker[Session], root: Path | None) -> dict[str, object]:
    """The database path's confidence model, fitted on CLEF-2020 train and checked on dev."""
    train = load_retrieval_set(*FIT_SET, root=root)
    dev = load_retrieval_set(*CHECK_SET, root=root)
    # The features, and so the candidates, do not depend on the model.
    unfitted = Matching(MatchSettings.from_env(), ConfidenceModel((0.0,) * len(FEATURES), 0.0))
    index = FactCheckIndex(train.corpus, model=unfitted.model, settings=unfitted.settings)
    import_corpus(sessions, index)
    rows = []
    for data in (train, dev):
        vectors = encode_cached([text for _, text in data.queries], index.encoder)
        rows.append(calibration_rows(database_candidates(sessions, data, vectors, unfitted)))
    (x_train, y_train), (x_dev, y_dev) = rows
    return model_file(
        fit_model(x_train, y_train),
        f"{FIT_SET[0]} {FIT_SET[1]} qrels through PostgreSQL (service.domain.matching."
        f"match_vector over {len(index.records)} fact-checks): {len(train.queries)} queries",
        y_train,
        f"{CHECK_SET[0]} {CHECK_SET[1]} through PostgreSQL",
        x_dev,
        y_dev,
    )


def run(args: argparse.Namespace) -> str:
    """The evaluation's table or the fitted model; a line saying why when there is no server."""
    # At most two threads for the encoder, whatever the machine (a shared one here).
    os.environ.setdefault("FACTCHECK_ENCODER_THREADS", "2")
    base = database_base(args.database)
    why = unreachable(base)
    if why:
        return f"matching through PostgreSQL: skipped, {why}"
    with scratch_sessions(base) as (sessions, what):
        progress(what)
        if not args.fit:
            return evaluate(sessions, args.sets, args.data, args.model)
        fitted = json.dumps(fit(sessions, args.data), indent=2)
        if args.output:
            args.output.parent.mkdir(parents=True, exist_ok=True)
            args.output.write_text(fitted + "\n", encoding="utf-8")
        return fitted


def set_split(value: str) -> tuple[str, str]:
    name, _, split = value.partition(":")
    return name, split


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.matching_quality", description=__doc__)
    parser.add_argument("--database", help="server URL for the scratch database (see above)")
    parser.add_argument("--data", type=Path, help="shared data folder (default ../shared/data)")
    parser.add_argument(
        "--sets",
        type=lambda value: [set_split(item) for item in value.split(",")],
        default=DEFAULT_SETS,
        help="comma-separated set:split (default: "
        + ",".join(f"{name}:{split}" for name, split in DEFAULT_SETS)
        + ")",
    )
    parser.add_argument(
        "--fit",
        action="store_true",
        help="fit a confidence model on the database path's CLEF-2020 train candidates",
    )
    parser.add_argument("--output", type=Path, help="where --fit writes the model")
    parser.add_argument(
        "--model", type=Path, help="a confidence model to measure the database path with too"
    )
    # Ctrl-C and SIGTERM leave through every `with`: the scratch database is dropped.
    return run_main(run, parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
