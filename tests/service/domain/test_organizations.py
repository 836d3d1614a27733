"""Organisations: found or created once, whoever asks first."""

from __future__ import annotations

from sqlalchemy import func, select

from service.db import session_scope
from service.domain.organizations import desk_organization_id, find_or_create_organization
from service.models import DESK_ORGANIZATION, Organization
from tests.factories import make_organization


def test_an_organisation_is_created_on_first_use_and_found_after(sessions):
    with session_scope(sessions) as session:
        made = make_organization(session, "planet-news")
        found = find_or_create_organization(session, "planet-news", actor="test")
        assert (found.created, found.organization.id) == (False, made.id)
        count = (
            select(func.count()).select_from(Organization).where(Organization.name == "planet-news")
        )
        assert session.scalar(count) == 1


def test_the_desk_organisation_is_the_migrations_and_is_not_another(sessions):
    with session_scope(sessions) as session:
        desk = desk_organization_id(session)
        assert session.get(Organization, desk).name == DESK_ORGANIZATION
        assert make_organization(session).id != desk
