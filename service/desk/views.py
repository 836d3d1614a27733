"""The desk's pages and the actions of their forms.

Every view declares the permission it needs (`needs`), from the API's permission table, or
is marked `open_to_all` (signing in); the blueprint refuses a view that declares neither.
Actions call the same domain functions as the API, with the version the form was read at
where the API takes If-Match, and answer with a redirect to the page they came from (a
message says what was done), or with the refusal: the domain's words, the API's status, and
for a stale form what changed since it was read.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Mapping
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_wtf.csrf import CSRFError
from sqlalchemy import select

import service.desk.forms as forms
from schemas.common import MAX_LIMIT, encode_cursor
from service.api import current_actor, db, read_db, services
from service.api.claims import detail_of
from service.api.publishing import annotation_document, claim_review_document
from service.auth import Principal, caller, guard, refusal
from service.desk.render import Mark, marked_body
from service.desk.security import csrf, signing_key
from service.desk.sessions import sign_in, sign_out
from service.domain import DomainError, PreconditionFailed, publishing
from service.domain import desk as desk_reads
from service.domain import desk_sessions as stored
from service.domain import verdicts as verdicts_domain
from service.domain.articles import get_article, list_claims
from service.domain.claims import lifecycle, queue
from service.domain.claims.spans import add_claim
from service.domain.matching import review_match
from service.domain.users import hash_token
from service.errors import domain_status
from service.models import User, Verdict
from service.vocabulary import (
    CLAIM_KINDS,
    CLAIM_STATUSES,
    CLAIM_TYPES,
    MATCH_REVIEWS,
    PERMISSIONS,
    STANCES,
)

F = TypeVar("F", bound=Callable[..., Any])

# Rows per page of the queue and the editors' lists.
PAGE_SIZE = 50
# The claim page shows this many of its latest history events (the API pages through all).
HISTORY_SHOWN = 100
# The status moves a form offers, by the claim's status (the lifecycle refuses the rest).
STATUS_ACTIONS = {
    "new": (("not_checkworthy", "Not check-worthy"),),
    "in_review": (
        ("reviewed", "Mark reviewed"),
        ("new", "Back to the queue"),
        ("not_checkworthy", "Not check-worthy"),
    ),
    "reviewed": (("in_review", "Reopen"),),
    "not_checkworthy": (("new", "Reopen"),),
    "published": (),
}


class DeskBlueprint(Blueprint):
    """A Blueprint that refuses a view declaring no permission (as the API's does)."""

    def route(self, rule: str, **options: Any) -> Callable[[F], F]:
        register = super().route(rule, **options)

        def guarded(view: F) -> F:
            if not hasattr(view, "desk_permission"):
                raise TypeError(f"desk {rule}: declare @needs(...) or @open_to_all")
            return register(view)

        return guarded


blp = DeskBlueprint(
    "desk",
    __name__,
    url_prefix="/desk",
    template_folder="templates",
    static_folder="static",
    static_url_path="/static",
)


def needs(permission: str) -> Callable[[F], F]:
    """Serve the view only to a signed-in user whose role grants `permission`: others are
    sent to sign in (a page) or refused (an action), 403 if signed in without it."""

    def signed_out() -> ResponseReturnValue:
        if request.method == "GET":
            return redirect(url_for("desk.login", next=_local_path(request.full_path)))
        return _refusal(401, "Signed out", "Your session has ended: sign in again.")

    def refused(principal: Principal) -> ResponseReturnValue:
        return _refusal(403, "Forbidden", refusal(principal, permission))

    return guard(permission, signed_out=signed_out, refused=refused, mark="desk_permission")


def open_to_all(view: F) -> F:
    view.desk_permission = None  # type: ignore[attr-defined]
    return view


@blp.before_request
def _protect_forms() -> None:
    unavailable = getattr(session, "unavailable", None)
    if unavailable is not None:
        raise unavailable  # the app's handlers answer 503 (the database is away)
    signing_key(current_app)
    if request.method == "POST":
        csrf.protect()


@blp.after_request
def _private(response: Response) -> Response:
    # Pages show desk work and carry CSRF tokens: never kept by a shared cache or framed.
    # (The script and the style sheet are cached as Flask serves static files.)
    if request.endpoint == "desk.static":
        return response
    response.headers.setdefault("Cache-Control", "no-store")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault(
        "Content-Security-Policy",
        "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'",
    )
    response.headers.setdefault("Referrer-Policy", "same-origin")
    return response


@blp.app_template_global()
def can(permission: str) -> bool:
    principal = caller()
    return principal is not None and principal.role in PERMISSIONS[permission]


@blp.app_template_global()
def signed_in() -> Principal | None:
    return caller()


def _refusal(status: int, title: str, detail: str, **context: Any) -> tuple[str, int]:
    return render_template(
        "error.html", status=status, title=title, detail=detail, **context
    ), status


@blp.errorhandler(DomainError)
def _domain_error(error: DomainError) -> tuple[str, int]:
    status = domain_status(error)
    changes: list[Any] = []
    claim_id = g.get("desk_claim_id")
    if isinstance(error, PreconditionFailed) and claim_id is not None:
        changes = lifecycle.history(
            db(), claim_id, limit=HISTORY_SHOWN, after_id=g.get("desk_seen") or None
        )
    back = url_for("desk.claim", claim_id=claim_id) if claim_id is not None else None
    return _refusal(status, error.title, error.detail, changes=changes, back=back)


@blp.errorhandler(forms.FormInvalid)
def _form_invalid(error: forms.FormInvalid) -> tuple[str, int]:
    claim_id = g.get("desk_claim_id")
    back = url_for("desk.claim", claim_id=claim_id) if claim_id is not None else None
    return _refusal(
        400, "The form has errors", "Nothing was changed.", errors=error.errors, back=back
    )


@blp.errorhandler(CSRFError)
def _csrf_refused(error: CSRFError) -> tuple[str, int]:
    return _refusal(
        400,
        "Form refused",
        f"{error.description} A form is taken only from a desk page of this session: "
        "reload the page and try again.",
    )


def _local_path(path: str) -> str | None:
    """`path` if it is a desk path on this site (never another site: no open redirect)."""
    parts = urlsplit(path)
    if parts.scheme or parts.netloc or not parts.path.startswith("/desk"):
        return None
    return path.rstrip("?")


# Signing in and out


@blp.route("/login", methods=["GET"])
@open_to_all
def login() -> ResponseReturnValue:
    if caller() is not None:
        return redirect(_local_path(request.args.get("next", "")) or url_for("desk.queue_page"))
    return render_template("login.html", next=_local_path(request.args.get("next", "")))


@blp.route("/login", methods=["POST"])
@open_to_all
def login_with_token() -> Any:
    """Sign in with a personal API token, pasted once."""
    token = request.form.get("token", "").strip()
    target = _local_path(request.form.get("next", "")) or url_for("desk.queue_page")
    found = stored.sign_in_with_token(db(), token) if token else None
    if found is None:
        refused = "That token is not valid (unknown, revoked, or its user is disabled)."
        admin_token = services().settings.admin_token
        if admin_token and hmac.compare_digest(hash_token(admin_token), hash_token(token)):
            refused = "The bootstrap admin token cannot sign in: use a user's own token."
        return render_template("login.html", next=target, error=refused), 401
    return _signed_in(found, target)


@blp.route("/login/<token>", methods=["GET"])
@open_to_all
def login_link(token: str) -> str:
    # Only a page: a link previewer's GET must not spend the link.
    return render_template("login_link.html", token=token)


@blp.route("/login/<token>", methods=["POST"])
@open_to_all
def use_login_link(token: str) -> Any:
    found = stored.use_login_link(db(), token)
    if found is None:
        error = "This sign-in link is not valid: it was used, it expired, or it never existed."
        return render_template("login.html", next=None, error=error), 401
    return _signed_in(found, url_for("desk.queue_page"))


def _signed_in(who: stored.SignIn, target: str) -> ResponseReturnValue:
    """Sign the browser in as `who` and go on to `target`; refused (403) if their role reads
    none of the desk's pages (a newsroom token is a machine client of the API: it may not
    read the queue)."""
    role = db().scalar(select(User.role).where(User.id == who.user_id))
    if role not in PERMISSIONS["claims:read"]:
        refused = (
            f"The {role} role may not claims:read, so the desk has no page for it: use the API."
        )
        return render_template("login.html", next=None, error=refused), 403
    sign_in(session, who)
    flash(f"Signed in as {who.name}.")
    return redirect(target, 303)


@blp.route("/logout", methods=["POST"])
@open_to_all
def logout() -> ResponseReturnValue:
    sign_out(session)
    return redirect(url_for("desk.login"), 303)


# The queue


@blp.route("/", methods=["GET"])
@needs("claims:read")
def queue_page() -> Any:
    """The review queue, with the API's filters, search and keyset paging."""
    try:
        query = forms.queue_query(request.args)
    except forms.FormInvalid as invalid:
        return render_template(
            "queue.html", items=[], errors=invalid.errors, **_queue_context({})
        ), 400
    limit = min(query["limit"], PAGE_SIZE)
    items = queue.list_queue(
        read_db(),
        queue.queue_filter(query),
        sort=query["sort"],
        limit=limit,
        after=query.get("cursor"),
    )
    next_args = None
    if len(items) == limit:
        next_args = {
            **{k: v for k, v in request.args.items() if v and k != "cursor"},
            "cursor": encode_cursor(*queue.queue_cursor(items[-1])),
        }
    ids = [item.id for item in items]
    return render_template(
        "queue.html",
        items=items,
        matches=desk_reads.match_summaries(read_db(), ids),
        names=desk_reads.user_names(read_db(), (item.assignee_id for item in items)),
        next_args=next_args,
        errors={},
        **_queue_context(request.args),
    )


def _queue_context(args: Mapping[str, str]) -> dict[str, Any]:
    return {
        "args": args,
        "statuses": CLAIM_STATUSES,
        "types": CLAIM_TYPES,
        "kinds": CLAIM_KINDS,
        "me": caller(),
    }


# A claim


@blp.route("/claims/<int:claim_id>", methods=["GET"])
@needs("claims:read")
def claim(claim_id: int) -> str:
    settings = services().settings
    detail = detail_of(claim_id)
    article = get_article(db(), detail["article_id"])
    own = Mark(claim_id, detail["start"], detail["end"], detail["checkworthy"])
    if detail["revision"] != article.revision or detail["orphaned"]:
        body = desk_reads.revision_body(db(), article, detail["revision"])
        marks = [own]  # the claims of that revision are not the article's any more
    else:
        body = article.body
        others = desk_reads.marks(db(), article.id, article.revision, settings.max_article_claims)
        # The claim itself, even past the first max_article_claims of a very long article.
        marks = [own, *(Mark(*row) for row in others if row.id != claim_id)]
    events = desk_reads.latest_events(db(), claim_id, HISTORY_SHOWN)
    return render_template(
        "claim.html",
        claim=detail,
        article=article,
        body=marked_body(
            body,
            marks,
            current=claim_id,
            claim_url=lambda other: url_for("desk.claim", claim_id=other),
        ),
        events=events,
        seen=events[-1].id if events else 0,
        names=desk_reads.user_names(db(), [detail["assignee_id"]]),
        assignable=desk_reads.assignable_users(db()) if can("verdicts:publish") else [],
        status_actions=STATUS_ACTIONS[detail["status"]],
        scale=settings.rating_scale,
        stances=STANCES,
        blank_evidence_rows=forms.EVIDENCE_ROWS,
        reviews=MATCH_REVIEWS,
    )


def _acting_on(claim_id: int) -> int | None:
    """Note which claim the action is on and what the form had seen (for a refusal's
    "what changed"), and return the version the form was read at."""
    g.desk_claim_id = claim_id
    seen = forms.version(request.form, "seen")
    g.desk_seen = seen
    return forms.version(request.form)


def _checked_claim(claim_id: int) -> Any:
    """The claim, locked, refused (412) if it changed since the form was read."""
    expected = _acting_on(claim_id)
    found = lifecycle.get_claim(db(), claim_id, for_update=True)
    if expected is None:
        raise forms.FormInvalid({"version": ["Missing: reload the page."]})
    if found.version != expected:
        raise PreconditionFailed(
            f"Claim {claim_id} changed since you read it (now version {found.version}); "
            "nothing was changed. Here is what happened since:",
            current_version=found.version,
        )
    return found


def _back_to_claim(claim_id: int, message: str) -> ResponseReturnValue:
    flash(message)
    return redirect(url_for("desk.claim", claim_id=claim_id), 303)


def _update(claim_id: int, changes: dict[str, Any], found: Any = None) -> Any:
    """Apply `changes` to the claim the form read (`found`, if already checked)."""
    found = found or _checked_claim(claim_id)
    return lifecycle.update_claim(
        db(), claim_id, found.version, changes, current_actor(), extractor=services().extractor
    )


@blp.route("/claims/<int:claim_id>/take", methods=["POST"])
@needs("claims:review")
def take(claim_id: int) -> ResponseReturnValue:
    # As the API's take: no version is needed, taking a claim someone holds is refused.
    _acting_on(claim_id)
    lifecycle.take_claim(db(), claim_id, current_actor())
    if request.form.get("from") == "queue":
        flash(f"You took claim {claim_id}.")
        return redirect(
            _local_path(request.form.get("next", "")) or url_for("desk.queue_page"), 303
        )
    return _back_to_claim(claim_id, "You took this claim.")


@blp.route("/claims/<int:claim_id>/release", methods=["POST"])
@needs("claims:review")
def release(claim_id: int) -> ResponseReturnValue:
    _update(claim_id, {"assignee_id": None})
    return _back_to_claim(claim_id, "The claim is free for anyone to take.")


@blp.route("/claims/<int:claim_id>/assign", methods=["POST"])
@needs("claims:review")
def assign(claim_id: int) -> ResponseReturnValue:
    assignee = forms.whole_number(request.form.get("assignee_id", ""))
    if assignee is None:
        raise forms.FormInvalid({"assignee_id": ["Choose whom to assign it to."]})
    _update(claim_id, {"assignee_id": assignee})
    return _back_to_claim(claim_id, "Assigned.")


@blp.route("/claims/<int:claim_id>/status", methods=["POST"])
@needs("claims:review")
def change_status(claim_id: int) -> ResponseReturnValue:
    target = request.form.get("status", "")
    if target not in CLAIM_STATUSES or target == "published":
        raise forms.FormInvalid({"status": ["Not a status a claim can be moved to."]})
    _update(claim_id, {"status": target})
    return _back_to_claim(claim_id, f"The claim is now {target.replace('_', ' ')}.")


@blp.route("/claims/<int:claim_id>/span", methods=["POST"])
@needs("claims:review")
def correct_span(claim_id: int) -> ResponseReturnValue:
    found = _checked_claim(claim_id)
    body = desk_reads.revision_body(db(), get_article(db(), found.article_id), found.revision)
    start, end = forms.span(request.form, body)
    _update(claim_id, {"start": start, "end": end}, found)
    return _back_to_claim(claim_id, "The span is corrected and annotated afresh.")


@blp.route("/claims/<int:claim_id>/verdicts", methods=["POST"])
@needs("verdicts:write")
def add_verdict(claim_id: int) -> ResponseReturnValue:
    _acting_on(claim_id)
    data = forms.verdict(request.form)
    scale = services().settings.rating_scale
    verdicts_domain.add_verdict(db(), claim_id, data, current_actor(), scale)
    return _back_to_claim(claim_id, "Your verdict is added.")


@blp.route("/claims/<int:claim_id>/matches/<int:factcheck_id>", methods=["POST"])
@needs("matches:review")
def review(claim_id: int, factcheck_id: int) -> ResponseReturnValue:
    _acting_on(claim_id)
    decision = request.form.get("review", "")
    if decision not in MATCH_REVIEWS:
        raise forms.FormInvalid({"review": ["Confirm or reject."]})
    review_match(db(), claim_id, factcheck_id, decision, current_actor())
    return _back_to_claim(claim_id, f"Match {decision}.")


def _verdict_action(verdict_id: int) -> tuple[Verdict, int | None]:
    found = verdicts_domain.get_verdict(db(), verdict_id)
    _acting_on(found.claim_id)
    return found, forms.version(request.form, "verdict_version")


@blp.route("/verdicts/<int:verdict_id>/publish", methods=["POST"])
@needs("verdicts:publish")
def publish(verdict_id: int) -> ResponseReturnValue:
    found, expected = _verdict_action(verdict_id)
    verdicts_domain.publish_verdict(db(), verdict_id, current_actor(), expected)
    return _back_to_claim(found.claim_id, "Published.")


@blp.route("/verdicts/<int:verdict_id>/correct", methods=["POST"])
@needs("verdicts:publish")
def correct(verdict_id: int) -> ResponseReturnValue:
    found, expected = _verdict_action(verdict_id)
    data = forms.correction(request.form)
    reason = data.pop("reason")
    scale = services().settings.rating_scale
    verdicts_domain.correct_verdict(
        db(), verdict_id, data, reason, current_actor(), scale, expected_version=expected
    )
    return _back_to_claim(found.claim_id, "The correction is published.")


# An article


@blp.route("/articles/<int:article_id>", methods=["GET"])
@needs("claims:read")
def article(article_id: int) -> str:
    settings = services().settings
    found = get_article(db(), article_id)
    claims = list_claims(db(), article_id, limit=settings.max_article_claims)
    orphaned = list_claims(db(), article_id, limit=settings.max_article_claims, orphaned=True)
    published = dict(
        db()
        .execute(
            select(Verdict.claim_id, Verdict.id).where(
                Verdict.claim_id.in_([c.id for c in claims]), Verdict.status == "published"
            )
        )
        .all()
    )
    return render_template(
        "article.html",
        article=found,
        claims=claims,
        orphaned=orphaned,
        published=published,
        revisions=desk_reads.revisions(db(), article_id),
        body=marked_body(
            found.body,
            [Mark(c.id, c.start, c.end, c.checkworthy) for c in claims],
            current=None,
            claim_url=lambda other: url_for("desk.claim", claim_id=other),
        ),
    )


@blp.route("/articles/<int:article_id>/claims", methods=["POST"])
@needs("claims:review")
def add_span(article_id: int) -> ResponseReturnValue:
    found = get_article(db(), article_id)
    start, end = forms.span(request.form, found.body)
    added = add_claim(db(), article_id, start, end, current_actor(), services().extractor)
    return _back_to_claim(added.id, "The claim is added, scored and typed.")


@blp.route("/articles/<int:article_id>/annotations.jsonld", methods=["GET"])
@needs("articles:read")
def article_annotations(article_id: int) -> ResponseReturnValue:
    document = annotation_document(article_id, limit=MAX_LIMIT)
    return _linked_data(document, publishing.ANNOTATION_CONTEXT)


@blp.route("/verdicts/<int:verdict_id>/claimreview.jsonld", methods=["GET"])
@needs("reviews:read")
def claim_review(verdict_id: int) -> ResponseReturnValue:
    review_ = publishing.published_review(db(), verdict_id, g.principal.scope)
    return _linked_data(claim_review_document(review_), None)


def _linked_data(document: dict[str, Any], profile: str | None) -> ResponseReturnValue:
    response = jsonify(document)
    response.mimetype = "application/ld+json"
    if profile:
        response.headers["Content-Type"] = f'application/ld+json; profile="{profile}"'
    return response


# The editors' view


@blp.route("/editor", methods=["GET"])
@needs("claims:read")
def editor() -> str:
    """Reviewed claims waiting for publication, disagreements first; published verdicts."""
    waiting_after = _cursor(request.args.get("waiting"), 3)
    published_after = _cursor(request.args.get("published"), 2)
    waiting = desk_reads.awaiting_publication(read_db(), limit=PAGE_SIZE, after=waiting_after)
    published = desk_reads.published_verdicts(read_db(), limit=PAGE_SIZE, after=published_after)
    return render_template(
        "editor.html",
        waiting=waiting,
        published=published,
        waiting_next=(
            encode_cursor(*desk_reads.awaiting_cursor(waiting[-1]))
            if len(waiting) == PAGE_SIZE
            else None
        ),
        published_next=(
            encode_cursor(*desk_reads.published_cursor(published[-1]))
            if len(published) == PAGE_SIZE
            else None
        ),
        labels={rating.key: rating.label for rating in services().settings.rating_scale},
    )


def _cursor(raw: str | None, parts: int) -> tuple[int, ...] | None:
    if not raw:
        return None
    values = [forms.whole_number(value) for value in raw.split(".")]
    if len(values) != parts or None in values:
        raise forms.FormInvalid({"cursor": ["Not a valid cursor; follow the page's links."]})
    return tuple(v for v in values if v is not None)
