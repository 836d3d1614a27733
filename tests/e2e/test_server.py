"""The server `factcheck api` runs, against idle and slow clients and requests it refuses."""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from collections.abc import Iterator

import pytest

from tests.conftest import ADMIN_TOKEN
from tests.factories import ApiProcess, article_payload, wait_until

pytestmark = pytest.mark.e2e

HEADER_TIMEOUT = 10
BODY_LIMIT = 64 * 1024
BODY_WAIT = 3
REQUEST_GAP = 0.05
# How long a test waits for any answer: a guard against a hang, never a speed bound.
ANSWER_WAIT = HEADER_TIMEOUT * 3


@pytest.fixture
def api(settings, tmp_path) -> Iterator[ApiProcess]:
    """Two workers, as `factcheck up` runs, with a smaller body limit to refuse quickly."""
    process = ApiProcess(
        settings,
        tmp_path,
        workers=2,
        FACTCHECK_HEADER_TIMEOUT=str(HEADER_TIMEOUT),
        FACTCHECK_MAX_REQUEST_BYTES=str(BODY_LIMIT),
        # gunicorn's wait for each next piece of a body (default 30 s).
        GUNICORN_CMD_ARGS=f"--timeout {BODY_WAIT}",
    )
    yield process
    process.stop()


def exchange(port: int, request: bytes, timeout: float = ANSWER_WAIT) -> tuple[str, dict, bytes]:
    """Send raw bytes, read the answer until the server closes: (status line, headers, body)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as connection:
        # The server may answer and close before taking all of an oversized request.
        with contextlib.suppress(OSError):
            connection.sendall(request)
        data = b""
        while chunk := connection.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status, *lines = head.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, v in (line.split(":", 1) for line in lines)}
    return status, headers, body


def get(port: int, path: str, token: str | None = None) -> str:
    auth = f"Authorization: Bearer {token}\r\n" if token else ""
    request = f"GET {path} HTTP/1.1\r\nHost: t\r\n{auth}Connection: close\r\n\r\n"
    status, _, _ = exchange(port, request.encode())
    return status


def still_open(connection: socket.socket) -> bool:
    """Whether the server has neither answered nor closed this connection yet."""
    connection.setblocking(False)
    try:
        connection.recv(1, socket.MSG_PEEK)
    except BlockingIOError:
        return True
    finally:
        connection.setblocking(True)
    return False


def assert_problem(answer: tuple[str, dict, bytes], status: int) -> dict:
    line, headers, body = answer
    assert line.split()[1] == str(status), line
    assert headers["content-type"] == "application/problem+json"
    problem = json.loads(body)
    assert problem["status"] == status
    assert problem["type"].startswith("https://")
    assert problem["title"]
    return problem


def test_idle_and_slow_clients_do_not_starve_plain_requests(api):
    with contextlib.ExitStack() as sockets:  # closed however the test ends
        opened = [
            sockets.enter_context(socket.create_connection(("127.0.0.1", api.port)))
            for _ in range(250)
        ]
        hold_open_and_drip(api, idle=opened[:200], slow=opened[200:])


def hold_open_and_drip(
    api: ApiProcess, idle: list[socket.socket], slow: list[socket.socket]
) -> None:
    opened = time.monotonic()
    stop = threading.Event()

    def drip() -> None:  # a header line a second, never the blank line that ends them
        for connection in slow:
            connection.sendall(b"GET /api/v1/ratings HTTP/1.1\r\nHost: t\r\n")
        line = 0
        while not stop.wait(1):
            line += 1
            for connection in slow:
                with contextlib.suppress(OSError):  # closed by the server's header deadline
                    connection.sendall(b"X-Drip-%d: %d\r\n" % (line, line))

    dripper = threading.Thread(target=drip)
    dripper.start()
    try:
        answered = 0
        while time.monotonic() - opened < HEADER_TIMEOUT / 2:
            for path, token in (("/healthz", None), ("/api/v1/ratings", ADMIN_TOKEN)):
                status = get(api.port, path, token)
                assert status.startswith("HTTP/1.1 200"), status
                answered += 1
            # Paced well under the per-token rate limit, which a fast machine would reach.
            time.sleep(REQUEST_GAP)
        # A server the slow clients starved would answer a plain GET only once their header
        # deadline freed it, closing them: every one still open means none waited for that.
        assert answered > 2
        assert all(still_open(connection) for connection in slow + idle)
    finally:
        stop.set()
        dripper.join()

    # Past the header deadline the server has closed both kinds; the slow ones hear why.
    for connection in slow:
        connection.settimeout(HEADER_TIMEOUT * 2)
        answer = connection.recv(65536)
        assert answer.startswith(b"HTTP/1.1 408 ")
        assert b"application/problem+json" in answer
    for connection in idle:
        connection.settimeout(HEADER_TIMEOUT * 2)
        assert connection.recv(1) == b""


def test_requests_the_server_refuses_get_problem_json(api):
    long_line = b"GET /healthz?q=" + b"a" * 9000 + b" HTTP/1.1\r\nHost: t\r\n\r\n"
    assert_problem(exchange(api.port, long_line), 414)

    big_header = b"GET /healthz HTTP/1.1\r\nHost: t\r\nX-Big: " + b"a" * 9000 + b"\r\n\r\n"
    assert_problem(exchange(api.port, big_header), 431)

    assert_problem(exchange(api.port, b"NOT HTTP AT ALL\r\n\r\n"), 400)

    auth = f"Authorization: Bearer {ADMIN_TOKEN}\r\n".encode()
    post = b"POST /api/v1/articles HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n" + auth
    chunk = b"[" + b"1," * 8192 + b"1]"
    chunks = b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(8)) + b"0\r\n\r\n"
    over = assert_problem(
        exchange(api.port, post + b"Transfer-Encoding: chunked\r\n\r\n" + chunks), 413
    )
    assert str(BODY_LIMIT) in over["detail"]

    declared = post + b"Content-Length: %d\r\n\r\n" % (BODY_LIMIT + 1)
    assert_problem(exchange(api.port, declared + b"x" * (BODY_LIMIT + 1)), 413)

    # A body that stops arriving is given up, and the client told so.
    stalled = assert_problem(
        exchange(api.port, post + b"Content-Length: 100\r\n\r\n{", timeout=BODY_WAIT * 4), 408
    )
    assert "stopped arriving" in stalled["detail"]

    # A chunked body within the limit still reaches the app whole.
    article = json.dumps(article_payload()).encode()
    status, _, body = exchange(
        api.port,
        post
        + b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
        + b"%x\r\n%s\r\n0\r\n\r\n" % (len(article), article),
    )
    assert status.startswith("HTTP/1.1 202"), body
    assert json.loads(body)["title"] == article_payload()["title"]


def test_access_log_keeps_secrets_in_urls_out(api):
    token = "fct_" + "s" * 30
    secret = "whsec_" + "w" * 30
    for path in (
        f"/healthz?token={token}&page=2",
        "/healthz?api_key=k3y-value&access_token=at-value&Password=pw-value&x=1",
        f"/healthz?s={secret}&sig=sg-value",
        f"/api/v1/articles?cursor={token}",
    ):
        get(api.port, path)
    log = wait_until(
        lambda: "/api/v1/articles?cursor=" in api.log_path.read_text() and api.log_path.read_text(),
        10,
        "the access log lines",
    )
    for value in (token, secret, "k3y-value", "at-value", "pw-value", "sg-value"):
        assert value not in log
    assert "GET /healthz?token=***&page=2 HTTP/1.1" in log
    assert "api_key=***&access_token=***&Password=***&x=1" in log
    assert "/api/v1/articles?cursor=fct_*** " in log
