"""The service's words, named once: roles and permissions, statuses, claim kinds and types,
stances, webhook events, task and queue names.

Imports nothing, so every layer may use it (the models' check constraints, the schemas'
enums, the domain, the workers and the extraction engine) without pulling in another.
"""

from __future__ import annotations

# Roles, most powerful first. A newsroom is a client outside the desk (OUTSIDE_ROLES).
ROLES = ("admin", "editor", "reviewer", "newsroom", "viewer")
# Who may hand claims to others, edit anyone's proposed verdict and correct a span whose
# verdict is published.
EDITOR_ROLES = frozenset({"admin", "editor"})
# Whom a claim may be assigned to.
REVIEWER_ROLES = frozenset({"admin", "editor", "reviewer"})
# Clients outside the desk: they read their own organisation's articles only, and of the
# desk's work only what is published (the desk's roles read everything they may read).
OUTSIDE_ROLES = frozenset({"newsroom"})
_EVERYONE = frozenset(ROLES)
_DESK = _EVERYONE - OUTSIDE_ROLES

# The one permission table. A role not listed for a permission is refused (403).
PERMISSIONS: dict[str, frozenset[str]] = {
    "articles:submit": EDITOR_ROLES | {"newsroom"},
    "articles:read": _EVERYONE,
    "users:manage": frozenset({"admin"}),
    "metrics:read": frozenset({"admin", "viewer"}),
    "claims:score": _EVERYONE,
    "claims:read": _DESK,
    "claims:review": REVIEWER_ROLES,
    "verdicts:write": REVIEWER_ROLES,
    "verdicts:publish": EDITOR_ROLES,
    # Subscriptions decide where verdicts are pushed: the people who decide what is published.
    "webhooks:manage": EDITOR_ROLES,
    # Published reviews (ClaimReview) are what newsrooms and aggregators pick up.
    "reviews:read": _EVERYONE,
    # Bulk CSV of claims and every verdict, proposed ones included: who may read the queue.
    "exports:read": _DESK,
    # Fact-checks are published reviews: anyone may read them and match text against them
    # (a CMS plug-in or a tipline bot with a newsroom token); the people who decide what is
    # published decide what the desk takes as already checked.
    "factchecks:read": _EVERYONE,
    "factchecks:import": EDITOR_ROLES,
    "matches:query": _EVERYONE,
    # Confirming or rejecting a claim's match is review work.
    "matches:review": REVIEWER_ROLES,
}


def roles_with(permission: str) -> tuple[str, ...]:
    """The roles that hold `permission`, in ROLES order."""
    return tuple(role for role in ROLES if role in PERMISSIONS[permission])


ARTICLE_STATUSES = ("queued", "processing", "processed", "failed")
# A revision still waiting for the engine (or being extracted).
PENDING_ARTICLE_STATUSES = ("queued", "processing")

# The review lifecycle (service.domain.claims.lifecycle says which moves are allowed).
CLAIM_STATUSES = ("new", "in_review", "reviewed", "published", "not_checkworthy")
# Who made a claim: the extraction engine, or a reviewer marking a span it missed.
CLAIM_ORIGINS = ("engine", "reviewer")
# Kinds the segmenter gives text that is not a claim (check-worthiness aside).
NON_CLAIM_KINDS = frozenset({"byline", "metadata", "dateline", "caption", "credit"})
# Every kind a claim can have: the segmenter's, the engine's own, and a reviewer's span.
CLAIM_KINDS = (
    "sentence", "headline", "clause", "reported", "span", *sorted(NON_CLAIM_KINDS),
)  # fmt: skip
# The Full Fact claim types, in the order a claim lists them.
CLAIM_TYPES = (
    "quantity", "prediction", "correlation/causation", "rules/laws", "personal experience",
    "voting", "support", "opinion", "other",
)  # fmt: skip

VERDICT_STATUSES = ("proposed", "published", "superseded")
STANCES = ("supports", "refutes", "context")

# Where a fact-check comes from: imported (ClaimReview, JSON Lines, CSV), or the desk's own
# published verdict.
FACTCHECK_ORIGINS = ("imported", "desk")
# The matcher's decision on a candidate (workers.matching.matcher), and a reviewer's on a match.
MATCH_DECISIONS = ("match", "suggest", "none", "refused")
MATCH_REVIEWS = ("confirmed", "rejected")
# Ratings (keys of the default scale) that alert a newsroom when one of its claims repeats
# a claim so rated (webhook claim.matched).
ALERT_RATINGS = frozenset({"false", "mostly-false", "misleading"})

WEBHOOK_EVENTS = (
    "article.processed",
    "article.failed",
    "claim.verdict_added",
    "verdict.published",
    "verdict.corrected",
    "claim.matched",
    "verdict.repeated",
)
DELIVERY_STATUSES = ("pending", "succeeded", "failed")

# Celery task names (the outbox stores them) and the queues they are routed to.
EXTRACT_TASK = "factcheck.extract_claims"
DELIVER_WEBHOOK_TASK = "factcheck.deliver_webhook"
RELAY_OUTBOX_TASK = "factcheck.relay_outbox"
RESUME_WEBHOOKS_TASK = "factcheck.resume_webhooks"
MATCH_CLAIMS_TASK = "factcheck.match_claims"
FIND_REPEATS_TASK = "factcheck.find_repeats"
REMATCH_TASK = "factcheck.rematch_near_factchecks"
EXTRACTION_QUEUE = "extraction"
WEBHOOK_QUEUE = "webhooks"
MAINTENANCE_QUEUE = "maintenance"
QUEUES = (EXTRACTION_QUEUE, WEBHOOK_QUEUE, MAINTENANCE_QUEUE)
TASK_QUEUES = {
    EXTRACT_TASK: EXTRACTION_QUEUE,
    MATCH_CLAIMS_TASK: EXTRACTION_QUEUE,
    FIND_REPEATS_TASK: EXTRACTION_QUEUE,
    REMATCH_TASK: EXTRACTION_QUEUE,
    RELAY_OUTBOX_TASK: MAINTENANCE_QUEUE,
    RESUME_WEBHOOKS_TASK: MAINTENANCE_QUEUE,
    DELIVER_WEBHOOK_TASK: WEBHOOK_QUEUE,
}
