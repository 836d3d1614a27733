"""The demo data of `factcheck up --demo`: the sample articles, fact-checks to match their
claims against, and an admin user to try them."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

from service.cli.article_file import read_article_file
from service.config import Settings

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
# Invented ClaimReviews: one says what a demo article says, so that its claim shows a match.
DEMO_FACTCHECKS = EXAMPLES / "demo-factchecks.jsonld"
DEMO_SOURCE = "factcheck-demo"
DEMO_USER = "demo-admin"


def demo_user_token(settings: Settings) -> str:
    """A fresh token for the demo admin user (created on first use; older tokens revoked).

    A stored user, unlike the bootstrap admin token, can also take claims and write
    verdicts, so the README walk-through works end to end with it.
    """
    from service.db import make_engine, make_session_factory, session_scope
    from service.domain import NotFound
    from service.domain.users import create_user, find_user, rotate_token

    engine = make_engine(settings.database_url, pool_size=1)
    try:
        with session_scope(make_session_factory(engine)) as session:
            try:
                user = find_user(session, DEMO_USER)
            except NotFound:
                return create_user(session, DEMO_USER, "admin", actor="demo").token
            return rotate_token(session, user.id, actor="demo").token
    finally:
        engine.dispose()


def submit_demo_articles(settings: Settings) -> int:
    """Submit examples/*.txt through the domain, validated as the API validates them;
    idempotent, so a restart adds nothing."""
    from schemas.articles import ArticleInSchema
    from service.db import make_engine, make_session_factory, session_scope
    from service.domain.articles import Submitter, submit_article
    from service.domain.organizations import desk_organization_id
    from service.domain.outbox import PUBLISHER_KEY
    from workers.celery_app import make_celery, send

    engine = make_engine(settings.database_url, pool_size=1)
    celery = make_celery(settings)
    sessions = make_session_factory(engine)
    sessions.configure(info={PUBLISHER_KEY: lambda t, p, i: send(celery, t, p, i)})
    created = 0
    try:
        for path in sorted(EXAMPLES.glob("*.txt")):
            with session_scope(sessions) as session:
                demo = Submitter(None, "demo", desk_organization_id(session))
                article = ArticleInSchema().load(read_article_file(path, DEMO_SOURCE))
                result = submit_article(session, article, demo)
                created += result.created
    finally:
        engine.dispose()
    return created


def import_demo_factchecks(env: Mapping[str, str]) -> bool:
    """Import examples/demo-factchecks.jsonld with `factcheck import-factchecks` (idempotent, so
    a restart changes nothing); whether it succeeded.

    In a process of its own, so that `factcheck up` does not hold the sentence encoder the
    import loads for the rest of its run.
    """
    command = [sys.executable, "-c", "from service.cli import main; main()"]
    done = subprocess.run([*command, "import-factchecks", str(DEMO_FACTCHECKS)], env=env)
    return done.returncode == 0
