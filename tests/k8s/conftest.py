"""Fixtures for the control-plane tests.

pytest only honours `pytest_plugins` in the rootdir conftest, so the plugin is
registered here by name instead; that is a no-op when the root conftest lists it too.
"""

from __future__ import annotations

import pytest


def pytest_configure(config: pytest.Config) -> None:
    if not config.pluginmanager.has_plugin("tests.support.kube_fixtures"):
        config.pluginmanager.import_plugin("tests.support.kube_fixtures")
