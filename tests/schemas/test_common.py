"""FastDumpSchema: every shortcut dumps exactly what marshmallow's own field-by-field loop
dumps, for objects and for mappings, and whatever it cannot shortcut takes that loop."""

from __future__ import annotations

import importlib
import re
from collections import UserDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from types import SimpleNamespace
from typing import Any

import marshmallow as ma
import pytest

from schemas.common import ID_PART, FastDumpSchema, PageSchema, Timestamp

MOMENT = datetime(2026, 3, 2, 8, 30, 15, 120, tzinfo=UTC)
LATER_EAST = MOMENT.astimezone(timezone(timedelta(hours=2)))


class ItemSchema(FastDumpSchema):
    name = ma.fields.String()
    count = ma.fields.Integer()
    at = ma.fields.DateTime()
    day = ma.fields.Date()
    stamp = ma.fields.DateTime(format="timestamp")
    offset = ma.fields.AwareDateTime(format="iso")
    shown = ma.fields.Function(lambda item: _value(item, "count") is not None)
    headline = ma.fields.String(attribute="heading", data_key="title")


class ParentSchema(FastDumpSchema):
    title = ma.fields.String()
    items = ma.fields.List(ma.fields.Nested(ItemSchema))
    only_names = ma.fields.List(ma.fields.Nested(ItemSchema, only=("name",)))


class PageOfItemsSchema(PageSchema):
    items = ma.fields.List(ma.fields.Nested(ItemSchema), required=True)


def _value(item: Any, name: str) -> Any:
    return item.get(name) if isinstance(item, dict) else getattr(item, name, None)


def marshmallow_loop(schema_class: type[ma.Schema]) -> type[ma.Schema]:
    """The same schema dumped by marshmallow's own loop, nested schemas included."""

    def plain(cls: type[ma.Schema]) -> type[ma.Schema]:
        declared = {}
        for name, field in cls._declared_fields.items():
            if isinstance(field, ma.fields.List) and isinstance(field.inner, ma.fields.Nested):
                inner = field.inner
                nested = plain(inner.nested)  # type: ignore[arg-type]
                field = ma.fields.List(
                    ma.fields.Nested(nested, only=inner.only), required=field.required
                )
            declared[name] = field
        return type(
            f"Plain{cls.__name__}", (cls,), {"_serialize": ma.Schema._serialize, **declared}
        )

    return plain(schema_class)


class Moment(datetime):
    """A datetime of another type, e.g. a library's subclass."""


@dataclass
class Item:
    name: Any = "harbour"
    count: Any = 3
    at: Any = MOMENT
    day: Any = date(2026, 3, 2)
    stamp: Any = MOMENT
    offset: Any = LATER_EAST
    heading: Any = "Harbour news"


ITEMS = [
    Item(),
    Item(name=None, count=None, at=None, day=None, stamp=None, offset=None),
    Item(name=7, count=True, at=Moment(2026, 1, 1)),  # other types: the fields' own formatting
    Item(at=MOMENT.replace(tzinfo=None)),
]


@pytest.mark.parametrize("item", ITEMS)
def test_objects_dump_as_marshmallow_would(item):
    assert ItemSchema().dump(item) == marshmallow_loop(ItemSchema)().dump(item)


@pytest.mark.parametrize("item", ITEMS)
def test_mappings_dump_as_marshmallow_would(item):
    mapping = vars(item)
    assert ItemSchema().dump(mapping) == marshmallow_loop(ItemSchema)().dump(mapping)
    user_dict = UserDict(mapping)
    assert ItemSchema().dump(user_dict) == marshmallow_loop(ItemSchema)().dump(user_dict)


def test_datetimes_are_iso_text_and_functions_are_called():
    dumped = ItemSchema().dump(Item())
    assert dumped["at"] == "2026-03-02T08:30:15.000120+00:00"
    assert dumped["shown"] is True
    assert dumped["title"] == "Harbour news"


def test_missing_keys_and_attributes_are_left_out():
    dumped = ItemSchema().dump({"name": "harbour"})
    assert dumped == marshmallow_loop(ItemSchema)().dump({"name": "harbour"})
    assert dumped == {"name": "harbour", "shown": False}
    bare = SimpleNamespace(count=2)
    assert ItemSchema().dump(bare) == marshmallow_loop(ItemSchema)().dump(bare)


def test_nested_lists_dump_each_item_as_marshmallow_would():
    parent = {"title": "t", "items": [Item(), None, vars(Item())], "only_names": [Item()]}
    dumped = ParentSchema().dump(parent)
    assert dumped == marshmallow_loop(ParentSchema)().dump(parent)
    assert dumped["items"][1] is None
    assert dumped["only_names"] == [{"name": "harbour"}]
    odd = {"title": "t", "items": (Item(),), "only_names": None}  # a tuple, not a list
    assert ParentSchema().dump(odd) == marshmallow_loop(ParentSchema)().dump(odd)


def test_pages_dump_their_items_through_the_fast_path():
    page = {"items": ITEMS, "next_cursor": "1.2.3"}
    assert PageOfItemsSchema().dump(page) == marshmallow_loop(PageOfItemsSchema)().dump(page)


def test_dump_hooks_of_nested_schemas_still_run():
    class HookedSchema(ItemSchema):
        @ma.post_dump
        def shout(self, data: dict[str, Any], **_kwargs: Any) -> dict[str, Any]:
            return {**data, "name": str(data["name"]).upper()}

    class HookedParentSchema(FastDumpSchema):
        items = ma.fields.List(ma.fields.Nested(HookedSchema))

    assert HookedParentSchema().dump({"items": [Item()]})["items"][0]["name"] == "HARBOUR"


def test_a_schema_with_its_own_attribute_lookup_keeps_it():
    class UpperLookupSchema(ItemSchema):
        def get_attribute(self, obj: Any, attr: str, default: Any) -> Any:
            value = super().get_attribute(obj, attr, default)
            return value.upper() if isinstance(value, str) else value

    assert UpperLookupSchema().dump(Item())["name"] == "HARBOUR"


@pytest.mark.parametrize(
    ("schema", "field", "good", "extra"),
    [
        ("schemas.users:UserInSchema", "name", "alice", {"role": "viewer"}),
        ("schemas.articles:ArticleInSchema", "language", "en-GB", {"body": "Text."}),
        ("schemas.score:ScoreInSchema", "language", "en", {"text": "Text."}),
    ],
)
def test_patterns_match_the_whole_value_not_up_to_a_final_newline(schema, field, good, extra):
    """Python's `$` matches before a final newline; the documented pattern's does not."""
    module, name = schema.split(":")
    loaded = getattr(importlib.import_module(module), name)()
    assert loaded.load({field: good, **extra})[field] == good
    with pytest.raises(ma.ValidationError) as refused:
        loaded.load({field: good + "\n", **extra})
    assert field in refused.value.messages
    # Documented as written: the OpenAPI pattern keeps its `$`.
    patterns = [v.regex.pattern for v in loaded.fields[field].validators if hasattr(v, "regex")]
    assert patterns
    assert all(p.endswith("$") for p in patterns)


def query_operations(client: Any, parameter: Callable[[dict[str, Any]], bool]) -> list[Any]:
    """(path with ids filled in, parameter name, its pattern) of every GET query parameter
    the OpenAPI document lists for which `parameter` holds."""
    spec = client.get("/api/v1/openapi.json").get_json()
    return [
        (re.sub(r"\{\w+\}", "1", path), param["name"], param["schema"].get("pattern"))
        for path, operations in spec["paths"].items()
        for param in operations.get("get", {}).get("parameters", [])
        if param["in"] == "query" and parameter(param["schema"])
    ]


def is_timestamp(schema: dict[str, Any]) -> bool:
    return schema.get("format") == "date-time"


def test_every_timestamp_filter_is_swept(client):
    names = {(path, name) for path, name, _ in query_operations(client, is_timestamp)}
    assert {
        ("/api/v1/claims", "created_after"),
        ("/api/v1/claimreviews", "published_before"),
    } <= names
    assert len(names) >= 8


def test_a_timestamp_past_the_year_9999_in_utc_is_422_everywhere(client, admin_headers):
    overflow = "9999-12-31T23:59:59-15:00"  # 10000-01-01T14:59:59 in UTC
    for path, name, _ in query_operations(client, is_timestamp):
        response = client.get(path, query_string={name: overflow}, headers=admin_headers)
        assert response.status_code == 422, (path, name, response.get_data(as_text=True))
        assert "after the year 9999" in response.get_json()["errors"][name][0]
    for path, body in [
        ("/api/v1/articles", {"body": "Rents rose 4%.", "published_at": overflow}),
        ("/api/v1/articles/batch", {"articles": [{"body": "Ok.", "published_at": overflow}]}),
    ]:
        response = client.post(path, json=body, headers=admin_headers)
        assert response.status_code == 422, response.get_data(as_text=True)
        (field,) = response.get_json()["errors"]
        assert field.endswith("published_at")


@pytest.mark.parametrize("moment", ["9999-12-31T23:59:59Z", "1000-01-01T00:00:00+15:00"])
def test_the_first_and_last_times_a_timestamp_holds_are_read(client, admin_headers, moment):
    for path, name, _ in query_operations(client, is_timestamp):
        response = client.get(path, query_string={name: moment}, headers=admin_headers)
        body = response.get_data(as_text=True)  # read to the end: an export streams its rows
        assert response.status_code in (200, 404), (path, name, body)
    response = client.post(
        "/api/v1/articles", json={"body": "Rents rose 4%.", "published_at": moment},
        headers=admin_headers,
    )  # fmt: skip
    assert response.status_code == 202, response.get_data(as_text=True)


def cursor_operations(client: Any) -> list[tuple[str, int]]:
    """(path, number of parts) of every list that takes a cursor."""
    return [(path, parts) for path, parts, _ in cursor_patterns(client)]


def cursor_patterns(client: Any) -> list[tuple[str, int, str]]:
    """(path, number of parts, pattern) of every list that takes a cursor."""
    return [
        (path, pattern.count("\\.") + 1, pattern)
        for path, name, pattern in query_operations(client, lambda schema: True)
        if name == "cursor"
    ]


def test_every_cursor_list_is_swept(client):
    lists = dict(cursor_operations(client))
    assert lists["/api/v1/claimreviews"] == 2
    assert lists["/api/v1/claims"] == 3
    assert len(lists) >= 9


def test_a_cursor_the_server_never_issued_is_422_on_every_list(client, admin_headers):
    only_ids = "^" + r"\.".join([ID_PART] * 2) + "$"
    for path, parts, pattern in cursor_patterns(client):
        garbage = ["1.5e3", "-1", "abc", "", "0x10", "1 ", ".".join(["1"] * (parts + 1))]
        garbage.append(".".join(["9" * 19] * parts))  # beyond any integer column
        if parts > 1 and pattern != only_ids:
            # beyond a time, a text offset or a flag: "999999999999999999.1"
            garbage.append(".".join(["9" * 18] + ["1"] * (parts - 1)))
        elif parts == 1:
            garbage.append("1.5")
        for cursor in garbage:
            response = client.get(path, query_string={"cursor": cursor}, headers=admin_headers)
            assert response.status_code == 422, (path, cursor, response.get_data(as_text=True))
            assert "cursor" in response.get_json()["errors"], (path, cursor)


def test_issued_cursors_still_page(client, admin_headers):
    for path, parts in cursor_operations(client):
        response = client.get(path, query_string={"cursor": ".".join(["1"] * parts)},
                              headers=admin_headers)  # fmt: skip
        assert response.status_code in (200, 404), (path, response.get_data(as_text=True))


def test_timestamps_out_of_range_fail_validation_not_the_request():
    schema = ma.Schema.from_dict({"at": Timestamp()})()
    with pytest.raises(ma.ValidationError) as refused:
        schema.load({"at": "9999-12-31T20:00:00-04:00"})
    assert refused.value.messages == {"at": ["Out of range: in UTC it falls after the year 9999."]}
    assert schema.load({"at": "9999-12-31T20:00:00-03:59"})["at"].year == 9999
