"""Adapter tests use the shared fixtures in tests/conftest.py (app, client, settings...)."""
