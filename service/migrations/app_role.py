"""The role the service connects as: it reads and writes rows, and can change nothing else.

Whoever owns a table can ALTER, DROP and TRUNCATE it and drop its triggers, the ones that keep
the audit log append-only among them. Migrations run as the owner; the API, the workers and
beat connect as this role. `factcheck db upgrade` sets it up after every upgrade, so a table a
migration adds is granted as it appears, and a privilege an earlier release granted and this
one does not is taken back.
"""

from __future__ import annotations

from collections.abc import Mapping

import psycopg2.extensions
from sqlalchemy import Connection, text

from service.config import AppRole
from service.db import make_engine
from service.migrations import MIGRATION_LOCK_ID, MigrationRefused
from service.models import Base

ROW_PRIVILEGES = ("SELECT", "INSERT", "UPDATE", "DELETE")
# Rows of an append-only table (the audit log) are added and read, never changed.
APPEND_ONLY_PRIVILEGES = ("SELECT", "INSERT")
# `factcheck users` and `db upgrade` on the service's URL read it to see the schema is current.
VERSION_TABLE = "alembic_version"
TABLE_PRIVILEGES = ("SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER")

# Each (table, privilege) the role holds, directly, through PUBLIC or through a role it
# belongs to; a privilege on one column of a table counts as held.
HELD = text(
    """
    SELECT t.name, p.privilege
      FROM unnest(CAST(:tables AS text[])) AS t (name),
           unnest(CAST(:privileges AS text[])) AS p (privilege)
     WHERE CASE WHEN p.privilege IN ('SELECT', 'INSERT', 'UPDATE', 'REFERENCES')
                THEN has_any_column_privilege(
                         :role, format('%I.%I', current_schema(), t.name), p.privilege)
                ELSE has_table_privilege(
                         :role, format('%I.%I', current_schema(), t.name), p.privilege)
           END
    """
)
# What would let the role change the schema whatever it is granted.
OWNER_RIGHTS = text(
    """
    SELECT r.rolsuper, r.rolcreaterole,
           pg_has_role(r.oid, d.datdba, 'MEMBER') AS owns_database,
           pg_has_role(r.oid, n.nspowner, 'MEMBER') AS owns_schema,
           ARRAY(SELECT c.relname FROM pg_class AS c
                  WHERE c.relnamespace = n.oid AND c.relkind IN ('r', 'p', 'S', 'v', 'm')
                    AND pg_has_role(r.oid, c.relowner, 'MEMBER')
                  ORDER BY c.relname) AS owned
      FROM pg_roles AS r, pg_database AS d, pg_namespace AS n
     WHERE r.rolname = :role AND d.datname = current_database() AND n.nspname = current_schema()
    """
)


class AppRoleRefused(MigrationRefused):
    """The service's role cannot be set up safely; the message says what to do."""


def expected_privileges() -> dict[str, tuple[str, ...]]:
    """Table -> exactly the privileges the service's role holds on it."""
    granted = {
        table.name: APPEND_ONLY_PRIVILEGES if table.info.get("append_only") else ROW_PRIVILEGES
        for table in Base.metadata.sorted_tables
    }
    return granted | {VERSION_TABLE: ("SELECT",)}


def grant_app_role(database_url: str, role: AppRole) -> bool:
    """Create `role` if it is missing and grant it exactly `expected_privileges()`; True if
    it was created.

    Runs as the owner of the tables (the URL migrations use), after the upgrade. Refuses a
    role that could change the schema whatever it is granted (a superuser, a role that may
    create roles, a member of the owner of the database, the schema or a table), and checks
    the outcome: a privilege the role would still hold through PUBLIC or another role is
    refused too, as is one that could not be granted. The password reaches the server only
    as a SCRAM-SHA-256 verifier, so no statement, server log or error message holds it.
    """
    engine = make_engine(database_url, pool_size=1)
    try:
        with engine.begin() as connection:
            connection.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": MIGRATION_LOCK_ID})
            _refuse_owner_rights(connection, role.name)
            created = _ensure_login(connection, role)
            _grant(connection, role.name)
            _check_privileges(connection, role.name)
    finally:
        engine.dispose()
    return created


def _quote(connection: Connection, name: str) -> str:
    return connection.dialect.identifier_preparer.quote_identifier(name)


def _refuse_owner_rights(connection: Connection, name: str) -> None:
    found = connection.execute(OWNER_RIGHTS, {"role": name}).one_or_none()
    if found is None:
        return
    reasons = []
    if found.rolsuper:
        reasons.append("it is a superuser")
    if found.rolcreaterole:
        reasons.append("it may create roles")
    if found.owns_database:
        reasons.append("it owns the database")
    if found.owns_schema:
        reasons.append("it owns the schema")
    if found.owned:
        reasons.append(f"it owns {', '.join(found.owned)}")
    if reasons:
        raise AppRoleRefused(
            f"the role {name} could change the schema ({'; '.join(reasons)}, or belongs to a "
            "role that does): the service must connect as a role that can only read and write "
            "rows; name another FACTCHECK_DB_APP_ROLE"
        )


def _ensure_login(connection: Connection, role: AppRole) -> bool:
    exists = connection.scalar(
        text("SELECT 1 FROM pg_roles WHERE rolname = :role"), {"role": role.name}
    )
    if exists is None and role.password is None:
        raise AppRoleRefused(
            f"the role {role.name} does not exist and there is no password to create it with: "
            "set FACTCHECK_DB_APP_PASSWORD"
        )
    password, params = "", {}
    if role.password is not None:
        dbapi = connection.connection.dbapi_connection
        verifier = psycopg2.extensions.encrypt_password(
            role.password, role.name, dbapi, "scram-sha-256"
        )
        password, params = " PASSWORD :verifier", {"verifier": verifier}
    quoted = _quote(connection, role.name)
    if exists is None:
        connection.execute(
            text(
                f"CREATE ROLE {quoted} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION "
                f"NOBYPASSRLS{password}"
            ),
            params,
        )
        return True
    connection.execute(text(f"ALTER ROLE {quoted} LOGIN{password}"), params)
    return False


def _grant(connection: Connection, name: str) -> None:
    role = _quote(connection, name)
    schema = _quote(connection, connection.scalar(text("SELECT current_schema()")))
    database = _quote(connection, connection.scalar(text("SELECT current_database()")))
    statements = [
        f"GRANT CONNECT ON DATABASE {database} TO {role}",
        f"GRANT USAGE ON SCHEMA {schema} TO {role}",
        f"REVOKE CREATE ON SCHEMA {schema} FROM {role}",
        # From nothing, so what an earlier release granted and this one does not is gone.
        f"REVOKE ALL ON ALL TABLES IN SCHEMA {schema} FROM {role}",
        f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA {schema} FROM {role}",
        *(
            f"GRANT {', '.join(privileges)} ON TABLE {schema}.{_quote(connection, table)} TO {role}"
            for table, privileges in expected_privileges().items()
        ),
        # nextval() for the id columns; not setval(), which needs UPDATE.
        f"GRANT USAGE ON ALL SEQUENCES IN SCHEMA {schema} TO {role}",
        # The triggers run as the writer, and call functions of the schema.
        f"GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA {schema} TO {role}",
    ]
    for statement in statements:
        connection.execute(text(statement))


def _check_privileges(connection: Connection, name: str) -> None:
    expected = expected_privileges()
    held: dict[str, set[str]] = {}
    params = {"role": name, "tables": list(expected), "privileges": list(TABLE_PRIVILEGES)}
    for table, privilege in connection.execute(HELD, params):
        held.setdefault(table, set()).add(privilege)
    missing = _differences({t: set(p) - held.get(t, set()) for t, p in expected.items()})
    if missing:
        raise AppRoleRefused(
            f"could not grant the role {name} {missing}: run `factcheck db upgrade` as the "
            "owner of the tables"
        )
    extra = _differences({t: held.get(t, set()) - set(p) for t, p in expected.items()})
    if extra:
        raise AppRoleRefused(
            f"the role {name} holds {extra} through PUBLIC or a role it belongs to: revoke "
            "them, the service must not have them"
        )
    if connection.scalar(
        text("SELECT has_schema_privilege(:role, current_schema(), 'CREATE')"), {"role": name}
    ):
        # A function it made there could be called by a later migration, run as the owner.
        raise AppRoleRefused(
            f"the role {name} may create objects in the schema through PUBLIC: run "
            "REVOKE CREATE ON SCHEMA public FROM PUBLIC (the default since PostgreSQL 15)"
        )


def _differences(by_table: Mapping[str, set[str]]) -> str:
    return "; ".join(
        f"{', '.join(sorted(privileges))} on {table}"
        for table, privileges in sorted(by_table.items())
        if privileges
    )
