"""How the API is served: gunicorn's asyncio worker reads each request whole, then a thread
runs the Flask app on it.

Idle and slow clients cost no thread. The event loop holds every connection until its
request has arrived: headers parsed by gunicorn's protocol, the body read here (spooled to
disk past 1 MiB). Only then does a2wsgi hand the request to one of the worker's threads.
gunicorn's threaded worker instead gave each new connection a thread for up to 5 s before
its first byte, and read headers and body blocking in that thread, so 8 clients that said
nothing, or sent a header line a second, stalled every request.

Measured on this project's 2-core machine, shared with other jobs, in rounds that started
each server in turn: `factcheck up`'s 2 API processes, 16 keep-alive clients, 2,000 requests
per operation, server CPU per request (the range over 2 to 4 rounds; the machine's load
varied, so compare servers within a round); then plain GETs on new connections for 15 s
while 200 connections sent nothing and 50 sent a header line a second:

    server (2 processes)                 healthz     ratings     queue page   plain GETs, idle
                                         CPU / req   CPU / req   CPU / req    and slow clients
    gunicorn gthread, 4 threads (before) 0.81-1.64   1.16-1.93   5.55-9.59    none in 30 s
    gunicorn gthread, 128 threads        1.08-1.91   1.37-1.97   5.88-9.71    slowest 4.4 s
    waitress, 8 threads (one process)    -           -           -            none in 30 s
    granian (Rust), WSGI, 4 threads      0.31-0.65   0.68-1.15   5.63-8.08    slowest 27 ms
    gunicorn asyncio + a2wsgi:
      gunicorn's Python parser           1.83-1.96   1.80-2.44   6.64-10.09   slowest 38 ms
      gunicorn-h1c parser, uvloop (this) 1.53-1.60   1.31-1.65   7.57-9.42    slowest 25 ms

Within a round this server cost 0.98-1.89x gthread's CPU on /healthz, 0.85-1.13x on the
ratings list and 0.98-1.06x on a queue page (the API's own work dominates there). More
threads only move the threshold: 250 connections that say nothing need 250 threads.
Waitress stops accepting past its 100 connections. Granian costs the least, but it answers
an oversized request line or header itself (or not at all: it took a 20 KB request line),
so those errors could not be problem+json.

This module also makes every error the server layer answers itself problem+json (a request
line or headers too long, a malformed request, a body over FACTCHECK_MAX_REQUEST_BYTES,
chunked or not, headers too slow) and keeps secrets in URLs out of the access log.
"""

from __future__ import annotations

import asyncio
import http
import re
import tempfile
from collections.abc import Awaitable, Callable, MutableMapping
from typing import IO, Any
from urllib.parse import unquote_plus

from a2wsgi import WSGIMiddleware
from gunicorn.asgi.protocol import ASGIProtocol
from gunicorn.glogging import Logger
from gunicorn.workers import gasgi

from service import jsonio
from service.app import create_app
from service.config import API_THREADS, MiB, Settings
from service.errors import PROBLEM_JSON, body_over_limit, problem_body

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

# Bodies up to this size stay in memory while they arrive; larger ones go to a temporary file.
SPOOL_BYTES = MiB
REPLAY_CHUNK = MiB
# After refusing a body, read (and drop) what the client is still sending for this long, so
# it reads the 413 instead of a connection reset.
LINGER_SECONDS = 2.0

# Query parameters whose value is a secret: token, access_token, api_key, key, secret,
# client_secret, password, signature, sig, auth... (the whole name, or its last word).
SECRET_NAME = re.compile(
    r"(?:^|[_.-])(?:token|secret|password|passwd|pwd|signature|sig|key|apikey|auth"
    r"|authorization|credentials?)$",
    re.IGNORECASE,
)
_PARAMETER = re.compile(r"(^|[?&;])([^=&;#?\s]+)=([^&;#\s]*)")
# API tokens (service.auth) and webhook secrets (service.domain.webhooks), wherever they appear.
_PREFIXED_SECRET = re.compile(r"\b(fct|fcl|whsec)_[A-Za-z0-9_%-]+")


def redact_secrets(text: str) -> str:
    """`text` (a URL, a query string, a request line) with secret values replaced by ***.

    A query parameter is secret by its name (SECRET_NAME, percent-decoded); an API token, desk
    sign-in link or webhook secret is recognised by its prefix, in any parameter or header.
    """

    def parameter(match: re.Match[str]) -> str:
        if SECRET_NAME.search(unquote_plus(match[2])):
            return f"{match[1]}{match[2]}=***"
        return match[0]

    return _PREFIXED_SECRET.sub(r"\1_***", _PARAMETER.sub(parameter, text))


class RedactingLogger(Logger):
    """gunicorn's logger; every access-log field goes through `redact_secrets`."""

    def atoms(self, resp: Any, req: Any, environ: Any, request_time: Any) -> dict[str, Any]:
        atoms: dict[str, Any] = super().atoms(resp, req, environ, request_time)
        return {
            name: redact_secrets(value) if isinstance(value, str) else value
            for name, value in atoms.items()
        }


def problem_bytes(status: int, detail: str) -> bytes:
    return jsonio.dumps(problem_body(status, detail)).encode()


class ProblemProtocol(ASGIProtocol):
    """gunicorn's HTTP/1.1 protocol, answering its own errors in problem+json and closing
    a connection whose first request headers do not arrive within FACTCHECK_HEADER_TIMEOUT.

    gunicorn times out the wait for a kept-alive connection's next request (keepalive), but
    not for the first one: without this deadline a connection that sends nothing stays open.
    """

    _header_deadline: Any = None
    _received = False

    def connection_made(self, transport: Any) -> None:
        super().connection_made(transport)
        seconds = self.worker.header_timeout
        self._header_deadline = self.worker.loop.call_later(seconds, self._headers_too_slow)

    def data_received(self, data: bytes) -> None:
        self._received = True
        super().data_received(data)

    def _on_headers_complete(self) -> Any:
        self._cancel_header_deadline()
        return super()._on_headers_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_header_deadline()
        super().connection_lost(exc)

    def _cancel_header_deadline(self) -> None:
        if self._header_deadline is not None:
            self._header_deadline.cancel()
            self._header_deadline = None

    def _headers_too_slow(self) -> None:
        self._header_deadline = None
        if self._closed:
            return
        if self._received:  # a client that sent nothing is told nothing, as after keep-alive
            seconds = self.worker.header_timeout
            self._send_error_response(
                408, f"The request headers did not arrive within {seconds:g} seconds."
            )
        self._close_transport()
        if self._request_ready is not None:
            self._request_ready.set()  # let the connection's task see it closed and end

    def _send_error_response(self, status: int, message: str, extra_headers: Any = ()) -> None:
        body = problem_bytes(status, message)
        extra = "".join(f"{name}: {value}\r\n" for name, value in extra_headers)
        head = (
            f"HTTP/1.1 {status} {http.HTTPStatus(status).phrase}\r\n"
            f"Content-Type: {PROBLEM_JSON}\r\n"
            f"Content-Length: {len(body)}\r\n"
            f"{extra}"
            "Connection: close\r\n\r\n"
        )
        self._safe_write(head.encode("latin-1") + body)


class ApiWorker(gasgi.ASGIWorker):
    """gunicorn's asyncio worker with ProblemProtocol for every connection."""

    header_timeout = Settings.header_timeout_seconds

    def load_wsgi(self) -> None:
        super().load_wsgi()
        self.header_timeout = self.asgi.settings.header_timeout_seconds

    def run(self) -> None:
        # The worker names its protocol class at module level and has no setting for it;
        # this worker process serves only the API, so the name is rebound here.
        gasgi.ASGIProtocol = ProblemProtocol
        super().run()


class BufferedWsgi:
    """A WSGI app as an ASGI app that reads each request body whole before a thread runs it.

    A body over `settings.max_request_bytes` is refused with 413 as soon as its declared
    length, or the bytes received so far, pass the limit. A chunked body reaches the app with
    the Content-Length it turned out to have.
    """

    def __init__(self, wsgi_app: Any, settings: Settings, threads: int = API_THREADS) -> None:
        self.settings = settings
        self.limit = settings.max_request_bytes
        self.bridge = WSGIMiddleware(wsgi_app, workers=threads)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.bridge(scope, receive, send)  # type: ignore[arg-type]
            return
        declared = chunked = None
        for name, value in scope["headers"]:
            if name == b"content-length":
                declared = int(value)
            elif name == b"transfer-encoding":
                chunked = b"chunked" in value.lower()
        if declared is not None and declared > self.limit:
            await self._refuse(send, receive)
            return
        with tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES) as body:
            size = 0
            more = True
            while more:
                message = await receive()
                if message["type"] == "http.disconnect":
                    # Gone, or silent past gunicorn's wait for the next piece (--timeout,
                    # 30 s); only a client still there reads this.
                    await _send_problem(send, 408, "The request body stopped arriving.")
                    return
                chunk = message.get("body", b"")
                size += len(chunk)
                if size > self.limit:
                    await self._refuse(send, receive)
                    return
                body.write(chunk)
                more = message.get("more_body", False)
            if chunked:
                scope = dict(scope, headers=_with_length(scope["headers"], size))
            body.seek(0)
            await self.bridge(scope, _replay(body, size, receive), send)  # type: ignore[arg-type]

    async def _refuse(self, send: Send, receive: Receive) -> None:
        await _send_problem(send, 413, body_over_limit(self.limit))
        try:
            async with asyncio.timeout(LINGER_SECONDS):
                while (message := await receive())["type"] != "http.disconnect":
                    if not message.get("more_body"):
                        break
        except TimeoutError:
            pass  # gunicorn closes a connection whose body was not read to its end


async def _send_problem(send: Send, status: int, detail: str) -> None:
    body = problem_bytes(status, detail)
    headers = [(b"content-type", PROBLEM_JSON.encode()), (b"content-length", b"%d" % len(body))]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _with_length(headers: list[tuple[bytes, bytes]], size: int) -> list[tuple[bytes, bytes]]:
    kept = [(name, value) for name, value in headers if name != b"transfer-encoding"]
    return [*kept, (b"content-length", b"%d" % size)]


def _replay(body: IO[bytes], size: int, receive: Receive) -> Receive:
    """A `receive` that hands out the buffered body, then listens for a disconnect."""

    done = False

    async def replayed() -> Message:
        nonlocal done
        if done:
            return await receive()
        chunk = body.read(REPLAY_CHUNK)
        done = body.tell() >= size
        return {"type": "http.request", "body": chunk, "more_body": not done}

    return replayed


def asgi_app() -> BufferedWsgi:
    """What gunicorn serves (`service.server:asgi_app()`): the API, configured from the
    environment."""
    settings = Settings.from_env()
    return BufferedWsgi(create_app(settings), settings)
