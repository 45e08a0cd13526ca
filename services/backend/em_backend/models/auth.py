"""Trader sign-up and sign-in as the API sees them."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

Username = Annotated[
    str, Field(min_length=3, max_length=32, pattern=r"^[A-Za-z0-9_.-]+$", examples=["alice"])
]


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: Username
    password: str = Field(min_length=8, max_length=128, examples=["correct horse battery"])


class LoginBody(BaseModel):
    """Also accepted as an OAuth2 password-flow form (`username`, `password`)."""

    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=128)


class TokenPublic(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int = Field(description="Seconds until the token expires")


class TraderPublic(BaseModel):
    user_id: int
    username: str
    account_id: int
    created_at: datetime
