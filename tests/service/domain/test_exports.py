"""Export rows read in keyset pages, from one snapshot."""

from __future__ import annotations

import pytest

from service.domain import exports as domain
from service.domain.claims.queue import QueueFilter
from service.ratings import DEFAULT_SCALE
from tests.factories import article_payload, insert_claim


@pytest.fixture
def article(client, admin_headers):
    response = client.post("/api/v1/articles", json=article_payload(), headers=admin_headers)
    return response.get_json()["id"]


def test_pages_hold_at_most_page_claims_and_share_one_snapshot(sessions, engine, article):
    claims = [insert_claim(engine, article, 10 * i, f"Claim {i}.") for i in range(5)]
    session = sessions()
    try:
        pages = domain.export_pages(session, QueueFilter(), DEFAULT_SCALE, page_claims=2)
        first = next(pages)
        # Committed after the export began: its snapshot must not see it.
        insert_claim(engine, article, 100, "A late claim.")
        rest = list(pages)
    finally:
        session.close()
    assert [len(page) for page in [first, *rest]] == [2, 2, 1]
    assert [row["claim_id"] for page in [first, *rest] for row in page] == claims


def test_export_is_read_only(sessions, engine, article):
    insert_claim(engine, article, 0, "Claim.")
    session = sessions()
    try:
        next(domain.export_pages(session, QueueFilter(), DEFAULT_SCALE))
        read_only = session.connection().exec_driver_sql("SHOW transaction_read_only").scalar()
        isolation = session.connection().exec_driver_sql("SHOW transaction_isolation").scalar()
    finally:
        session.close()
    assert (read_only, isolation) == ("on", "repeatable read")


def test_unknown_verdict_selection_is_refused(sessions):
    session = sessions()
    try:
        with pytest.raises(ValueError, match="verdicts"):
            next(domain.export_pages(session, QueueFilter(), DEFAULT_SCALE, verdicts="draft"))
    finally:
        session.close()
