"""The Reality Engine's settings, all from the environment (built in `main`, never at import)."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from pydantic import Field, SecretStr

from em_common import settings


class RealitySettings(settings.BaseServiceSettings):
    required_secrets: ClassVar[tuple[str, ...]] = ("database_url", "reality_api_secret")

    database_url: str = ""
    nats_url: str = "nats://127.0.0.1:4222"
    reality_api_secret: SecretStr = SecretStr("")
    backend_url: str = "http://127.0.0.1:8000"
    sources_file: Path = Path("sources.yaml")
    poll_interval: float = Field(300.0, ge=1)

    llm_base_url: str = ""
    llm_model: str = ""
    llm_api_key: SecretStr = SecretStr("")
    llm_calls_per_hour: int = Field(10, ge=0)
    llm_timeout: float = Field(30.0, gt=0)

    reality_host: str = "0.0.0.0"
    reality_port: int = Field(8002, ge=0, le=65535)
    # Substituted for ${NEWSROOM_URL} in the sources file (the demo newsroom's address).
    newsroom_url: str = "http://127.0.0.1:8003"
    reality_user_agent: str = "EverythingMarketBot/0.1 (+https://everything.market/bot)"
    reality_fetch_timeout: float = Field(20.0, gt=0)
    reality_min_chars: int = Field(300, ge=0)
    reality_languages: str = "en"
    reality_chromium: Path = Path("/usr/bin/chromium")
    reality_publish_timeout: float = Field(5.0, gt=0)

    @property
    def llm_configured(self) -> bool:
        return bool(self.llm_base_url.strip() and self.llm_model.strip())

    @property
    def languages(self) -> frozenset[str]:
        return frozenset(part.strip() for part in self.reality_languages.split(",") if part.strip())

    @property
    def signing_secret(self) -> str:
        return settings.secret_value(self.reality_api_secret)
