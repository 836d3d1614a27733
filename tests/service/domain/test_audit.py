"""The audit log: every change recorded, and never rewritten."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from service.db import session_scope
from tests.factories import make_audit_event


def test_an_event_records_who_did_what_to_which_entity(sessions):
    with session_scope(sessions) as session:
        event = make_audit_event(session, "test.recorded", answer=42)
        assert (event.actor, event.action, event.entity_type) == ("test", "test.recorded", "test")
        assert (event.before, event.after) == (None, {"answer": 42})
        assert event.at is not None


@pytest.mark.parametrize(
    "statement",
    ["UPDATE audit_log SET actor = 'someone else'", "DELETE FROM audit_log"],
)
def test_recorded_events_are_never_changed_or_deleted(sessions, statement):
    with session_scope(sessions) as session:
        make_audit_event(session)
    with pytest.raises(DBAPIError), session_scope(sessions) as session:
        session.execute(text(statement))
    with session_scope(sessions) as session:
        assert session.scalar(text("SELECT actor FROM audit_log")) == "test"
