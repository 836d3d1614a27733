"""GET /api/v1/exports/claims.csv: rows, escaping, filters, roles, and streaming in pages."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from sqlalchemy import event

from service.api.exports import csv_cell
from service.domain import exports as domain
from tests.factories import article_payload, insert_claim, publish_verdict

URL = "/api/v1/exports/claims.csv"


def submit_article(client, headers, **overrides: Any) -> int:
    response = client.post("/api/v1/articles", json=article_payload(**overrides), headers=headers)
    assert response.status_code == 202, response.get_data(as_text=True)
    return response.get_json()["id"]


def add_verdict(client, claim_id: int, headers, **overrides: Any) -> int:
    payload = {"rating": "false", "summary": "The figure is wrong.", "evidence": [], **overrides}
    response = client.post(f"/api/v1/claims/{claim_id}/verdicts", json=payload, headers=headers)
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()["id"]


def export(client, headers, **query: Any) -> list[dict[str, str]]:
    response = client.get(URL, query_string=query, headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    reader = csv.DictReader(io.StringIO(response.get_data(as_text=True), newline=""))
    assert tuple(reader.fieldnames or ()) == domain.COLUMNS
    return list(reader)


@pytest.fixture
def article_id(client, admin_headers):
    return submit_article(client, admin_headers, title="Budget row", url="https://n.example/b")


def test_one_row_per_claim_and_verdict_with_evidence_and_labels(
    client, engine, admin_headers, headers_for, article_id
):
    reviewer, editor = headers_for("reviewer"), headers_for("editor")
    rated = insert_claim(engine, article_id, 0, "Spending rose 12% in 2025.")
    bare = insert_claim(engine, article_id, 40, "Crime fell by half.", score=0.7)
    first = add_verdict(
        client,
        rated,
        reviewer,
        rating="mostly-false",
        summary="It rose 9%.",
        confidence=0.8,
        evidence=[
            {"url": "https://stats.example.gov/spend", "stance": "refutes"},
            {"url": "https://archive.example.org/x?a=1,2", "stance": "context"},
        ],
    )
    second = add_verdict(client, rated, editor, rating="false", summary="Wrong year too.")
    assert publish_verdict(client, editor, first).status_code == 200

    rows = export(client, admin_headers)

    assert [(r["claim_id"], r["verdict_id"]) for r in rows] == [
        (str(rated), str(first)),
        (str(rated), str(second)),
        (str(bare), ""),
    ]
    published = rows[0]
    assert published["verdict_status"] == "published"
    assert published["rating"] == "mostly-false"
    assert published["rating_label"] == "Mostly false"
    assert published["rating_value"] == "2"
    assert published["confidence"] == "0.8"
    assert published["published_at"]
    assert published["published_by"]
    assert published["evidence_count"] == "2"
    assert published["evidence"].splitlines() == [
        "refutes https://stats.example.gov/spend",
        "context https://archive.example.org/x?a=1,2",
    ]
    assert published["article_title"] == "Budget row"
    assert published["article_url"] == "https://n.example/b"
    assert published["claim_text"] == "Spending rose 12% in 2025."
    assert published["kind"] == "sentence"
    assert published["types"] == "quantity"
    assert published["checkworthy"] == "true"
    assert rows[1]["verdict_status"] == "proposed"
    assert rows[2]["summary"] == rows[2]["rating"] == rows[2]["evidence_count"] == ""
    assert rows[2]["checkworthiness"] == "0.7"


def test_published_only_keeps_claims_but_drops_other_verdicts(
    client, engine, admin_headers, article_id
):
    claim = insert_claim(engine, article_id, 0, "Spending rose 12% in 2025.")
    proposed = add_verdict(client, claim, admin_headers)
    rows = export(client, admin_headers, verdicts="published")
    assert [(r["claim_id"], r["verdict_id"]) for r in rows] == [(str(claim), "")]
    assert publish_verdict(client, admin_headers, proposed).status_code == 200
    rows = export(client, admin_headers, verdicts="published")
    assert [(r["verdict_id"], r["verdict_status"]) for r in rows] == [(str(proposed), "published")]


def test_formula_cells_are_defused_and_csv_specials_round_trip(
    client, engine, admin_headers, article_id
):
    claim = insert_claim(
        engine, article_id, 0, '=HYPERLINK("http://evil.example","x")', speaker="@mayor"
    )
    add_verdict(client, claim, admin_headers, summary='+1 more, then "quoted"\nand a 2nd line')
    add_verdict(client, claim, admin_headers, summary="-2 on the year", rationale="\tindented")
    add_verdict(client, claim, admin_headers, summary=" \u00a0=cmd|' /C calc'!A0")
    add_verdict(client, claim, admin_headers, summary="\ufeff=1+1", rationale=" Not a formula")
    rows = export(client, admin_headers)
    assert rows[0]["claim_text"] == '\'=HYPERLINK("http://evil.example","x")'
    assert rows[0]["speaker"] == "'@mayor"
    assert rows[0]["summary"] == '\'+1 more, then "quoted"\nand a 2nd line'
    assert rows[1]["summary"] == "'-2 on the year"
    assert rows[1]["rationale"] == "'\tindented"
    assert rows[2]["summary"] == "' \u00a0=cmd|' /C calc'!A0"
    assert (rows[3]["summary"], rows[3]["rationale"]) == ("'\ufeff=1+1", " Not a formula")
    assert all(not cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row.values())


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        (None, ""),
        (True, "true"),
        (["quantity", "prediction"], "quantity;prediction"),
        ("a = b", "a = b"),
        ("=1+1", "'=1+1"),
        ("\rline", "'\rline"),
        (0.25, "0.25"),
        (" hello", " hello"),
        ("\u00a0 \ufeffword = sum", "\u00a0 \ufeffword = sum"),
        ("", ""),
        (" \t ", " \t "),  # only whitespace: nothing to run
    ],
)
def test_csv_cell(value, cell):
    assert csv_cell(value) == cell


@pytest.mark.parametrize(
    "before",
    [
        " ",  # space
        "   ",
        "\u00a0",  # no-break space
        "\ufeff",  # byte order mark
        "\t",
        "\u200b",  # zero-width space
        "\u2060",  # word joiner
        "\u200e",  # left-to-right mark
        "\u3000",  # ideographic space
        "\n",
        " \u00a0\ufeff",
        "\ufeff \u00a0\t\u200b ",
    ],
)
@pytest.mark.parametrize(
    "formula", ["=1+1", '=HYPERLINK("http://evil.example")', "+1", "-2", "@SUM(A1)"]
)
def test_a_formula_after_whitespace_or_invisible_characters_is_defused(before, formula):
    assert csv_cell(before + formula) == "'" + before + formula


def test_queue_filters_select_the_rows(client, engine, admin_headers, article_id):
    other = submit_article(client, admin_headers, source="wire-desk")
    high = insert_claim(engine, article_id, 0, "Unemployment hit 4.1% in May.", score=0.95)
    low = insert_claim(engine, article_id, 40, "Taxes rose 2%.", score=0.6)
    unworthy = insert_claim(engine, article_id, 80, "It was sunny.", score=0.1, checkworthy=False)
    taken = insert_claim(engine, other, 0, "Rents doubled.", score=0.8, status="in_review")
    said = insert_claim(
        engine, other, 20, "rents doubled in May.", score=0.7, kind="reported", speaker="Ruiz"
    )

    def ids(**query: Any) -> list[str]:
        return [row["claim_id"] for row in export(client, admin_headers, **query)]

    assert ids() == [str(high), str(low), str(taken), str(said)]  # check-worthy, id order
    assert ids(kind="reported") == [str(said)]
    (row,) = export(client, admin_headers, kind="reported")
    assert (row["kind"], row["speaker"], row["claim_text"]) == (
        "reported", "Ruiz", "rents doubled in May."
    )  # fmt: skip
    assert {row["kind"] for row in export(client, admin_headers, kind="sentence")} == {"sentence"}
    assert ids(checkworthy="false") == [str(unworthy)]
    assert ids(min_score=0.9) == [str(high)]
    assert ids(article=article_id) == [str(high), str(low)]
    assert ids(source="wire-desk") == [str(taken), str(said)]
    assert ids(status="in_review") == [str(taken)]
    assert ids(q="unemployment") == [str(high)]
    assert ids(created_after="2999-01-01T00:00:00Z") == []


def test_bad_parameters_are_refused_with_a_problem(client, admin_headers):
    for query in (
        {"verdicts": "some"}, {"min_score": 3}, {"limit": 5}, {"cursor": "1.2.3"},
        {"kind": "paragraph"},
    ):  # fmt: skip
        response = client.get(URL, query_string=query, headers=admin_headers)
        assert response.status_code == 422, query
        assert response.mimetype == "application/problem+json"


@pytest.mark.parametrize(
    ("role", "status"),
    [("admin", 200), ("editor", 200), ("reviewer", 200), ("viewer", 200), ("newsroom", 403)],
)
def test_roles(client, headers_for, role, status):
    response = client.get(URL, headers=headers_for(role))
    assert response.status_code == status
    if status == 403:
        assert response.mimetype == "application/problem+json"


def test_no_token_is_401(client):
    response = client.get(URL)
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"


def test_rows_stream_page_by_page_before_the_table_is_read(
    app, client, engine, admin_headers, article_id, monkeypatch
):
    """With 2 claims a page, the first page reaches the client after one claims query."""
    monkeypatch.setattr(domain, "PAGE_CLAIMS", 2)
    claims = [insert_claim(engine, article_id, 10 * i, f"Claim number {i}.") for i in range(7)]
    page_queries: list[str] = []

    def count(_conn, _cursor, statement, _params, _context, _many) -> None:
        if "FROM claims JOIN articles" in statement:
            page_queries.append(statement)

    app_engine = app.extensions["factcheck"].engine
    event.listen(app_engine, "before_cursor_execute", count)
    try:
        response = client.get(URL, headers=admin_headers, buffered=False)
        assert response.status_code == 200
        chunks = iter(response.response)
        header = next(chunks)
        assert header.decode().startswith("claim_id,article_id,")
        assert page_queries == []  # the header leaves before any row is read
        first_page = next(chunks).decode()
        assert len(page_queries) == 1
        assert [row[0] for row in csv.reader(io.StringIO(first_page))] == [
            str(c) for c in claims[:2]
        ]
        rest = b"".join(chunks).decode()
        response.close()
    finally:
        event.remove(app_engine, "before_cursor_execute", count)
    assert len(page_queries) == 4  # 7 claims in pages of 2
    assert "LIMIT" in page_queries[0]
    later = [row[0] for row in csv.reader(io.StringIO(rest))]
    assert later == [str(c) for c in claims[2:]]
