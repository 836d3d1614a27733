"""Tests for workers.matching.clef on the shared CheckThat! sets (skipped when absent)."""

from __future__ import annotations

import pytest

from workers.extraction.evaluate import data_dir
from workers.matching.clef import SPLITS, load_retrieval_set


def require(folder: str) -> None:
    if not (data_dir() / folder).is_dir():
        pytest.skip(f"{folder} is not in {data_dir()}")


def test_the_clef2020_sets_read_with_their_documented_sizes():
    require(SPLITS["clef2020"][0])
    test = load_retrieval_set("clef2020", "test")
    assert len(test.corpus) == 10375
    assert len(test.queries) == 199  # 200 tweets, 199 with a relevant claim
    keys = {record.key for record in test.corpus}
    assert all(test.relevant[query_id] <= keys for query_id, _ in test.queries)


def test_the_2022_sets_read_and_task_2b_test_is_refused():
    require(SPLITS["clef2022-2b"][0])
    train = load_retrieval_set("clef2022-2b", "train")
    assert (len(train.corpus), len(train.queries)) == (19244, 472)
    with pytest.raises(ValueError, match="no readable split"):
        load_retrieval_set("clef2022-2b", "test")
    with pytest.raises(ValueError, match="no readable split"):
        load_retrieval_set("clef2022-2a", "test")
