"""The vocabulary is the one list of each kind of name: the database's check constraints (made
by the migrations), the API's enums and the workers' routes all agree with it."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import text

from service import vocabulary
from service.db import session_scope
from workers.celery_app import TASK_ROUTES

CHECKED = [
    ("users", "ck_users_role", vocabulary.ROLES),
    ("articles", "ck_articles_status", vocabulary.ARTICLE_STATUSES),
    ("claims", "ck_claims_status", vocabulary.CLAIM_STATUSES),
    ("verdicts", "ck_verdicts_status", vocabulary.VERDICT_STATUSES),
    ("evidence", "ck_evidence_stance", vocabulary.STANCES),
    ("webhook_deliveries", "ck_webhook_deliveries_status", vocabulary.DELIVERY_STATUSES),
]


@pytest.mark.parametrize(("table", "constraint", "names"), CHECKED, ids=[c[1] for c in CHECKED])
def test_the_databases_check_constraints_allow_exactly_the_vocabulary(
    sessions, table, constraint, names
):
    with session_scope(sessions) as session:
        definition = session.scalar(
            text(
                "SELECT pg_get_constraintdef(oid) FROM pg_constraint "
                "WHERE conname = :name AND conrelid = CAST(:table AS regclass)"
            ),
            {"name": constraint, "table": table},
        )
    assert definition is not None, constraint
    assert sorted(re.findall(r"'([^']+)'", definition)) == sorted(names)


def test_the_api_enums_are_the_vocabulary(client):
    schemas = client.get("/api/v1/openapi.json").get_json()["components"]["schemas"]
    assert schemas["UserIn"]["properties"]["role"]["enum"] == list(vocabulary.ROLES)
    assert schemas["Evidence"]["properties"]["stance"]["enum"] == list(vocabulary.STANCES)
    events = schemas["WebhookIn"]["properties"]["events"]["items"]["enum"]
    assert events == list(vocabulary.WEBHOOK_EVENTS)


def test_every_task_is_routed_to_one_of_the_queues():
    assert set(TASK_ROUTES) == set(vocabulary.TASK_QUEUES)
    assert {route["queue"] for route in TASK_ROUTES.values()} == set(vocabulary.QUEUES)


def test_every_permission_names_known_roles_and_outside_roles_read_no_queue():
    for roles in vocabulary.PERMISSIONS.values():
        assert roles <= set(vocabulary.ROLES)
    assert not vocabulary.OUTSIDE_ROLES & vocabulary.PERMISSIONS["claims:read"]
    assert vocabulary.EDITOR_ROLES < vocabulary.REVIEWER_ROLES
