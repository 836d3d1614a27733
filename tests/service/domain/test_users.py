"""Users and their tokens: stored hashed, listed without secrets, revocable."""

from __future__ import annotations

import pytest

from service.db import session_scope
from service.domain import Conflict
from service.domain.users import (
    TOKEN_PREFIX,
    create_user,
    hash_token,
    list_tokens,
    revoke_token,
)
from service.models import ApiToken
from tests.factories import make_token, make_user


def test_a_role_must_be_known_and_a_name_taken_once(sessions):
    with session_scope(sessions) as session:
        with pytest.raises(ValueError, match="unknown role 'owner'"):
            create_user(session, "someone", "owner", actor="test")
        create_user(session, "someone", "viewer", actor="test")
        with pytest.raises(Conflict):
            create_user(session, "someone", "editor", actor="test")


def test_tokens_are_stored_as_digests_and_listed_by_prefix_only(sessions):
    with session_scope(sessions) as session:
        user = make_user(session, "viewer")
        token = make_token(session, user)
        assert token.startswith(TOKEN_PREFIX)
        stored = session.query(ApiToken).filter_by(token_hash=hash_token(token)).one()
        assert stored.prefix == token[:12]
        listed = list_tokens(session, user.id, limit=10)
        assert len(listed) == 2  # the first token, and this one
        assert all(token not in (t.token_hash, t.prefix) for t in listed)
        revoked = revoke_token(session, user.id, stored.id, actor="test")
        assert revoked.revoked_at is not None
