from __future__ import annotations

from tests.support.llm_standin import llm_standin  # noqa: F401 - fixtures, found by name
from tests.support.news_site import news_site  # noqa: F401
