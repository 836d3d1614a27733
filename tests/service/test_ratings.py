"""The rating scale is configuration: a clear start-up error when it is malformed."""

from __future__ import annotations

import json

import pytest

from service.config import ConfigError, Settings
from service.ratings import DEFAULT_SCALE, parse_scale

BASE = {"DATABASE_URL": "postgresql://db/x", "CELERY_BROKER_URL": "redis://r/0"}


def test_default_scale_matches_the_design():
    assert [(r.key, r.value) for r in DEFAULT_SCALE] == [
        ("true", 5), ("mostly-true", 4), ("mixed", 3), ("mostly-false", 2), ("false", 1),
        ("misleading", None), ("unverifiable", None),
    ]  # fmt: skip
    assert Settings.from_env(BASE).rating_scale == DEFAULT_SCALE


def test_scale_from_json_text_and_from_a_file(tmp_path):
    scale = [{"key": "correct", "label": "Correct", "value": 2}, {"key": "wrong", "label": "Wrong"}]
    parsed = parse_scale(json.dumps(scale))
    assert [(r.key, r.label, r.value) for r in parsed] == [
        ("correct", "Correct", 2),
        ("wrong", "Wrong", None),
    ]
    path = tmp_path / "scale.json"
    path.write_text(json.dumps(scale), encoding="utf-8")
    assert Settings.from_env({**BASE, "FACTCHECK_RATING_SCALE": f"@{path}"}).rating_scale == parsed


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("{not json", "not valid JSON"),
        ("[]", "non-empty"),
        ('[{"key": "a"}]', "key and a label"),
        ('[{"key": "a", "label": "A", "value": "high"}]', "integer or null"),
        ('[{"key": "a", "label": "A"}, {"key": "a", "label": "B"}]', "unique"),
        ("@/nonexistent/scale.json", "No such file"),
    ],
)
def test_malformed_scale_fails_at_start(raw, message):
    with pytest.raises(ConfigError, match=message):
        Settings.from_env({**BASE, "FACTCHECK_RATING_SCALE": raw})
