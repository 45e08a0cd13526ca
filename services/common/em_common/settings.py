"""Settings rules shared by every process (12-factor: everything from the environment).

Each service declares one `BaseServiceSettings` subclass and builds it in `main()` through
`load()`, which turns any problem into a single line naming the variable — never its value.
Outside development a missing or placeholder secret is refused (the full-stack template's
`_check_default_secret`, made strict).
"""

from __future__ import annotations

from typing import ClassVar, Literal, Self, TypeVar

from pydantic import SecretStr, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from em_common import errors

PLACEHOLDERS = frozenset(
    {"", "changethis", "changeme", "change-me", "secret", "placeholder", "todo", "xxx", "none"}
)

S = TypeVar("S", bound="BaseServiceSettings")


def is_placeholder(value: str) -> bool:
    """True for empty values and the well-known stand-ins people leave in example files."""
    lowered = value.strip().lower()
    return lowered in PLACEHOLDERS or "changethis" in lowered or "changeme" in lowered


class BaseServiceSettings(BaseSettings):
    """Common settings; subclasses list their secrets in `required_secrets`."""

    model_config = SettingsConfigDict(extra="ignore", case_sensitive=False, frozen=True)

    required_secrets: ClassVar[tuple[str, ...]] = ()

    em_env: Literal["development", "test", "production"] = "production"
    log_level: str = "INFO"

    @property
    def is_development(self) -> bool:
        return self.em_env in ("development", "test")

    @model_validator(mode="after")
    def _check_secrets(self) -> Self:
        if self.is_development:
            return self
        bad = []
        for name in self.required_secrets:
            raw = getattr(self, name)
            value = raw.get_secret_value() if isinstance(raw, SecretStr) else str(raw or "")
            if is_placeholder(value):
                bad.append(name.upper())
        if len(bad) == 1:
            raise ValueError(f"{bad[0]} is missing or a placeholder")
        if bad:
            raise ValueError(f"{', '.join(bad)} are missing or placeholders")
        return self


def load(cls: type[S]) -> S:
    """Build settings from the environment or raise ConfigError with one readable line."""
    try:
        return cls()
    except ValidationError as exc:
        problems = []
        for err in exc.errors(include_input=False, include_url=False):
            where = ".".join(str(part) for part in err["loc"]).upper()
            message = str(err["msg"]).removeprefix("Value error, ")
            problems.append(f"{where}: {message}" if where else message)
        raise errors.ConfigError("invalid settings: " + "; ".join(problems)) from None


def secret_value(value: SecretStr | str) -> str:
    """The plain value of a setting that may or may not be wrapped in SecretStr."""
    return value.get_secret_value() if isinstance(value, SecretStr) else value
