"""The CheckThat! claim-retrieval sets of the shared data folder, read at run time.

Each set is a corpus of verified claims (Snopes or PolitiFact), queries (tweets or debate
sentences) and TREC qrels. Files are tab-separated without quoting (their SOURCE.txt says so).
Only the splits named in SPLITS are read; CheckThat! 2022 task 2B's test split is not in the
data folder and is never to be used.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from workers.extraction.evaluate import data_dir
from workers.matching.records import FactCheck

__all__ = ["SPLITS", "RetrievalSet", "load_retrieval_set"]

# (set name) -> folder under the data folder, and its splits that may be read.
SPLITS = {
    "clef2020": ("claim-retrieval-clef2020", ("train", "dev", "test")),
    "clef2022-2a": ("claim-retrieval-clef2022-en/2a", ("train", "dev")),
    "clef2022-2b": ("claim-retrieval-clef2022-en/2b", ("train", "dev")),
}


@dataclass(frozen=True)
class RetrievalSet:
    """Queries of one split, the corpus they are matched against, and which claims are relevant."""

    name: str
    split: str
    corpus: list[FactCheck]
    queries: list[tuple[str, str]]
    relevant: dict[str, set[str]]


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as file:
        return list(csv.DictReader(file, delimiter="\t", quoting=csv.QUOTE_NONE))


def _corpus(folder: Path) -> list[FactCheck]:
    return [
        FactCheck(
            key=row["vclaim_id"],
            claim=row["vclaim"],
            headline=row.get("title") or None,
            url=row.get("url") or None,
            rating=row.get("truth_label") or None,
        )
        for row in _rows(folder / "verified_claims.tsv")
    ]


def load_retrieval_set(name: str, split: str, root: Path | None = None) -> RetrievalSet:
    """Split `split` of set `name` (a key of SPLITS), from `root` or the shared data folder."""
    folder_name, splits = SPLITS[name]
    if split not in splits:
        raise ValueError(f"{name} has no readable split {split!r}: one of {', '.join(splits)}")
    folder = (root or data_dir()) / folder_name
    if name == "clef2020":
        query_file, qrels_file, id_field, text_field = (
            f"tweets_{split}.tsv",
            f"qrels_{split}.tsv",
            "tweet_id",
            "tweet_content",
        )
    else:
        query_file, qrels_file, id_field, text_field = (
            f"queries_{split}.tsv",
            f"qrels_{split}.tsv",
            "iclaim_id",
            "iclaim",
        )
    relevant: dict[str, set[str]] = {}
    for line in (folder / qrels_file).read_text(encoding="utf-8").splitlines():
        if line.strip():
            query_id, _, claim_id, grade = line.split("\t")
            if int(grade) > 0:
                relevant.setdefault(query_id, set()).add(claim_id)
    queries = [
        (row[id_field], row[text_field])
        for row in _rows(folder / query_file)
        if row[id_field] in relevant
    ]
    return RetrievalSet(name, split, _corpus(folder), queries, relevant)
