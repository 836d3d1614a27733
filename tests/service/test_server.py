"""The server layer's pieces that need no running server: redacting secrets from the log."""

from __future__ import annotations

import pytest

from service.server import redact_secrets


@pytest.mark.parametrize(
    ("text", "redacted"),
    [
        ("token=abc&page=2", "token=***&page=2"),
        ("GET /x?access_token=abc HTTP/1.1", "GET /x?access_token=*** HTTP/1.1"),
        ("/x?api_key=1&key=2&apikey=3&secret=4", "/x?api_key=***&key=***&apikey=***&secret=***"),
        (
            "/x?client_secret=a;password=b&Signature=c",
            "/x?client_secret=***;password=***&Signature=***",
        ),
        ("/x?sig=a&auth=b&credentials=c", "/x?sig=***&auth=***&credentials=***"),
        # A name percent-encoded still names a secret.
        ("/x?%74oken=abc&x=1", "/x?%74oken=***&x=1"),
        # Tokens and webhook secrets are known by their prefix wherever they are.
        ("/x?cursor=fct_Ab-9_z&q=1", "/x?cursor=fct_***&q=1"),
        ("/hooks/whsec_Zx%2Dy/ping", "/hooks/whsec_***/ping"),
        ("Bearer fct_abcDEF123", "Bearer fct_***"),
        # A desk sign-in link, in its request line and in the Referer of its page's assets.
        ("GET /desk/login/fcl_Ab-9_z HTTP/1.1", "GET /desk/login/fcl_*** HTTP/1.1"),
        (
            "https://example.org/?next=%2F&token=t#frag",
            "https://example.org/?next=%2F&token=***#frag",
        ),
    ],
)
def test_secrets_are_masked(text, redacted):
    assert redact_secrets(text) == redacted


@pytest.mark.parametrize(
    "text",
    [
        "GET /api/v1/claims?q=token&status=new&cursor=MTIz HTTP/1.1",
        "/x?monkey=1&keyword=secret&tokens_total=3",
        "/api/v1/articles?source=fct-news",
        "-",
    ],
)
def test_everything_else_is_left_alone(text):
    assert redact_secrets(text) == text
