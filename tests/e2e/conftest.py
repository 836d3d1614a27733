"""What the end-to-end tests of webhooks share: a local receiver, and an API that may reach it."""

from __future__ import annotations

from dataclasses import replace

import pytest

from service.app import create_app
from tests.webhook_receiver import Receiver


@pytest.fixture
def receiver():
    server = Receiver()
    yield server
    server.stop()


@pytest.fixture
def local(settings):
    """A test client of an API that lets webhooks reach private addresses (the receiver)."""
    return create_app(replace(settings, webhook_allow_private=True)).test_client()
