"""Serving the web UI: the page at `/`, its assets under `/ui/`, beside the API.

An outer ASGI layer rather than a route or a `Mount`, so the page and its assets still load
while maintenance answers every API call with 503: the banner has to be able to say why.
Everything else (/api/v1, /ws/updates, /health, /docs) passes through untouched.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from starlette.exceptions import HTTPException
from starlette.responses import PlainTextResponse
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

STATIC_DIR = Path(__file__).resolve().parent / "static"
ASSET_PREFIX = "/ui"
INDEX_PATHS = frozenset({"/", "/index.html"})

# The UI needs nothing from another origin: scripts, styles and the socket are all ours.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
HEADERS: list[tuple[bytes, bytes]] = [
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    # Revalidate every time (cheap with ETags), so a deploy is picked up on reload.
    (b"cache-control", b"no-cache"),
]


class WebUI:
    """ASGI middleware answering GET/HEAD for the UI's paths from `directory`."""

    def __init__(self, app: ASGIApp, directory: Path = STATIC_DIR) -> None:
        self.app = app
        self.files = StaticFiles(directory=directory)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = ui_path(scope)
        if path is None:
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                kept = [
                    (k, v) for k, v in message.get("headers", []) if k.lower() != b"cache-control"
                ]
                message = {**message, "headers": kept + HEADERS}
            await send(message)

        child = {**scope, "path": path, "root_path": ""}
        try:
            await self.files(child, receive, with_headers)
        except HTTPException as exc:
            # Outside the app's exception middleware: answer the 404/405 here, not as a 500.
            response = PlainTextResponse(exc.detail, status_code=exc.status_code)
            await response(scope, receive, send)


def ui_path(scope: Scope) -> str | None:
    """The file path a request for the UI means, or None when it is not for the UI."""
    if scope["type"] != "http" or scope.get("method") not in ("GET", "HEAD"):
        return None
    path: str = scope["path"]
    if path in INDEX_PATHS:
        return "/index.html"
    if path.startswith(ASSET_PREFIX + "/"):
        return path[len(ASSET_PREFIX) :]
    return None


def install(app: FastAPI, directory: Path = STATIC_DIR) -> None:
    """Serve the UI from `app`; call after the app's own middleware so this wraps it."""
    app.add_middleware(WebUI, directory=directory)
