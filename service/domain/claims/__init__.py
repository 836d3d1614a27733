"""The claim: a span of an article that may need checking, and its review.

- `fields`: the claim's fields, declared once; every list of them is derived there.
- `lifecycle`: the state machine (published included), who may move a claim, history.
- `spans`: adding a claim on a span, correcting a claim's span.
- `queue`: the review queue's filters, search strategies and cursors (exports reuse them).
- `detail`: what one claim's page shows, in one call.

Carrying reviewer work across an article's revisions is `service.domain.revisions`.
"""
