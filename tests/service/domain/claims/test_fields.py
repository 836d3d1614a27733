"""The claim's fields are declared once, and the declaration is the stored table's."""

from __future__ import annotations

from sqlalchemy import inspect

from service.domain.claims.fields import (
    AUDITED_FIELDS,
    ENGINE_FIELDS,
    EXPORTED_FIELDS,
    FIELDS,
    SHOWN_FIELDS,
    SPAN_FIELDS,
)
from service.domain.exports import COLUMNS
from service.models import Claim
from tests.factories import TEST_BODY
from workers.extraction.engine import default_engine, extract


def test_the_declaration_names_every_stored_column_once():
    names = [field.name for field in FIELDS]
    assert len(names) == len(set(names))
    assert set(names) == set(Claim.__table__.columns.keys())


def test_shown_fields_are_the_columns_a_claim_loads_and_the_rest_are_deferred():
    deferred = {attr.key for attr in inspect(Claim).column_attrs if attr.deferred}
    assert set(SHOWN_FIELDS) == set(Claim.__table__.columns.keys()) - deferred
    assert {"search", "similarity_keys", "embedding"} <= deferred


def test_the_engine_fields_are_what_the_engine_gives_each_claim_and_each_span():
    for claim in extract(TEST_BODY):
        assert set(ENGINE_FIELDS) <= set(claim)
    annotated = default_engine().annotate_span(TEST_BODY, 0, 20, "en")
    assert set(ENGINE_FIELDS) <= set(annotated)


def test_a_corrected_span_audits_what_the_engine_derived_from_it_but_the_embedding():
    assert set(SPAN_FIELDS) == set(ENGINE_FIELDS) - set(AUDITED_FIELDS) - {"embedding"}
    assert {"status", "assignee_id", "version", "start", "end", "text"} == set(AUDITED_FIELDS)


def test_exports_take_the_declared_claim_columns_in_order():
    exported = [column for _, column in EXPORTED_FIELDS]
    assert [column for column in COLUMNS if column in exported] == exported
    assert COLUMNS[:5] == ("claim_id", "article_id", "article_title", "article_url", "source")
