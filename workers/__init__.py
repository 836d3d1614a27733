"""Celery workers: the app, thin tasks, and the pure claim-extraction engine."""
