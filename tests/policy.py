"""The intended access policy, written by hand: what the role checks are tested against."""

from __future__ import annotations

ROLES = ("admin", "editor", "reviewer", "newsroom", "viewer")

# The intended policy, written by hand from DESIGN.md's roles and never read from
# `service.auth.PERMISSIONS` (what it checks): Y may, - may not. The desk (admin, editor,
# reviewer) reads and reviews everything; only editors and admins publish and decide where
# verdicts are pushed; only admins manage users. A newsroom is a machine client: it submits
# and reads its own organisation's articles and reads published reviews, never the queue.
# A viewer reads (the queue, exports, metrics) and writes nothing. Fact-checks are published
# reviews: anyone reads them and matches text against them (a newsroom's CMS plug-in or
# tipline bot); editors decide what is imported as already checked, and confirming or
# rejecting a claim's match is review work.
POLICY = """
                    admin  editor  reviewer  newsroom  viewer
articles:submit       Y      Y        -         Y        -
articles:read         Y      Y        Y         Y        Y
claims:score          Y      Y        Y         Y        Y
claims:read           Y      Y        Y         -        Y
claims:review         Y      Y        Y         -        -
verdicts:write        Y      Y        Y         -        -
verdicts:publish      Y      Y        -         -        -
reviews:read          Y      Y        Y         Y        Y
exports:read          Y      Y        Y         -        Y
webhooks:manage       Y      Y        -         -        -
users:manage          Y      -        -         -        -
metrics:read          Y      -        -         -        Y
factchecks:read       Y      Y        Y         Y        Y
factchecks:import     Y      Y        -         -        -
matches:query         Y      Y        Y         Y        Y
matches:review        Y      Y        Y         -        -
"""


def read_policy(table: str) -> dict[str, frozenset[str]]:
    header, *rows = (line.split() for line in table.strip().splitlines())
    policy = {}
    for permission, *marks in rows:
        assert len(marks) == len(header), permission
        assert set(marks) <= {"Y", "-"}, permission
        policy[permission] = frozenset(
            r for r, mark in zip(header, marks, strict=True) if mark == "Y"
        )
    return policy


ALLOWED = read_policy(POLICY)
