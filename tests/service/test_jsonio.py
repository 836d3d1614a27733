"""The API's JSON comes from orjson, and is the JSON Flask's own encoder would send."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from flask import Flask
from flask.json.provider import DefaultJSONProvider

from service import jsonio
from service.jsonio import OrjsonProvider

PAGE = {
    "items": [
        {
            "text": "Inflation fell to 2.4% \u2013 “the lowest since 2021”, said Ms Ørsted.",
            "checkworthiness": 0.873,
            "quantities": [{"start": 18, "end": 22, "value": 2.4, "unit": "%"}],
            "speaker": None,
            "checkworthy": True,
            "id": 2**53 + 1,
        }
    ],
    "next_cursor": None,
}


def app_with(provider: type[DefaultJSONProvider], *, debug: bool = False) -> Flask:
    app = Flask("jsonio-test")
    app.json = provider(app)
    app.debug = debug
    return app


def body(app: Flask, value: object) -> bytes:
    with app.app_context():
        return app.json.response(value).get_data()


@pytest.mark.parametrize(
    "value",
    [
        PAGE,
        {"when": datetime(2026, 11, 23, 1, 2, 3, tzinfo=UTC), "day": date(2026, 11, 23)},
        {"amount": Decimal("12.50"), "huge": 2**70},
        [1.5e-05, 1e16, -0.0, "tab\tand \u2028 line separator"],
        {"unknown field": {"\ud800": ["Unknown field."]}},
    ],
    ids=["page", "dates", "decimal-and-huge-int", "floats-and-controls", "lone-surrogate"],
)
def test_responses_are_the_json_flask_sends_keys_sorted_and_compact(value):
    ours, flasks = body(app_with(OrjsonProvider), value), body(app_with(DefaultJSONProvider), value)
    assert json.loads(ours) == json.loads(flasks)
    assert ours.endswith(b"\n")
    assert b"\n" not in ours[:-1]
    assert b": " not in ours
    decoded = json.loads(ours)
    if isinstance(decoded, dict):
        assert list(decoded) == sorted(decoded)


def test_text_is_sent_as_utf8_and_dates_as_flask_formats_them():
    page = body(app_with(OrjsonProvider), PAGE)
    assert "“the lowest since 2021”".encode() in page
    dated = json.loads(body(app_with(OrjsonProvider), {"at": datetime(2026, 1, 2, tzinfo=UTC)}))
    assert dated == {"at": "Fri, 02 Jan 2026 00:00:00 GMT"}


def test_debug_responses_are_indented_as_flask_indents_them():
    ours = body(app_with(OrjsonProvider, debug=True), PAGE)
    assert ours == body(app_with(DefaultJSONProvider, debug=True), PAGE)


def test_request_bodies_and_stored_values_round_trip():
    app = app_with(OrjsonProvider)
    assert app.json.loads(app.json.dumps(PAGE)) == PAGE
    assert json.loads(jsonio.dumps(PAGE)) == PAGE
    assert json.loads(jsonio.dumps({"n": 2**70, 1: "int key"})) == {"n": 2**70, "1": "int key"}
    assert jsonio.loads(b'{"a": [1, 2.5, null]}') == {"a": [1, 2.5, None]}


def test_a_lone_surrogate_in_a_request_is_refused_as_flask_refuses_it(client, admin_headers):
    response = client.post(
        "/api/v1/articles",
        data=b'{"body": "Prices rose 4% in May.", "\\ud800": 1}',
        headers=admin_headers | {"Content-Type": "application/json"},
    )
    assert response.status_code == 422
    assert response.get_json()["errors"] == {"\ud800": ["Unknown field."]}
