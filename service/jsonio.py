"""JSON for the API and the database, encoded and decoded by orjson.

A 50-claim queue page is 40 to 50 KB of small objects, of some 8 ms of server CPU per
request: the standard library took 0.89 ms to encode one, orjson 0.07 ms. Decoding the
stored spans of a page (150 small arrays) took 0.93 ms with json.loads, 0.36 ms with orjson.

The JSON is the same as Flask's: keys sorted, no spaces, then a newline. Text is sent as
UTF-8 rather than \\u escapes; both are the same JSON.

Nothing here imports Flask (the database layer uses it too): the Flask provider that sends
responses with it is `service.json_provider`.

Request bodies are decoded here too, for every endpoint (webargs reads them through
`request.get_json`): JSON that holds a lone surrogate, which is no text Python, Postgres or
a hash can encode, or that nests deeper than MAX_DEPTH, is refused as it is decoded.
"""

from __future__ import annotations

import json
import re
from typing import Any

import orjson

# Integers beyond 64 bits come back as floats; no stored value holds one (ids are bigint).
loads = orjson.loads
# Keys sorted, as Flask sorts them; dates and times are left to Flask's `default` (HTTP dates),
# as json.dumps leaves them, so a response never changes shape with the encoder.
RESPONSE_OPTIONS = orjson.OPT_SORT_KEYS | orjson.OPT_PASSTHROUGH_DATETIME


def dumps(value: Any) -> str:
    """`value` as JSON text for the database; what orjson refuses (integers beyond 64 bits,
    keys that are not strings, lone surrogates) goes through the standard library instead.
    NaN and infinities are written as null, where Postgres would refuse them."""
    try:
        return orjson.dumps(value).decode()
    except TypeError:
        return json.dumps(value)


# Far deeper than any request the API reads (an annotation's selectors are 4 levels down),
# and well within orjson's encoder (255 levels) and Python's recursion limit, so whatever is
# read can be stored and sent back. A body nested 1,000 deep used to exhaust the standard
# library decoder's recursion limit: a 500.
MAX_DEPTH = 64
_SURROGATE = re.compile("[\ud800-\udfff]")


class RefusedJSON(Exception):
    """Well-formed JSON the service refuses to read.

    Not a ValueError, which Flask's `get_json` would report as undecodable JSON: each has its
    own answer (see service.errors).
    """


class NestedTooDeep(RefusedJSON):
    """Arrays and objects nested deeper than MAX_DEPTH."""


class LoneSurrogate(RefusedJSON):
    """A string (value or key) holding half of a UTF-16 surrogate pair, as a \\u escape.

    `path` names where, as validation errors do ("articles.0.body"), and `escape` which
    surrogate ("\\ud800"), a surrogate in a key written as its escape too, so the answer
    is plain text.
    """

    def __init__(self, path: str, surrogate: str, *, in_key: bool) -> None:
        super().__init__(path)
        self.path = path
        self.escape = _escaped(surrogate)
        self.in_key = in_key


def loads_request(data: str | bytes) -> Any:
    """A request body's JSON, decoded by orjson; see the module docstring for what is refused.

    What orjson does not read goes to the standard library: malformed JSON (its ValueError
    says where), NaN and Infinity (read as floats, which fields refuse), lone surrogate
    escapes, and nesting past orjson's 1,024 levels.
    """
    try:
        value = orjson.loads(data)
    except orjson.JSONDecodeError:
        text = data.decode() if isinstance(data, bytes) else data  # UTF-8 only, as orjson
        try:
            value = json.loads(text)
        except RecursionError:
            raise NestedTooDeep() from None
        _check_depth(value, MAX_DEPTH)
        _find_surrogate(value, "")
        return value
    _check_depth(value, MAX_DEPTH)
    return value


def _check_depth(value: Any, levels: int) -> None:
    # Only containers are descended into: a 12 MB batch of 900,000 small objects takes
    # 0.18 s here, next to orjson's 0.24 s to decode it.
    if type(value) is dict:
        value = value.values()
    elif type(value) is not list:
        return
    if levels == 0:
        raise NestedTooDeep()
    for item in value:
        if type(item) is dict or type(item) is list:
            _check_depth(item, levels - 1)


def _escaped(text: str) -> str:
    return _SURROGATE.sub(lambda found: f"\\u{ord(found[0]):04x}", text)


def _find_surrogate(value: Any, path: str) -> None:
    if type(value) is str:
        found = _SURROGATE.search(value)
        if found:
            raise LoneSurrogate(path, found[0], in_key=False)
    elif type(value) is list:
        for index, item in enumerate(value):
            _find_surrogate(item, f"{path}.{index}" if path else str(index))
    elif type(value) is dict:
        for key, item in value.items():
            child = f"{path}.{_escaped(key)}" if path else _escaped(key)
            found = _SURROGATE.search(key)
            if found:
                raise LoneSurrogate(child, found[0], in_key=True)
            _find_surrogate(item, child)
