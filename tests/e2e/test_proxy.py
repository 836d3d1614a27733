"""docker/proxy.conf.template, the compose stack's nginx, run by a real nginx in front of the
API (here served by a single-threaded server, so a request held upstream would block all).

The template is filled in as the official image does it: only the ${FACTCHECK_*} variables.
Without an nginx binary (Debian's `nginx-light`; .ci/run installs it) these tests skip.
"""

from __future__ import annotations

import json
import os
import pwd
import shutil
import socket
import string
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from werkzeug.serving import make_server

from service.app import create_app
from tests.conftest import ADMIN_TOKEN
from tests.factories import REPO, article_payload, free_port, wait_until

pytestmark = pytest.mark.e2e

TEMPLATE = REPO / "docker" / "proxy.conf.template"
NGINX = shutil.which("nginx") or next(
    (path for path in ("/usr/sbin/nginx",) if os.access(path, os.X_OK)), None
)
LIMIT = 4096
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}

if NGINX is None:
    pytest.skip("nginx is not installed (apt-get install nginx-light)", allow_module_level=True)


def render(listen: str, upstream: str, max_bytes: int) -> str:
    """The template as the nginx image's entrypoint fills it in (NGINX_ENVSUBST_FILTER)."""
    values = {
        "FACTCHECK_PROXY_LISTEN": listen,
        "FACTCHECK_PROXY_UPSTREAM": upstream,
        "FACTCHECK_MAX_REQUEST_BYTES": str(max_bytes),
    }
    return string.Template(TEMPLATE.read_text()).safe_substitute(values)


class Proxy:
    """nginx with the rendered template in an http block like the image's, in `home`."""

    def __init__(self, home: Path, upstream: str) -> None:
        home.mkdir()
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = home / "stdout.log"
        (home / "default.conf").write_text(render(f"127.0.0.1:{self.port}", upstream, LIMIT))
        (home / "nginx.conf").write_text(
            f"user {pwd.getpwuid(os.getuid()).pw_name};\n"
            "worker_processes 1;\n"
            f"pid {home}/nginx.pid;\n"
            f"error_log {home}/error.log notice;\n"
            "events { worker_connections 512; }\n"
            "http {\n"
            f"    client_body_temp_path {home}/body;\n"
            f"    proxy_temp_path {home}/proxy;\n"
            f"    include {home}/default.conf;\n"
            "}\n"
        )
        self.stdout = self.log.open("wb")
        self.process = subprocess.Popen(
            [NGINX, "-p", str(home), "-c", str(home / "nginx.conf"), "-g", "daemon off;"],
            stdout=self.stdout,
            stderr=subprocess.STDOUT,
        )
        wait_until(self._listening, 20, "nginx to listen")

    def _listening(self) -> bool:
        if self.process.poll() is not None:
            raise AssertionError(f"nginx exited: {self.log.read_text()}")
        try:
            socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
        except OSError:
            return False
        return True

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=20)
        self.stdout.close()


class Recorder:
    """WSGI middleware noting the X-Forwarded-For of every request the API receives."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.seen: list[tuple[str, str | None]] = []

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        self.seen.append((environ["PATH_INFO"], environ.get("HTTP_X_FORWARDED_FOR")))
        return self.app(environ, start_response)


@pytest.fixture
def api(settings) -> Iterator[tuple[Recorder, str]]:
    """The API, one request at a time (no threads), and its address."""
    app = create_app(replace(settings, max_request_bytes=LIMIT))
    recorder = Recorder(app.wsgi_app)
    app.wsgi_app = recorder  # type: ignore[method-assign]
    server = make_server("127.0.0.1", 0, app, threaded=False)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield recorder, f"127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join()
    server.server_close()


@pytest.fixture
def start_proxy(tmp_path: Path) -> Iterator[Callable[[str], Proxy]]:
    started: list[Proxy] = []

    def start(upstream: str) -> Proxy:
        proxy = Proxy(tmp_path / f"nginx-{len(started)}", upstream)
        started.append(proxy)
        return proxy

    yield start
    for proxy in started:
        proxy.stop()


@pytest.fixture
def proxy(api, start_proxy) -> Proxy:
    return start_proxy(api[1])


def fetch(url: str, *, data: bytes | None = None, headers: dict[str, str] | None = None,
          timeout: float = 10) -> tuple[int, dict[str, str], bytes]:  # fmt: skip
    request = urllib.request.Request(url, data=data, headers=headers or {})  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        with error:
            return error.code, dict(error.headers), error.read()


def problem(status: int, headers: dict[str, str], body: bytes) -> dict[str, Any]:
    assert headers["Content-Type"] == "application/problem+json", (status, headers, body)
    found = json.loads(body)
    assert found["status"] == status
    assert found["type"].startswith("https://factcheck.invalid/problems/")
    return found


def test_requests_reach_the_api_with_the_clients_address_last(api, proxy):
    recorder, _ = api
    status, _, body = fetch(f"{proxy.url}/healthz", headers={"X-Forwarded-For": "203.0.113.9"})
    assert (status, json.loads(body)) == (200, {"status": "ok"})
    # A client's own entry is kept, but the address nginx saw comes last: the one the API,
    # trusting one proxy, takes for the client's.
    assert recorder.seen == [("/healthz", "203.0.113.9, 127.0.0.1")]


def test_a_body_over_the_limit_is_refused_by_the_proxy_as_the_api_refuses_it(api, proxy, client):
    recorder, upstream = api
    oversize = json.dumps(article_payload(body="x" * LIMIT)).encode()
    headers = {**ADMIN, "Content-Type": "application/json"}

    status, got, body = fetch(f"{proxy.url}/api/v1/articles", data=oversize, headers=headers)
    direct = fetch(f"http://{upstream}/api/v1/articles", data=oversize, headers=headers)
    assert status == direct[0] == 413
    assert problem(status, got, body) == problem(*direct)
    assert [path for path, _ in recorder.seen] == ["/api/v1/articles"], "only the direct one"

    def chunks() -> Iterator[bytes]:
        for start in range(0, len(oversize), 512):
            yield oversize[start : start + 512]

    chunked = urllib.request.Request(  # noqa: S310
        f"{proxy.url}/api/v1/articles", data=chunks(), headers=headers, method="POST"
    )
    try:
        urllib.request.urlopen(chunked, timeout=10)  # noqa: S310
        raise AssertionError("a chunked body over the limit was accepted")
    except urllib.error.HTTPError as error:
        with error:
            problem(413, dict(error.headers), error.read())
    assert len(recorder.seen) == 1


def test_slow_and_idle_clients_hold_no_api_thread(api, proxy):
    """The API answers one request at a time here: a client dripping its body holds it for
    as long as it likes when it talks to the API directly, and not at all through nginx."""
    _, upstream = api
    head = (
        "POST /api/v1/articles HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        f'Authorization: Bearer {ADMIN_TOKEN}\r\nContent-Length: 1000\r\n\r\n{{"title": '
    ).encode()
    with ExitStack() as held:
        for _ in range(20):
            slow = held.enter_context(socket.create_connection(("127.0.0.1", proxy.port)))
            slow.sendall(head)
            held.enter_context(socket.create_connection(("127.0.0.1", proxy.port)))  # idle
        # Held by any of them, the API would answer no one: through nginx it answers.
        status, _, _ = fetch(f"{proxy.url}/healthz", timeout=5)
        assert status == 200

        direct = held.enter_context(socket.create_connection(upstream.split(":")))
        direct.sendall(head)
        time.sleep(0.5)  # the API is now reading this body
        with pytest.raises(TimeoutError):
            fetch(f"http://{upstream}/healthz", timeout=2)


def test_the_query_string_stays_out_of_the_access_log(proxy):
    assert fetch(f"{proxy.url}/healthz?access_token=fct_secret_value_123")[0] == 200
    logged = wait_until(lambda: proxy.log.read_text(), 5, "the access log line")
    assert '"GET /healthz HTTP/1.1" 200' in logged
    assert "fct_secret_value_123" not in logged


def test_what_the_proxy_refuses_itself_is_problem_json(proxy, start_proxy):
    status, headers, body = fetch(f"{proxy.url}/{'a' * 9000}")
    assert problem(status, headers, body)["status"] == 414
    status, headers, body = fetch(f"{proxy.url}/healthz", headers={"X-Big": "b" * 9000})
    assert problem(status, headers, body)["title"] == "Request Header Fields Too Large"

    nobody = start_proxy(f"127.0.0.1:{free_port()}")  # nothing listens there
    status, headers, body = fetch(f"{nobody.url}/healthz")
    assert problem(status, headers, body)["status"] == 503
    assert headers["Retry-After"] == "5"
