"""One flask-smorest Blueprint per resource; views are thin."""

from __future__ import annotations

from flask import current_app
from sqlalchemy.orm import Session

from service.app import Services


def services() -> Services:
    found: Services = current_app.extensions["factcheck"]
    return found


def db() -> Session:
    """The current request's session."""
    return services().session()
