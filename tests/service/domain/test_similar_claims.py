"""Similar claims: candidates read newest first per lookup key, decided and ranked by Jaccard."""

from __future__ import annotations

import random

from sqlalchemy import delete, select, update
from sqlalchemy import text as sql

from service.db import session_scope
from service.domain.articles import submit_article
from service.domain.extraction import store_claims
from service.domain.similar_claims import (
    CANDIDATES_PER_KEY,
    SIMILAR_LIMIT,
    claim_similarity_keys,
    similar_claims,
)
from service.models import Claim
from service.ratings import DEFAULT_SCALE
from tests.factories import desk_submitter
from workers.extraction.similarity import jaccard, similarity_keys

TARGET = (
    "The council approved a budget of four million dollars for public schools and rural roads "
    "on Monday evening after a long debate."
)
WORDS = (
    "harbour", "police", "museum", "tax", "river", "bridge", "election", "wage", "farmer",
    "storm", "library", "airport", "rent", "fuel", "grain", "court", "village", "energy",
)  # fmt: skip


def article_with(sessions, texts: list[str], *, encoder=None, source=None) -> int:
    """An article whose body is `texts`, one claim (a sentence) each; its id. With an
    encoder, each claim has its embedding, as the engine stores it."""
    body = " ".join(texts)
    claims, start = [], 0
    for text in texts:
        claims.append({"text": text, "start": start, "end": start + len(text), "kind": "sentence"})
        start += len(text) + 1
    if encoder is not None:
        for claim, vector in zip(claims, encoder.encode(texts), strict=True):
            claim["embedding"] = vector.tolist()
    data = {"body": body} | ({"source": source, "external_id": body[:20]} if source else {})
    with session_scope(sessions) as session:
        article_id = submit_article(session, data, desk_submitter(session)).article["id"]
        store_claims(session, article_id, 1, claims)
    return article_id


def found(sessions, article_id: int, text: str) -> list[tuple[int, float]]:
    with session_scope(sessions) as session:
        claim = session.scalars(
            select(Claim).where(Claim.article_id == article_id, Claim.text == text)
        ).one()
        similar, _ = similar_claims(session, claim, min_jaccard=0.5, scale=DEFAULT_SCALE)
        return [(c.article_id, c.similarity) for c in similar]


def loose_variants_on_every_key(per_key: int) -> list[str]:
    """Rewordings of TARGET under 0.5 similar to it (candidates only), sharing each of its
    band keys at least `per_key` times."""
    rng, keys = random.Random(3), set(similarity_keys(TARGET))
    shared = dict.fromkeys(keys, 0)
    words, variants = TARGET.split(), []
    while min(shared.values()) < per_key:
        changed = list(words)
        for position in rng.sample(range(len(words)), 5):
            changed[position] = rng.choice(WORDS)
        text = " ".join(changed)
        common = keys & set(similarity_keys(text))
        if common and jaccard(TARGET, text) < 0.5:
            variants.append(text)
            for key in common:
                shared[key] += 1
    return variants


def test_an_older_exact_copy_is_found_behind_newer_candidates_on_every_key(sessions):
    copy = article_with(sessions, [TARGET])
    article_with(sessions, loose_variants_on_every_key(CANDIDATES_PER_KEY + 1))
    target = article_with(sessions, [TARGET])
    # Each band key alone reads only newer, looser claims; the key of exact copies finds it.
    assert found(sessions, target, TARGET) == [(copy, 1.0)]


def lookup_rows(sessions) -> set[tuple[int, int]]:
    with session_scope(sessions) as session:
        return set(session.execute(sql("SELECT key, claim_id FROM claim_similarity_keys")))


def expected_rows(sessions) -> set[tuple[int, int]]:
    with session_scope(sessions) as session:
        return set(
            session.execute(
                sql(
                    "SELECT key, id FROM claims, "
                    "unnest(similarity_lookup_keys(similarity_keys)) AS key"
                )
            )
        )


def test_lookup_rows_follow_every_insert_update_and_delete_of_claims(sessions):
    article_id = article_with(sessions, [TARGET, "Short one.", TARGET.replace("Monday", "Friday")])
    rows = lookup_rows(sessions)
    assert rows == expected_rows(sessions)
    assert len(rows) == 2 * (len(set(similarity_keys(TARGET))) + 1)  # "Short one." has none
    reworded = "The mayor opened a new bridge over the river on Friday after years of delay."
    with session_scope(sessions) as session:
        session.execute(
            update(Claim)
            .where(Claim.article_id == article_id, Claim.text == TARGET)
            .values(text=reworded, similarity_keys=claim_similarity_keys(reworded, "sentence"))
        )
    assert lookup_rows(sessions) == expected_rows(sessions) != rows
    with session_scope(sessions) as session:
        deleted = session.scalars(
            delete(Claim)
            .where(Claim.article_id == article_id, Claim.text == reworded)
            .returning(Claim.id)
        ).one()
    rows = lookup_rows(sessions)
    assert rows == expected_rows(sessions)
    assert deleted not in {claim_id for _, claim_id in rows}
    assert len(rows) == len(set(similarity_keys(TARGET))) + 1


def test_at_most_five_best_first_and_newest_first_among_equals(sessions):
    reworded = TARGET.replace("Monday", "Tuesday")
    target = article_with(sessions, [TARGET])
    close = article_with(sessions, [reworded])
    # More copies than are read per key: the newest are read, and shown.
    copies = [article_with(sessions, [TARGET]) for _ in range(CANDIDATES_PER_KEY + 2)]
    assert found(sessions, target, TARGET) == [(a, 1.0) for a in reversed(copies)][:SIMILAR_LIMIT]
    assert found(sessions, close, reworded)[:2] == [(copies[-1], 0.826), (copies[-2], 0.826)]


def test_keys_are_those_of_the_text_and_none_for_boilerplate():
    assert claim_similarity_keys(TARGET, "sentence") == similarity_keys(TARGET)
    assert claim_similarity_keys(TARGET, "span") == similarity_keys(TARGET)
    assert claim_similarity_keys("By Jane Smith and John Doe", "byline") == []
    assert claim_similarity_keys(TARGET, "metadata") == []


CLAIM = "Unemployment fell to 4.1% in May, the lowest level since 2001."
# The same claim in other words (Jaccard 0.05, cosine about 0.93); one figure changed.
REPHRASED = "In May unemployment dropped to 4.1 percent, its lowest level since 2001."
OTHER_FIGURE = "Unemployment fell to 5.1% in May, the lowest level since 2001."


def test_the_same_claim_in_other_words_is_similar_by_meaning_unless_a_detail_disagrees(
    sessions,
):
    from workers.extraction.encoder import load_encoder

    encoder = load_encoder()
    mine = article_with(sessions, [CLAIM], encoder=encoder, source="gazette")
    rephrased = article_with(sessions, [REPHRASED], encoder=encoder, source="herald")
    article_with(sessions, [OTHER_FIGURE], encoder=encoder, source="herald")
    with session_scope(sessions) as session:
        claim = session.scalars(select(Claim).where(Claim.article_id == mine)).one()
        words_only, _ = similar_claims(session, claim, min_jaccard=0.5, scale=DEFAULT_SCALE)
        similar, seen = similar_claims(
            session, claim, min_jaccard=0.5, min_cosine=0.9, scale=DEFAULT_SCALE
        )
    # By words alone the figure changed in one word is similar and the rephrasing is not.
    assert {c.text for c in words_only} == {OTHER_FIGURE}
    by_meaning = next(c for c in similar if c.text == REPHRASED)
    assert by_meaning.article_id == rephrased
    assert by_meaning.similarity < 0.5 <= 0.9 <= by_meaning.meaning
    assert by_meaning.source == "herald"
    # It is seen in three articles of two outlets, the first of them this claim's.
    assert (seen.articles, seen.outlets) == (3, 2)
    assert seen.first_seen == claim.created_at
