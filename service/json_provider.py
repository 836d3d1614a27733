"""Flask's JSON provider on orjson (`service.jsonio`): the same JSON as Flask's, faster."""

from __future__ import annotations

from typing import Any, cast

import orjson
from flask import Response
from flask.json.provider import DefaultJSONProvider

from service.jsonio import RESPONSE_OPTIONS, loads_request


class OrjsonProvider(DefaultJSONProvider):
    """Flask's JSON provider, with orjson for every response and body that needs no options;
    request bodies are read by `loads_request`."""

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        if kwargs:
            return super().dumps(obj, **kwargs)
        return self._encode(obj).decode()

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        if kwargs:
            return super().loads(s, **kwargs)
        return loads_request(s)

    def response(self, *args: Any, **kwargs: Any) -> Response:
        if (self.compact is None and self._app.debug) or self.compact is False:
            return cast(Response, super().response(*args, **kwargs))  # indented, as in debug
        obj = self._prepare_response_obj(args, kwargs)
        return Response(self._encode(obj) + b"\n", mimetype=self.mimetype)

    def _encode(self, obj: Any) -> bytes:
        try:
            return orjson.dumps(obj, default=self.default, option=RESPONSE_OPTIONS)
        except TypeError:
            # What orjson refuses (a lone surrogate, an integer beyond 64 bits) as Flask sends
            # it: ASCII with \u escapes, which any text encodes.
            return super().dumps(obj, separators=(",", ":")).encode()
