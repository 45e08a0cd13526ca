"""Helpers and fixtures shared by the tests (real servers, no mocks)."""
