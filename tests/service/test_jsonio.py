"""The API's JSON comes from orjson, and is the JSON Flask's own encoder would send."""

from __future__ import annotations

import json
import math
import re
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from flask import Flask, request
from flask.json.provider import DefaultJSONProvider

from service import jsonio
from service.json_provider import OrjsonProvider

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


def json_body_operations(client) -> list[tuple[str, str, str]]:
    """(method, path with ids filled in, a top-level field) of every operation with a JSON
    body, as the OpenAPI document lists them."""
    spec = client.get("/api/v1/openapi.json").get_json()
    found = []
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            if not isinstance(operation, dict) or "requestBody" not in operation:
                continue
            schema = operation["requestBody"]["content"]["application/json"]["schema"]
            name = schema["$ref"].rsplit("/", 1)[-1]
            field = next(iter(spec["components"]["schemas"][name]["properties"]))
            found.append((method.upper(), re.sub(r"\{\w+\}", "1", path), field))
    return found


def send(client, headers, method: str, path: str, data: bytes) -> Any:
    return client.open(
        path, method=method, data=data, headers=headers | {"Content-Type": "application/json"}
    )


def test_every_json_body_operation_is_swept(client):
    operations = {(method, path) for method, path, _ in json_body_operations(client)}
    assert {("POST", "/api/v1/articles"), ("POST", "/api/v1/score")} <= operations
    assert len(operations) >= 12


def test_a_lone_surrogate_anywhere_in_any_body_is_422_naming_where(client, admin_headers):
    for method, path, field in json_body_operations(client):
        data = b'{"%s": "Prices rose \\ud800 4%%."}' % field.encode()
        response = send(client, admin_headers, method, path, data)
        assert response.status_code == 422, (method, path, response.get_data(as_text=True))
        assert response.mimetype == "application/problem+json"
        problem = json.loads(response.get_data())
        assert list(problem["errors"]) == [field], (method, path)
        assert "\\ud800" in problem["errors"][field][0]


def test_a_lone_surrogate_in_a_key_or_deep_inside_is_named_by_its_path(client, admin_headers):
    response = send(
        client,
        admin_headers,
        "POST",
        "/api/v1/articles/batch",
        b'{"articles": [{"body": "Rents rose."}, {"body": "Ok.", "authors": ["A", "\\udc00B"]}]}',
    )
    assert response.status_code == 422
    assert list(json.loads(response.get_data())["errors"]) == ["articles.1.authors.1"]
    response = send(
        client, admin_headers, "POST", "/api/v1/articles", b'{"body": "Ok.", "x\\ud800": 1}'
    )
    assert response.status_code == 422
    (message,) = json.loads(response.get_data())["errors"]["x\\ud800"]
    assert message.startswith("This key holds \\ud800")


def test_a_whole_surrogate_pair_is_text(client, admin_headers):
    data = b'{"text": "Prices rose 4% \\ud83d\\ude00 in May."}'
    response = send(client, admin_headers, "POST", "/api/v1/score", data)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert "\U0001f600" in response.get_json()["claims"][0]["text"]


@pytest.mark.parametrize("depth", [65, 1_000, 100_000])
def test_json_nested_too_deep_is_400_for_every_operation(client, admin_headers, depth):
    for method, path, field in json_body_operations(client):
        data = b'{"%s": %s}' % (field.encode(), b"[" * (depth - 1) + b"]" * (depth - 1))
        response = send(client, admin_headers, method, path, data)
        assert response.status_code == 400, (method, path, response.get_data(as_text=True))
        assert response.mimetype == "application/problem+json"
        assert "over 64 levels deep" in json.loads(response.get_data())["detail"]


def test_json_64_levels_deep_is_read_and_left_to_the_schema(client, admin_headers):
    data = b'{"authors": %s, "body": "Ok."}' % (b"[" * 63 + b"]" * 63)
    response = send(client, admin_headers, "POST", "/api/v1/articles", data)
    assert response.status_code == 422
    assert list(json.loads(response.get_data())["errors"]) == ["authors.0"]


def test_request_get_json_refuses_what_the_views_refuse(app):
    for data, refused in [
        (b'{"a": ["\\ud800"]}', jsonio.LoneSurrogate),
        (b"[" * 100 + b"]" * 100, jsonio.NestedTooDeep),
        (b"[" * 5_000 + b"]" * 5_000, jsonio.NestedTooDeep),
    ]:
        with (
            app.test_request_context(data=data, content_type="application/json"),
            pytest.raises(refused),
        ):
            request.get_json()


def test_the_decoder_reads_what_the_standard_library_reads_otherwise():
    assert jsonio.loads_request(b'{"a": [1, 2.5, null, "\\u00e9"]}') == {"a": [1, 2.5, None, "é"]}
    assert math.isnan(jsonio.loads_request(b"[NaN]")[0])  # left for fields to refuse
    with pytest.raises(json.JSONDecodeError, match="Expecting value"):
        jsonio.loads_request(b'{"a": ')
    with pytest.raises(UnicodeDecodeError):
        jsonio.loads_request(b'"caf\xe9"')  # not UTF-8
