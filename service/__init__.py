"""Fact-check annotation service: the Flask API, its domain logic and persistence."""
