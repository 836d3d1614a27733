"""Organisations: every user belongs to one, and every article to its submitter's.

A newsroom's token could read every newsroom's articles, and (source, external_id) was
unique across the whole service, so one newsroom could take another's external ids first.
Now external ids and idempotency keys are unique within an organisation, and a newsroom
reads its own organisation's articles only.

The desk's own organisation, `desk`, is created here; every existing user and article joins
it. On a big `articles` table nothing waits long:

- the columns come with a constant default, which PostgreSQL stores once in the catalogue
  instead of writing every row, and their foreign keys are added NOT VALID: brief locks;
- after that commit, the foreign keys are validated and the new unique indexes built
  CONCURRENTLY, reads and writes going on meanwhile; the old indexes are dropped only once
  the new ones exist, and the defaults last (until then, API processes still running the
  previous release go on submitting, into the desk's organisation).

Every step can run again after an interruption. Idempotency keys were unique per submitter:
if two submitters used the same key, it cannot be unique within the desk's organisation,
and the upgrade stops before changing anything, saying how to find them (which article keeps
the key is the operator's choice).

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from service.migrations import MigrationRefused

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

DESK = "desk"
TABLES = ("users", "articles")
# (final name, the definition after ON articles): built under a temporary name, then renamed.
UNIQUE_INDEXES = (
    (
        "uq_articles_source_external_id",
        "(organization_id, source, external_id) NULLS NOT DISTINCT WHERE external_id IS NOT NULL",
    ),
    (
        "uq_articles_idempotency_key",
        "(organization_id, idempotency_key) WHERE idempotency_key IS NOT NULL",
    ),
)
LIST_INDEX = "ix_articles_organization_id"
SHARED_KEYS = (
    "SELECT idempotency_key, array_agg(id ORDER BY id) AS ids FROM articles "
    "WHERE idempotency_key IS NOT NULL GROUP BY idempotency_key HAVING count(*) > 1"
)
RESOLVE = (
    "For each, decide which article keeps the key (a retry with it will return that article) "
    "and clear it on the others (UPDATE articles SET idempotency_key = NULL WHERE id IN "
    "(...)); then run `factcheck db upgrade` again."
)
SHOWN = 5


def _foreign_key(table: str) -> str:
    return f"fk_{table}_organization_id_organizations"


def upgrade() -> None:
    bind = op.get_bind()
    _refuse_shared_keys(bind, changed=False)
    op.execute(
        "CREATE TABLE IF NOT EXISTS organizations ("
        "id bigserial CONSTRAINT pk_organizations PRIMARY KEY, "
        "name varchar(100) NOT NULL CONSTRAINT uq_organizations_name UNIQUE, "
        "created_at timestamptz NOT NULL DEFAULT now())"
    )
    bind.execute(
        sa.text("INSERT INTO organizations (name) VALUES (:name) ON CONFLICT DO NOTHING"),
        {"name": DESK},
    )
    desk = bind.scalar(sa.text("SELECT id FROM organizations WHERE name = :name"), {"name": DESK})
    for table in TABLES:
        op.execute(
            f"ALTER TABLE {table} ADD COLUMN IF NOT EXISTS "
            f"organization_id bigint NOT NULL DEFAULT {int(desk)}"
        )
        known = sa.text("SELECT 1 FROM pg_constraint WHERE conname = :name")
        if bind.scalar(known, {"name": _foreign_key(table)}) is None:
            op.execute(
                f"ALTER TABLE {table} ADD CONSTRAINT {_foreign_key(table)} "
                "FOREIGN KEY (organization_id) REFERENCES organizations (id) NOT VALID"
            )
    with op.get_context().autocommit_block():
        for table in TABLES:
            # Scans the table under a lock that lets reads and writes through.
            op.execute(f"ALTER TABLE {table} VALIDATE CONSTRAINT {_foreign_key(table)}")
        for name, definition in UNIQUE_INDEXES:
            _replace_index(bind, name, definition)
        _build_concurrently(
            bind,
            LIST_INDEX,
            f"CREATE INDEX CONCURRENTLY {LIST_INDEX} ON articles (organization_id, id)",
        )
        # Rows written before this keep reading the desk's id (stored in the catalogue);
        # from now on every insert names its organisation.
        for table in TABLES:
            op.execute(f"ALTER TABLE {table} ALTER COLUMN organization_id DROP DEFAULT")


def _replace_index(bind: sa.Connection, name: str, definition: str) -> None:
    """Build the organisation-scoped index `name` beside the old one, then swap them."""
    if "organization_id" in (_index_definition(bind, name) or ""):
        return  # an earlier run got this far
    building = f"{name}_0013"
    try:
        _build_concurrently(
            bind, building, f"CREATE UNIQUE INDEX CONCURRENTLY {building} ON articles {definition}"
        )
    except sa.exc.IntegrityError:
        # An API process of the previous release stored a shared key during the migration.
        op.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {building}")
        _refuse_shared_keys(bind, changed=True)
        raise
    op.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")
    op.execute(f"ALTER INDEX {building} RENAME TO {name}")


def _build_concurrently(bind: sa.Connection, name: str, create: str) -> None:
    """Run `create` unless a valid index `name` exists; an interrupted build left an invalid
    one behind, which is dropped and built again."""
    valid = bind.scalar(
        sa.text("SELECT indisvalid FROM pg_index WHERE indexrelid = to_regclass(:name)"),
        {"name": name},
    )
    if valid:
        return
    if valid is not None:
        op.execute(f"DROP INDEX CONCURRENTLY {name}")
    op.execute(create)


def _index_definition(bind: sa.Connection, name: str) -> str | None:
    return bind.scalar(
        sa.text("SELECT indexdef FROM pg_indexes WHERE indexname = :name"), {"name": name}
    )


def _refuse_shared_keys(bind: sa.Connection, *, changed: bool) -> None:
    shared = bind.execute(sa.text(f"{SHARED_KEYS} ORDER BY idempotency_key")).all()
    if not shared:
        return
    examples = "; ".join(f"{row.idempotency_key!r}: articles {row.ids}" for row in shared[:SHOWN])
    more = f" and {len(shared) - SHOWN} more" if len(shared) > SHOWN else ""
    done = (
        "The organisations table and columns are in place; the indexes are unchanged."
        if changed
        else "Nothing was changed."
    )
    raise MigrationRefused(
        f"migration 0013 refused: {len(shared)} Idempotency-Key value(s) were used by several "
        f"submitters ({examples}{more}); every existing article joins the desk's organisation, "
        f"where a key must be unique. {done} List them with:\n    {SHARED_KEYS};\n{RESOLVE}"
    )


# The indexes as they were before this migration, and how many values each would find
# shared.
OLD_INDEXES = (
    (
        "uq_articles_source_external_id",
        ("source", "external_id"),
        "external_id IS NOT NULL",
        "SELECT count(*) FROM (SELECT 1 FROM articles WHERE external_id IS NOT NULL "
        "GROUP BY source, external_id HAVING count(*) > 1) AS shared",
    ),
    (
        "uq_articles_idempotency_key",
        ("submitted_by", "idempotency_key"),
        "idempotency_key IS NOT NULL",
        "SELECT count(*) FROM (SELECT 1 FROM articles WHERE idempotency_key IS NOT NULL "
        "GROUP BY submitted_by, idempotency_key HAVING count(*) > 1) AS shared",
    ),
)


def downgrade() -> None:
    bind = op.get_bind()
    clashes = [
        f"{', '.join(columns)}: {count}"
        for _, columns, _, shared in OLD_INDEXES
        if (count := bind.scalar(sa.text(shared)))
    ]
    if clashes:
        raise MigrationRefused(
            "migration 0013 cannot be undone: values unique within each organisation are "
            f"shared between organisations ({'; '.join(clashes)} value(s)), and the previous "
            "schema makes them unique across the service. Nothing was changed."
        )
    # Dropping the columns drops the indexes built on them.
    for table in reversed(TABLES):
        op.execute(f"ALTER TABLE {table} DROP COLUMN organization_id")
    for name, columns, where, _ in OLD_INDEXES:
        op.create_index(
            name,
            "articles",
            list(columns),
            unique=True,
            postgresql_nulls_not_distinct=True,
            postgresql_where=sa.text(where),
        )
    op.execute("DROP TABLE organizations")
