"""Real HTTP receivers in threads: one that answers from a script, one that drips its answer."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections import deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Received:
    at: float
    path: str
    headers: dict[str, str]
    body: bytes


class Receiver:
    """Answers each POST with the next scripted status (200 once the script runs out)."""

    def __init__(self) -> None:
        self.requests: list[Received] = []
        self.script: deque[int] = deque()
        self.delay = 0.0
        self.location = ""
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.requests.append(
                    Received(time.monotonic(), self.path, dict(self.headers.items()), body)
                )
                time.sleep(receiver.delay)
                status = receiver.script.popleft() if receiver.script else 200
                self.send_response(status)
                if receiver.location:
                    self.send_header("Location", receiver.location)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class DripReceiver:
    """Reads a request, answers `HTTP/1.1 200 OK`, then one header line every `interval`
    seconds: a receiver that holds its sender for as long as the sender lets it.

    After `lines` header lines (never, if None) it ends the answer properly, with a 200; so
    a sender without a deadline is held that long and then sees success.
    """

    def __init__(self, interval: float, lines: int | None = None) -> None:
        self.interval = interval
        self.lines = lines
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.requests: list[bytes] = []
        self.held = 0  # connections being dripped to right now
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.connections: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.listener.getsockname()[1]}/hook"

    def _accept(self) -> None:
        while not self.stopping.is_set():
            try:
                connection, _ = self.listener.accept()
            except OSError:
                return
            with self.lock:
                self.connections.append(connection)
            threading.Thread(target=self._drip, args=(connection,), daemon=True).start()

    def _drip(self, connection: socket.socket) -> None:
        with connection:
            try:
                request = self._read_request(connection)
                if request is None:
                    return
                with self.lock:
                    self.requests.append(request)
                    self.held += 1
                try:
                    connection.sendall(b"HTTP/1.1 200 OK\r\n")
                    sent = 0
                    while (self.lines is None or sent < self.lines) and not self.stopping.wait(
                        self.interval
                    ):
                        sent += 1
                        connection.sendall(f"X-Drip-{sent}: ...\r\n".encode())
                    if not self.stopping.is_set():
                        connection.sendall(b"Content-Length: 2\r\n\r\nok")
                finally:
                    with self.lock:
                        self.held -= 1
            except OSError:
                pass  # the sender gave up on us, which is what a deadline is for

    @staticmethod
    def _read_request(connection: socket.socket) -> bytes | None:
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = connection.recv(65536)
            if not chunk:
                return None
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        length = next(
            (
                int(line.split(b":", 1)[1])
                for line in head.split(b"\r\n")
                if line.lower().startswith(b"content-length:")
            ),
            0,
        )
        while len(body) < length:
            chunk = connection.recv(65536)
            if not chunk:
                return None
            body += chunk
        return body

    def stop(self) -> None:
        """Stop dripping: every held sender is cut off (it sees the connection closed)."""
        self.stopping.set()
        self.listener.close()
        with self.lock:
            for connection in self.connections:
                with contextlib.suppress(OSError):  # closed already
                    connection.shutdown(socket.SHUT_RDWR)
