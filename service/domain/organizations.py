"""Organisations: whom users work for, and so whose articles a newsroom's token reads."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from service.domain.audit import record
from service.models import DESK_ORGANIZATION, Organization


@dataclass(frozen=True)
class Found:
    organization: Organization
    created: bool


def desk_organization_id(session: Session) -> int:
    """The id of the desk's own organisation, which migration 0013 created."""
    found = session.scalar(select(Organization.id).where(Organization.name == DESK_ORGANIZATION))
    if found is None:  # only a database the migrations did not make lacks it
        raise RuntimeError(f"the {DESK_ORGANIZATION!r} organisation is missing; run migrations")
    return found


def find_or_create_organization(session: Session, name: str, *, actor: str) -> Found:
    """The organisation called `name`, created on first use (`created` then says so).

    Two callers creating the same one at once both get it: the second insert does nothing.
    """
    created_id = session.scalar(
        insert(Organization)
        .values(name=name)
        .on_conflict_do_nothing(index_elements=[Organization.name])
        .returning(Organization.id)
    )
    organization = session.scalars(select(Organization).where(Organization.name == name)).one()
    if created_id is not None:
        record(
            session, actor, "organization.created", "organization", organization.id,
            after={"name": name},
        )  # fmt: skip
    return Found(organization, created=created_id is not None)
