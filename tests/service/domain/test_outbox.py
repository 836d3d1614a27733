"""The outbox: published after commit, re-sent by the relay until a task completes it, and
its work marked failed when the relay gives up."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select, text, update

from service.db import session_scope
from service.domain.outbox import (
    MAX_BACKOFF_DOUBLINGS,
    PUBLISHER_KEY,
    complete,
    enqueue,
    give_up,
    mark_started,
    pending_count,
    relay,
    resend_cut_off,
)
from service.models import Article, OutboxMessage, WebhookDelivery, WebhookSubscription
from tests.factories import article_payload
from workers.tasks import SETTLERS


class Recorder:
    """A publisher that records what it was asked to send (or fails like a dead broker)."""

    def __init__(self, fail_after: int | None = None) -> None:
        self.sent: list[tuple[str, dict, int]] = []
        self.fail_after = fail_after

    def __call__(self, task, payload, outbox_id):
        if self.fail_after is not None and len(self.sent) >= self.fail_after:
            raise ConnectionError("broker down")
        self.sent.append((task, dict(payload), outbox_id))


def age_all(sessions, seconds: int) -> None:
    with session_scope(sessions) as session:
        session.execute(
            update(OutboxMessage).values(last_sent_at=text(f"now() - interval '{seconds} seconds'"))
        )


def test_message_is_published_only_after_commit(sessions):
    recorder = Recorder()
    sessions.configure(info={PUBLISHER_KEY: recorder})
    with session_scope(sessions) as session:
        message = enqueue(session, "factcheck.extract_claims", {"article_id": 7, "revision": 1})
        session.flush()
        assert recorder.sent == []
    assert recorder.sent == [
        ("factcheck.extract_claims", {"article_id": 7, "revision": 1}, message.id)
    ]


def test_rolled_back_message_is_never_published(sessions):
    recorder = Recorder()
    sessions.configure(info={PUBLISHER_KEY: recorder})
    try:
        with session_scope(sessions) as session:
            enqueue(session, "factcheck.extract_claims", {"article_id": 8, "revision": 1})
            raise RuntimeError("the request failed")
    except RuntimeError:
        pass
    assert recorder.sent == []
    with session_scope(sessions) as session:
        assert pending_count(session) == 0


def test_relay_resends_only_stale_pending_messages(sessions):
    with session_scope(sessions) as session:
        stale = enqueue(session, "t", {"n": 1}).id
        done = enqueue(session, "t", {"n": 2}).id
    age_all(sessions, 600)
    with session_scope(sessions) as session:
        complete(session, done)
        fresh = enqueue(session, "t", {"n": 3}).id
    recorder = Recorder()
    with session_scope(sessions) as session:
        sent = relay(session, recorder, redeliver_after=timedelta(seconds=60), max_attempts=5)
    assert sent == 1
    assert [outbox_id for _, _, outbox_id in recorder.sent] == [stale]
    with session_scope(sessions) as session:
        row = session.get_one(OutboxMessage, stale)
        assert row.attempts == 1
        assert session.get_one(OutboxMessage, fresh).attempts == 0
    # Just re-sent: the next run leaves it alone.
    with session_scope(sessions) as session:
        assert relay(session, recorder, redeliver_after=timedelta(seconds=60), max_attempts=5) == 0


def test_relay_stops_at_a_dead_broker_and_keeps_the_rest(sessions):
    with session_scope(sessions) as session:
        ids = [enqueue(session, "t", {"n": n}).id for n in range(3)]
    age_all(sessions, 600)
    with session_scope(sessions) as session:
        sent = relay(
            session, Recorder(fail_after=1), redeliver_after=timedelta(seconds=1), max_attempts=5
        )
    assert sent == 1
    with session_scope(sessions) as session:
        attempts = session.scalars(
            select(OutboxMessage.attempts).where(OutboxMessage.id.in_(ids)).order_by("id")
        ).all()
        assert attempts == [1, 0, 0]
        assert pending_count(session) == 3


def started_long_ago(sessions, starts: int) -> None:
    """Every message started by `starts` workers, the last ten minutes ago."""
    with session_scope(sessions) as session:
        session.execute(
            update(OutboxMessage).values(
                starts=starts, started_at=text("now() - interval '600 seconds'")
            )
        )


def sent_ago(sessions, seconds: int, attempts: int) -> None:
    with session_scope(sessions) as session:
        session.execute(
            update(OutboxMessage).values(
                attempts=attempts,
                last_sent_at=text(f"now() - interval '{seconds} seconds'"),
            )
        )


def test_relay_stops_once_max_workers_started_a_message(sessions):
    with session_scope(sessions) as session:
        enqueue(session, "t", {})
    age_all(sessions, 600)
    started_long_ago(sessions, starts=5)
    with session_scope(sessions) as session:
        assert relay(session, Recorder(), redeliver_after=timedelta(seconds=1), max_attempts=5) == 0


def test_re_sends_back_off_so_a_backlog_gets_few_copies(sessions):
    """Each re-send doubles the wait before the next, up to 2**MAX_BACKOFF_DOUBLINGS."""
    with session_scope(sessions) as session:
        enqueue(session, "t", {})
    limits = {"redeliver_after": timedelta(seconds=60), "max_attempts": 5}
    for attempts, waited, resent in [
        (0, 70, True),
        (1, 70, False),
        (1, 130, True),
        (3, 470, False),
        (3, 490, True),
        (MAX_BACKOFF_DOUBLINGS + 4, 60 * 2**MAX_BACKOFF_DOUBLINGS + 10, True),
    ]:
        sent_ago(sessions, waited, attempts)
        with session_scope(sessions) as session:
            assert relay(session, Recorder(), **limits) == int(resent), (attempts, waited)


def test_no_copy_is_sent_while_a_worker_is_on_the_message(sessions):
    with session_scope(sessions) as session:
        message = enqueue(session, "t", {}).id
    age_all(sessions, 600)
    with session_scope(sessions) as session:
        mark_started(session, message)
    limits = {"redeliver_after": timedelta(seconds=60), "max_attempts": 5}
    with session_scope(sessions) as session:
        assert relay(session, Recorder(), lease=timedelta(seconds=150), **limits) == 0
    started_long_ago(sessions, starts=1)
    with session_scope(sessions) as session:
        assert relay(session, Recorder(), lease=timedelta(seconds=150), **limits) == 1


def test_starts_are_counted_and_only_for_pending_messages(sessions):
    with session_scope(sessions) as session:
        pending = enqueue(session, "t", {}).id
        done = enqueue(session, "t", {}).id
        complete(session, done)
    for _ in range(2):
        with session_scope(sessions) as session:
            mark_started(session, pending)
            mark_started(session, done)
            mark_started(session, None)
    with session_scope(sessions) as session:
        assert session.get_one(OutboxMessage, pending).starts == 2
        assert session.get_one(OutboxMessage, pending).started_at is not None
        assert session.get_one(OutboxMessage, done).starts == 0


def test_a_message_waiting_in_a_backlog_is_never_given_up_on(client, admin_headers, sessions):
    """Re-sent many times but never started: the broker holds it, no worker failed on it."""
    article = client.post(
        "/api/v1/articles", json=article_payload(), headers=admin_headers
    ).get_json()
    sent_ago(sessions, 6000, attempts=50)
    with session_scope(sessions) as session:
        assert (
            give_up(session, SETTLERS, redeliver_after=timedelta(seconds=60), max_attempts=3) == 0
        )
        assert session.get_one(Article, article["id"]).status == "queued"


def test_concurrent_relays_never_send_the_same_row(sessions):
    with session_scope(sessions) as session:
        enqueue(session, "t", {})
    age_all(sessions, 600)
    first, second = Recorder(), Recorder()
    with session_scope(sessions) as one:
        assert relay(one, first, redeliver_after=timedelta(seconds=1), max_attempts=5) == 1
        # `one` still holds its row lock: a second relay skips the row instead of waiting.
        with session_scope(sessions) as two:
            assert relay(two, second, redeliver_after=timedelta(seconds=1), max_attempts=5) == 0
    assert len(first.sent) == 1
    assert second.sent == []


def test_work_never_completed_is_marked_failed_when_the_relay_gives_up(
    client, admin_headers, sessions
):
    """An article whose extraction kills its worker every time ends `failed`, not `queued`.

    The failure also goes out as a webhook event; if that delivery's message is never
    completed either, the delivery fails in turn. A message of an unknown task stays pending.
    """
    with session_scope(sessions) as session:
        session.add(
            WebhookSubscription(
                url="https://hooks.example.org/factcheck",
                events=["article.failed"],
                secret="s3cret",
                created_by="test",
            )
        )
        unknown = enqueue(session, "elsewhere.task", {}).id
    article = client.post(
        "/api/v1/articles", json=article_payload(), headers=admin_headers
    ).get_json()
    limits = {"redeliver_after": timedelta(seconds=60), "max_attempts": 3}
    age_all(sessions, 600)
    # The third worker started it just now: it has not had its chance yet.
    with session_scope(sessions) as session:
        session.execute(update(OutboxMessage).values(starts=3, started_at=func.now()))
    with session_scope(sessions) as session:
        assert give_up(session, SETTLERS, **limits) == 0
    started_long_ago(sessions, starts=3)
    with session_scope(sessions) as session:
        assert give_up(session, SETTLERS, **limits) == 1
    with session_scope(sessions) as session:
        stored = session.get_one(Article, article["id"])
        assert stored.status == "failed"
        assert "never completed: 3 workers started it" in (stored.failure_reason or "")
        delivery = session.scalars(select(WebhookDelivery)).one()
        assert delivery.status == "pending"
        assert delivery.payload["data"]["status"] == "failed"
    age_all(sessions, 600)
    started_long_ago(sessions, starts=3)
    with session_scope(sessions) as session:
        assert give_up(session, SETTLERS, **limits) == 1
    with session_scope(sessions) as session:
        delivery = session.scalars(select(WebhookDelivery)).one()
        assert delivery.status == "failed"
        assert "never completed" in (delivery.last_error or "")
        pending = session.scalars(
            select(OutboxMessage.id).where(OutboxMessage.completed_at.is_(None))
        ).all()
        assert pending == [unknown]


def test_a_message_nobody_can_settle_is_reported_once_per_period(sessions, caplog):
    """Left pending for an operator, it is neither logged on every relay run nor in the way."""
    with session_scope(sessions) as session:
        unknown = enqueue(session, "elsewhere.task", {}).id
    age_all(sessions, 600)
    started_long_ago(sessions, starts=3)
    limits = {"redeliver_after": timedelta(seconds=60), "max_attempts": 3}
    for _ in range(3):
        with session_scope(sessions) as session:
            assert give_up(session, SETTLERS, **limits) == 0
    reports = [r for r in caplog.records if "never completed" in r.getMessage()]
    assert len(reports) == 1
    assert str(unknown) in reports[0].getMessage()
    with session_scope(sessions) as session:
        assert session.get_one(OutboxMessage, unknown).completed_at is None
    age_all(sessions, 600)
    with session_scope(sessions) as session:
        give_up(session, SETTLERS, **limits)
    assert len([r for r in caplog.records if "never completed" in r.getMessage()]) == 2


def test_a_restarted_worker_resends_what_its_name_started_and_never_completed(sessions):
    with session_scope(sessions) as session:
        cut_off = enqueue(session, "t", {"n": 1}).id
        other_worker = enqueue(session, "t", {"n": 2}).id
        completed = enqueue(session, "t", {"n": 3}).id
        exhausted = enqueue(session, "t", {"n": 4}).id
        never_started = enqueue(session, "t", {"n": 5}).id
    with session_scope(sessions) as session:
        for message in (cut_off, completed, exhausted):
            mark_started(session, message, "extraction@host")
        mark_started(session, other_worker, "extraction@elsewhere")
        complete(session, completed)
        session.execute(
            update(OutboxMessage).where(OutboxMessage.id == exhausted).values(starts=20)
        )
    recorder = Recorder()
    with session_scope(sessions) as session:
        sent = resend_cut_off(session, recorder, worker="extraction@host", max_attempts=20)
    assert sent == 1
    assert [outbox_id for _, _, outbox_id in recorder.sent] == [cut_off]
    with session_scope(sessions) as session:
        attempts = dict(session.execute(select(OutboxMessage.id, OutboxMessage.attempts)).all())
    assert attempts[cut_off] == 1
    assert attempts[never_started] == attempts[other_worker] == 0


def test_after_the_broker_lost_its_tasks_everything_sent_before_is_due_at_once(sessions):
    with session_scope(sessions) as session:
        lost = enqueue(session, "t", {"n": 1}).id
        backed_off = enqueue(session, "t", {"n": 2}).id
        in_flight = enqueue(session, "t", {"n": 3}).id
        session.execute(
            update(OutboxMessage).where(OutboxMessage.id == backed_off).values(attempts=5)
        )
        mark_started(session, in_flight, "extraction@host")
    with session_scope(sessions) as session:
        cutoff = session.scalar(select(func.now()))
        later = enqueue(session, "t", {"n": 4}).id
    recorder = Recorder()
    with session_scope(sessions) as session:
        sent = relay(
            session,
            recorder,
            redeliver_after=timedelta(seconds=120),
            max_attempts=20,
            lease=timedelta(seconds=150),
            sent_before=cutoff,
        )
    # Sent just now, re-sent five times before: due all the same. The one a worker is on
    # is left to it, and one sent after the loss is still in the broker.
    assert sorted(outbox_id for _, _, outbox_id in recorder.sent) == [lost, backed_off]
    assert sent == 2
    assert later not in [outbox_id for _, _, outbox_id in recorder.sent]
