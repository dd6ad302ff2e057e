"""Fixtures of the plugin tests: the engine end-to-end tests' tiny random-weight model bundle."""

from tests.engine.server.conftest import tiny_bundle  # noqa: F401  (a shared fixture)
