"""The domain's shared parts: its errors, scopes and loading by id."""

from __future__ import annotations

import pytest

from service.db import session_scope
from service.domain import EVERYTHING, NotFound, Scope, load
from service.models import Article
from tests.factories import make_article


def test_a_scope_sees_its_own_organisation_and_the_desk_sees_all():
    newsroom = Scope(organization_id=7, published_only=True)
    assert newsroom.sees(7)
    assert not newsroom.sees(8)
    assert EVERYTHING.sees(8)
    assert not EVERYTHING.published_only


def test_load_finds_by_id_and_names_what_is_missing(sessions):
    with session_scope(sessions) as session:
        article = make_article(session)
        assert load(session, Article, article.id) is article
        locked = load(session, Article, article.id, for_update=True, undeferred=("search",))
        assert locked is article
        with pytest.raises(NotFound, match=r"^Article 0 does not exist\.$"):
            load(session, Article, 0)
