"""Evaluate claim matching on the CheckThat! retrieval sets, beside plain BM25 in the same run.

    python -m workers.matching.evaluate [--data DIR] [--sets clef2020:test,...] [--no-lsh]

For each set and split: MAP@5 (the official CheckThat! measure), MRR and success at 10 of
this package's ranking (FactCheckIndex.match, top 30) and of plain BM25 over claim and title
(bm25s, k1 1.2, b 0.75, the same tokens). Then the hand-written hard cases (a paraphrase
found, each guard refusing), how often a guard refuses a relevant claim ranked in the top 10
(false refusals), and recall@10 of the LSH band keys against exact cosine search.

The confidence model is fitted on CLEF-2020 train only (workers.matching.calibrate), so
CLEF-2020 dev and test and every CheckThat! 2022 split are unseen by it. CheckThat! 2022 2A
train and dev repeat CLEF-2020 train+dev and test tweets (SOURCE.txt). CheckThat! 2022 2B's
test split is never read. Encoded corpora are cached under FACTCHECK_MODEL_CACHE.
"""

from __future__ import annotations

import argparse
import os
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from workers.matching.clef import RetrievalSet, load_retrieval_set
from workers.matching.hard_cases import HARD_CASES, HARD_CORPUS
from workers.matching.lsh import AXES, BANDS, HASHES, NEAR_COSINE, READ_CAP, recall_at_k
from workers.matching.matcher import FactCheckIndex, bm25_scores
from workers.matching.metrics import RankingScores, score_rankings

__all__ = ["DEFAULT_SETS", "evaluate_hard_cases", "evaluate_set", "main"]

DEFAULT_SETS = (
    ("clef2020", "test"),
    ("clef2020", "dev"),
    ("clef2022-2a", "train"),
    ("clef2022-2a", "dev"),
    ("clef2022-2b", "train"),
    ("clef2022-2b", "dev"),
)
# Ranked matches read per query for MRR (MAP@5 and S@10 read fewer).
RANKED = 30
# Keys looked up per query in the LSH measurement (BANDS of them are the query's own).
LSH_KEYS = (BANDS, 64, 100, 150, 200)


def _bm25_rankings(index: FactCheckIndex, data: RetrievalSet) -> list[list[str]]:
    rankings = []
    for _, text in data.queries:
        scores = bm25_scores(index.bm25, text)
        order = np.argsort(-scores, kind="stable")[:RANKED]
        rankings.append([index.records[int(i)].key for i in order])
    return rankings


def evaluate_set(
    data: RetrievalSet, index: FactCheckIndex
) -> tuple[RankingScores, RankingScores, Counter[str], int]:
    """Ours, plain BM25, guards refusing a relevant top-10 match (by guard), relevant ones seen."""
    relevant = [data.relevant[query_id] for query_id, _ in data.queries]
    matches = index.match([text for _, text in data.queries], top=RANKED)
    ours = score_rankings([[m.factcheck.key for m in found] for found in matches], relevant)
    baseline = score_rankings(_bm25_rankings(index, data), relevant)
    refusals: Counter[str] = Counter()
    seen = 0
    for found, wanted in zip(matches, relevant, strict=True):
        for match in found[:10]:
            if match.factcheck.key in wanted:
                seen += 1
                refusals.update(match.refused_by)
    return ours, baseline, refusals, seen


def evaluate_hard_cases() -> list[tuple[str, bool, str]]:
    """(case name, passed, what happened) for every hand-written hard case."""
    index = FactCheckIndex(HARD_CORPUS)
    results = []
    for case, found in zip(
        HARD_CASES, index.match([c.query for c in HARD_CASES], top=3), strict=True
    ):
        best = found[0]
        first = best.factcheck.key == case.expected
        if case.guard is None:
            passed = first and best.decision in ("match", "suggest")
        else:
            passed = first and best.decision == "refused" and case.guard in best.refused_by
        results.append((case.name, passed, f"{best.decision} {best.confidence:.3f}: {best.reason}"))
    return results


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m workers.matching.evaluate", description=__doc__
    )
    parser.add_argument("--data", type=Path, help="shared data folder (default ../shared/data)")
    parser.add_argument(
        "--sets",
        help="comma-separated set:split (default: "
        + ",".join(f"{name}:{split}" for name, split in DEFAULT_SETS)
        + ")",
    )
    parser.add_argument("--no-lsh", action="store_true", help="skip the LSH recall measurement")
    args = parser.parse_args(argv)
    # At most two threads for the encoder, whatever the machine (a shared one here).
    os.environ.setdefault("FACTCHECK_ENCODER_THREADS", "2")
    sets = (
        [tuple(item.split(":", 1)) for item in args.sets.split(",")] if args.sets else DEFAULT_SETS
    )
    indexes: dict[str, FactCheckIndex] = {}
    print(f"{'set':<22} {'queries':>7}  ranking")
    for name, split in sets:
        started = time.perf_counter()
        data = load_retrieval_set(name, split, root=args.data)
        if name not in indexes:
            indexes[name] = FactCheckIndex(data.corpus)
        index = indexes[name]
        ours, baseline, refusals, seen = evaluate_set(data, index)
        label = f"{name}:{split}"
        print(f"{label:<22} {ours.queries:>7}  ours  {ours.row()}")
        print(f"{'':<22} {'':>7}  BM25  {baseline.row()}")
        refused = ", ".join(f"{guard} {count}" for guard, count in sorted(refusals.items()))
        print(
            f"{'':<22} {'':>7}  guards refusing a relevant top-10 match: "
            f"{sum(refusals.values())} of {seen} ({refused or 'none'})"
            f"  [{time.perf_counter() - started:.0f} s]"
        )
    print()
    print("hard cases")
    hard = evaluate_hard_cases()
    for case, passed, what in hard:
        print(f"  {'PASS' if passed else 'FAIL'}  {case:<11} {what}")
    print(f"  {sum(p for _, p, _ in hard)} of {len(hard)} passed")
    if not args.no_lsh:
        print()
        data = load_retrieval_set(sets[0][0], sets[0][1], root=args.data)
        index = indexes[sets[0][0]]
        queries = index.encoder.encode([text for _, text in data.queries])
        row_of = {record.key: row for row, record in enumerate(index.records)}
        wanted = [{row_of[key] for key in data.relevant[query_id]} for query_id, _ in data.queries]
        print(
            f"LSH band keys ({BANDS} bands of {HASHES} cross-polytope hashes on {AXES} axes, "
            f"at most {READ_CAP} ids read per key) over the claim embeddings of "
            f"{sets[0][0]}:{sets[0][1]} ({len(index.records)} claims, {len(queries)} queries; "
            "at 300,000 vectors see python -m workers.matching.lsh_study)"
        )
        lsh = recall_at_k(index.claim_vectors, queries, k=10, budgets=LSH_KEYS, wanted=wanted)
        for found in lsh:
            near = "-" if found.near_recall is None else f"{found.near_recall:.3f}"
            print(
                f"  keys {found.keys:>3}: recall@10 vs exact {found.recall:.3f} "
                f"({near} of the {found.near_neighbours} at cosine >= "
                f"{NEAR_COSINE}), relevant claim among the candidates {found.wanted_recall:.3f}, "
                f"rows read {found.rows_read:.0f}, candidates {found.candidate_fraction:.1%} "
                "of the corpus"
            )


if __name__ == "__main__":
    main()
