"""The API client and `factcheck submit` never carry the token through a redirect."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from click.testing import CliRunner

from service.cli import main
from service.client import ApiError, FactcheckClient

TOKEN = "fct_" + "s" * 40


class _Server:
    """Answers every request with `status` (and `location`), recording what it received."""

    def __init__(self, status: int, location: str = "") -> None:
        self.received: list[dict[str, str]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                self.rfile.read(length)
                server.received.append(dict(self.headers.items()))
                self.send_response(status)
                if location:
                    self.send_header("Location", location)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            do_GET = do_POST = _answer

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.http.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.http.server_address[1]}"

    def stop(self) -> None:
        self.http.shutdown()
        self.http.server_close()


@pytest.fixture
def elsewhere() -> Iterator[_Server]:
    server = _Server(200)
    yield server
    server.stop()


@pytest.fixture
def redirecting(elsewhere: _Server) -> Iterator[_Server]:
    server = _Server(302, location=elsewhere.url + "/collect")
    yield server
    server.stop()


def test_the_client_refuses_a_redirect_and_keeps_its_token(redirecting, elsewhere):
    client = FactcheckClient(redirecting.url, TOKEN)
    with pytest.raises(ApiError) as refused:
        client.queue_page()
    assert refused.value.status == 302
    assert "redirects are not followed" in str(refused.value)
    assert elsewhere.url in str(refused.value)
    assert TOKEN not in str(refused.value)
    assert redirecting.received[0]["Authorization"] == f"Bearer {TOKEN}"
    assert elsewhere.received == []


def test_submit_refuses_a_redirect_and_keeps_its_token(redirecting, elsewhere, tmp_path):
    article = tmp_path / "harbour.txt"
    article.write_text("Harbour vote\n\nThe council approved a $4.7 million budget.\n", "utf-8")
    result = CliRunner().invoke(
        main, ["submit", str(article), "--server", redirecting.url, "--token", TOKEN]
    )
    assert result.exit_code == 1
    assert "redirects are not followed" in result.stderr
    assert TOKEN not in result.output + result.stderr
    assert len(redirecting.received) == 1
    assert elsewhere.received == []
