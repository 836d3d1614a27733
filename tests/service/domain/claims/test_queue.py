"""Full-text search in the review queue: every query shape gives exactly the plain answer.

`list_queue` gathers all matches from the GIN indexes when few articles match; otherwise it
tests a window of the queue's next rows, falling back to the GIN indexes when the window
does not fill a page. Patching the two thresholds forces each path; every page is compared
with one unoptimised SQL statement written independently here.
"""

from __future__ import annotations

import pytest
from sqlalchemy import inspect, text

from service.db import session_scope
from service.domain.claims import queue as queue_module
from service.domain.claims.queue import QUEUED_FIELDS, QueueFilter, list_queue, queue_cursor
from service.domain.extraction import store_claims
from service.models import Claim
from tests.factories import article_payload
from workers.extraction.engine import extract

TOWNS = ("Ashford", "Brookvale", "Carlton")
PLAIN_MATCH = (
    "SELECT c.id FROM claims c JOIN articles a ON a.id = c.article_id"
    " WHERE c.revision = a.revision"
    " AND (CAST(:checkworthy AS boolean) IS NULL OR c.checkworthy = :checkworthy)"
    " AND (c.search @@ websearch_to_tsquery('english', :q)"
    "      OR a.search @@ websearch_to_tsquery('english', :q))"
)
PLAIN_SEARCH = {
    "score": PLAIN_MATCH + " ORDER BY c.checkworthiness DESC NULLS LAST, c.id DESC",
    "recency": PLAIN_MATCH + " ORDER BY c.id DESC",
}


@pytest.fixture
def corpus(client, admin_headers, sessions) -> None:
    """Twelve articles; 'harbour' is in some claims, 'Brookvale' in some titles only."""
    for number in range(12):
        town = TOWNS[number % len(TOWNS)]
        harbour = "the harbour " if number % 4 == 0 else "the depot "
        body = (
            f"Spending at {harbour}rose {number + 3}% in {2000 + number}, officials said. "
            f"The council cut {number + 1},000 jobs last year. "
            f"Unemployment fell to {number % 5 + 2}.5% in May. Thanks for reading."
        )
        created = client.post(
            "/api/v1/articles",
            json=article_payload(title=f"{town} budget vote", body=body),
            headers=admin_headers,
        ).get_json()
        with session_scope(sessions) as session:
            store_claims(session, created["id"], 1, extract(body))


def plain_search(sessions, word: str, sort: str, checkworthy: bool | None) -> list[int]:
    with session_scope(sessions) as session:
        parameters = {"q": word, "checkworthy": checkworthy}
        return list(session.scalars(text(PLAIN_SEARCH[sort]), parameters))


def paged_search(sessions, word: str, sort: str, checkworthy: bool | None, page: int) -> list[int]:
    where = QueueFilter(query=word, checkworthy=checkworthy)
    seen: list[int] = []
    after: tuple[int, ...] | None = None
    while True:
        with session_scope(sessions) as session:
            rows = list_queue(session, where, sort=sort, limit=page, after=after)
            seen += [row.id for row in rows]
            if len(rows) < page:
                return seen
            last = rows[-1]
            after = queue_cursor(last) if sort == "score" else (0, 0, last.id)


# (few articles, window): 0 never takes the direct path, so the window is always tried first.
PATHS = [(0, 1), (0, 3), (0, 2_500), (10**6, 1)]


@pytest.mark.parametrize(("few", "window"), PATHS)
@pytest.mark.parametrize("sort", ["score", "recency"])
def test_search_pages_equal_the_plain_query(corpus, sessions, monkeypatch, few, window, sort):
    monkeypatch.setattr(queue_module, "SEARCH_FEW_ARTICLES", few)
    monkeypatch.setattr(queue_module, "SEARCH_WINDOW", window)
    for word in ("harbour", "Brookvale", "council", "unemployment harbour", "volcano"):
        for checkworthy in (True, False, None):
            expected = plain_search(sessions, word, sort, checkworthy)
            for page in (1, 2, 50):
                assert paged_search(sessions, word, sort, checkworthy, page) == expected, (
                    word,
                    checkworthy,
                    page,
                )


def test_the_corpus_exercises_both_paths(corpus, sessions):
    """'council' is in every article (the window fills a page), 'harbour' in a few."""
    everything = plain_search(sessions, "budget", "score", None)
    assert len(plain_search(sessions, "council", "score", None)) == len(everything)
    assert 0 < len(plain_search(sessions, "harbour", "score", None)) < len(everything) / 3
    assert len(plain_search(sessions, "Brookvale", "score", None)) == len(everything) // 3


def test_claims_whose_article_does_not_match_are_found_on_every_path(corpus, sessions, monkeypatch):
    """A claim can match when its article's search vector does not (it holds only the head of
    a very long body): every path finds it, once."""
    with session_scope(sessions) as session:
        session.execute(
            text(
                "UPDATE articles SET search = to_tsvector('english', title)"
                " WHERE id = (SELECT min(article_id) FROM claims"
                "             WHERE search @@ websearch_to_tsquery('english', 'harbour'))"
            )
        )
    expected = plain_search(sessions, "harbour", "score", None)
    with session_scope(sessions) as session:
        only_claims = session.scalars(
            text(
                "SELECT c.id FROM claims c JOIN articles a ON a.id = c.article_id"
                " WHERE c.search @@ websearch_to_tsquery('english', 'harbour')"
                " AND NOT a.search @@ websearch_to_tsquery('english', 'harbour')"
            )
        ).all()
    assert only_claims
    assert set(only_claims) < set(expected)
    for few, window in PATHS:
        monkeypatch.setattr(queue_module, "SEARCH_FEW_ARTICLES", few)
        monkeypatch.setattr(queue_module, "SEARCH_WINDOW", window)
        for page in (1, 50):
            assert paged_search(sessions, "harbour", "score", None, page) == expected


def test_search_leaves_the_planner_settings_as_they_were(corpus, sessions):
    with session_scope(sessions) as session:
        list_queue(session, QueueFilter(query="harbour"), sort="score", limit=5)
        assert session.scalar(text("SHOW enable_seqscan")) == "on"


def test_queued_claims_are_the_columns_a_claim_loads(corpus, sessions):
    """The queue reads plain rows: exactly the values the ORM would load for each claim."""
    loaded = [prop.key for prop in inspect(Claim).column_attrs if not prop.deferred]
    assert sorted(QUEUED_FIELDS) == sorted(loaded)
    with session_scope(sessions) as session:
        page = list_queue(session, QueueFilter(checkworthy=None), sort="recency", limit=50)
        assert page
        for queued in page:
            claim = session.get(Claim, queued.id)
            assert {name: getattr(queued, name) for name in loaded} == {
                name: getattr(claim, name) for name in loaded
            }
